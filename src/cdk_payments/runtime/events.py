"""The queue consumer: settles each payment as PROCESSED (AUTHORIZED with manual capture) or FAILED and
announces it on EventBridge; it also settles captures, voids and refunds whose outcome was unknown.

A payment the processor recorded as UNKNOWN (the provider's answer was lost) is resolved here through
the adapter's ``status`` call; while the provider still cannot tell, the message is retried and,
after the queue's maxReceiveCount, parked in the DLQ with the payment still UNKNOWN (redrive it).
A decline the processor already recorded as FAILED is only announced.

Partial batch failures: a message that fails (a transient AWS error, or a poison message that can
never succeed) is reported back to SQS alone; after the queue's maxReceiveCount it goes to the DLQ.
Delivery of the announcement is at least once: it is sent before the status changes.
"""

from __future__ import annotations

import gc
import json
import os
from datetime import datetime, timezone
from typing import Any

# No garbage collection while the handler's dependencies load, none of them later: see runtime/api.py.
_collecting = gc.isenabled()
gc.disable()
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from . import bus, clients, operations, providers, states
from .observability import logger, metrics, tracer

gc.freeze()
if _collecting:
    gc.enable()

# Report every failed message, even when the whole batch failed, instead of failing the invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Settled, or moved on by a capture, void or refund: settlement never overwrites these.
FINAL = states.FINAL
# How soon a message that overtook the processor's record of the outcome is received again.
OVERTAKEN_RETRY_SECONDS = 2


class PoisonMessage(Exception):
    """A message that can never be processed; it reaches the DLQ after the queue's retries."""


class OutcomeStillUnknown(Exception):
    """The provider cannot tell yet; SQS redelivers the message."""


def _payment_id(record: SQSRecord) -> str:
    try:
        payment_id = json.loads(record.body)["payment_id"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise PoisonMessage(f"message {record.message_id} has no payment_id") from None
    if not isinstance(payment_id, str):
        raise PoisonMessage(f"message {record.message_id} has a malformed payment_id")
    return payment_id


@tracer.capture_method
def settle(record: SQSRecord) -> None:
    payment_id = _payment_id(record)
    if "operation" in record.json_body:  # a capture, void or refund whose outcome was unknown
        _resolve_operation(record)
        return
    payment = clients.table().get_item(Key={"payment_id": payment_id}, ConsistentRead=True).get("Item")
    if payment is None:
        raise PoisonMessage(f"payment {payment_id} does not exist")
    if "claim" in payment:  # the message overtook the processor's record of the outcome (runtime/intake.py)
        _look_again_soon(record)
        raise OutcomeStillUnknown(f"payment {payment_id} is still being recorded")
    prior = payment["status"]
    if prior in FINAL and payment.get("announced") is not False:
        logger.info("already settled", extra={"payment_id": payment_id, "status": prior})
        return
    changes: dict[str, Any] = {}
    if prior == "UNKNOWN":
        changes = _resolve(payment)
        payment = {**payment, **changes}
    status = states.settled_status(payment)  # AUTHORIZED for a manual-capture payment
    _announce(payment, status)
    changes.update({"status": status, "updated_at": datetime.now(timezone.utc).isoformat()})
    names = {f"#{index}": name for index, name in enumerate(changes)}
    values = {f":{index}": value for index, value in enumerate(changes.values())}
    try:
        clients.table().update_item(
            Key={"payment_id": payment_id},
            UpdateExpression="SET " + ", ".join(f"#{i} = :{i}" for i in range(len(changes))) + " REMOVE announced",
            ConditionExpression="#status = :prior" + (" AND attribute_exists(announced)" if prior in FINAL else ""),
            ExpressionAttributeNames={**names, "#status": "status"},
            ExpressionAttributeValues={**values, ":prior": prior},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise  # transient: SQS redelivers
        logger.info("settled concurrently", extra={"payment_id": payment_id})
        return
    logger.info("payment settled", extra={"payment_id": payment_id, "status": status})
    metrics.add_metric(name=f"Payment{status.title()}", unit=MetricUnit.Count, value=1)


def _look_again_soon(record: SQSRecord) -> None:
    """A message that overtook the outcome's record comes back in seconds, not after the queue's
    visibility timeout (six function timeouts). Only on its first receive: a claim still held after
    that belongs to a slow or killed processor, and the queue's timeout gives it room before the DLQ."""
    if int(record.attributes.approximate_receive_count) == 1:
        clients.sqs().change_message_visibility(QueueUrl=os.environ["QUEUE_URL"], ReceiptHandle=record.receipt_handle,
                                                VisibilityTimeout=OVERTAKEN_RETRY_SECONDS)


def _resolve_operation(record: SQSRecord) -> None:
    message = record.json_body
    if message.get("operation") not in operations.OPERATIONS or not isinstance(message.get("operation_id"), str):
        raise PoisonMessage(f"message {record.message_id} names no known operation")
    try:
        operations.resolve(message)
    except operations.ApiError as error:  # the payment is gone or the operation cannot apply any more
        raise PoisonMessage(f"message {record.message_id}: {error.code}") from None
    except operations.OutcomeUnknown as error:
        logger.warning("provider outcome still unknown", extra={"payment_id": message["payment_id"]})
        raise OutcomeStillUnknown(str(error)) from None


def _resolve(payment: dict[str, Any]) -> dict[str, Any]:
    """Ask the provider what became of an UNKNOWN payment; the fields its answer changes."""
    request = providers.AuthorizationRequest(
        payment_id=payment["payment_id"], payment_method_token=payment["payment_method_token"],
        amount=int(payment["amount"]), currency=payment["currency"], merchant_id=payment["merchant_id"],
    )
    answer = providers.provider().status(request, providers.credentials())
    if answer.outcome not in (providers.Outcome.APPROVED, providers.Outcome.DECLINED):
        logger.warning("provider outcome still unknown",
                       extra={"payment_id": payment["payment_id"], "detail": answer.detail})
        raise OutcomeStillUnknown(f"payment {payment['payment_id']}: {answer.outcome.value}")
    changes: dict[str, Any] = {"authorized": answer.approved}
    if answer.reference:
        changes["provider_reference"] = answer.reference
    if answer.decline_reason:
        changes["decline_reason"] = answer.decline_reason
    return changes


def _announce(payment: dict[str, Any], status: str) -> None:
    # The event's id names the settlement, so a redelivered message announces the same event again.
    bus.put(f"Payment {status.title()}", payment, status, event=f"settle:{status}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
