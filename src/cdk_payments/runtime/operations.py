"""Capture, void and refund: each one a transition of ``states`` stored race-free, then the provider's
answer, then the event.

Every change of a payment's item is conditioned on the ``version`` it read (``transition``): two
requests that race (two refunds, a capture and a void) both decide on what they read, and only the
first write succeeds; the other reads again and decides again, so it is refused when the first one
left nothing for it. The transition is stored *before* the provider is called, with the operation
``PENDING``, so that no concurrent request can act on a state the provider is about to change:

- APPROVED: the operation is marked ``SUCCEEDED`` and its event is put on the bus;
- DECLINED, RETRYABLE, unsupported, or an exception: the transition is undone, so a refused request
  leaves the payment as it was (422 ``provider_declined``, 503 ``provider_unavailable``, 501);
- UNKNOWN: the operation stays ``PENDING`` and a message asks the event handler to send it again
  (same ``operation_id``, which the provider uses as its idempotency key) until it is settled.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional

from botocore.exceptions import ClientError

from . import bus, clients, providers, states
from .errors import ApiError
from .observability import logger

ATTEMPTS = 8  # optimistic retries of one transition under contention
_NAMESPACE = uuid.UUID("6c0f3b8a-2f57-4c1e-9a84-0b7d5d8e9a11")
OPERATIONS = ("capture", "void", "refund")
EVENT_TYPE = {"capture": "Payment Captured", "void": "Payment Voided", "refund": "Payment Refunded"}


def operation_id(merchant: str, payment_id: str, operation: str, idempotency_key: str) -> str:
    """The same for every retry of one request, so the provider acts on it at most once."""
    return str(uuid.uuid5(_NAMESPACE, f"{merchant}:{payment_id}:{operation}:{idempotency_key}"))


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def load(merchant: Optional[str], payment_id: str) -> dict[str, Any]:
    """The payment, read consistently; another merchant's payment does not exist for the caller."""
    item = clients.table().get_item(Key={"payment_id": payment_id}, ConsistentRead=True).get("Item")
    if not item or "status" not in item or (merchant is not None and item.get("merchant_id") != merchant):
        raise ApiError(404, "payment_not_found", "no payment with this id")
    return item


def transition(merchant: Optional[str], payment_id: str,
               decide: Callable[[dict[str, Any]], Optional[dict[str, Any]]]) -> dict[str, Any]:
    """Apply ``decide(payment)`` (the attributes to set; None as a value removes one) to the stored
    payment if nothing changed it since it was read; read and decide again otherwise."""
    for _ in range(ATTEMPTS):
        payment = load(merchant, payment_id)
        changes = decide(payment)
        if changes is None:
            return payment
        version = int(payment.get("version", 0))
        changes = {**changes, "version": version + 1, "updated_at": now()}
        sets = {k: v for k, v in changes.items() if v is not None}
        removes = [k for k, v in changes.items() if v is None]
        names = {f"#a{i}": k for i, k in enumerate(changes)}
        index = {k: i for i, k in enumerate(changes)}
        expression = "SET " + ", ".join(f"#a{index[k]} = :a{index[k]}" for k in sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#a{index[k]}" for k in removes)
        condition = "#status = :status AND " + ("attribute_not_exists(#version)" if version == 0 else "#version = :version")
        values = {f":a{index[k]}": v for k, v in sets.items()}
        values[":status"] = payment["status"]
        if version:
            values[":version"] = version
        try:
            clients.table().update_item(
                Key={"payment_id": payment_id}, UpdateExpression=expression, ConditionExpression=condition,
                ExpressionAttributeNames={**names, "#status": "status", "#version": "version"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            continue  # changed under us: decide again on what is stored now
        return {**{k: v for k, v in payment.items() if k not in removes}, **sets}
    raise ApiError(409, "payment_busy", "the payment is changing under many concurrent requests; retry with the same "
                   "Idempotency-Key")


# -- what each operation stores -------------------------------------------------------------------------
def _start(operation: str, payment: Mapping[str, Any], op_id: str, amount: Optional[int],
           reason: Optional[str]) -> Optional[dict[str, Any]]:
    if operation == "capture":
        if payment.get("capture_id") == op_id:
            return None  # this very request already stored it
        return {**states.capture(payment, amount), "capture_id": op_id, "capture_status": "PENDING",
                "capture_prior_status": payment["status"]}
    if operation == "void":
        if payment.get("void_id") == op_id:
            return None
        return {**states.void(payment), "void_id": op_id, "void_status": "PENDING",
                "void_prior_status": payment["status"]}
    refunds = list(payment.get("refunds") or [])
    if any(r["refund_id"] == op_id for r in refunds):
        return None
    assert amount is not None
    changes = states.refund(payment, amount)
    refund = {"refund_id": op_id, "amount": amount, "status": "PENDING", "created_at": now()}
    if reason:
        refund["reason"] = reason
    return {**changes, "refunds": [*refunds, refund]}


def _finish(operation: str, payment: Mapping[str, Any], op_id: str, reference: Optional[str]) -> Optional[dict[str, Any]]:
    if operation in ("capture", "void"):
        if payment.get(f"{operation}_id") != op_id or payment.get(f"{operation}_status") != "PENDING":
            return None
        return {f"{operation}_status": "SUCCEEDED", f"{operation}_reference": reference,
                f"{operation}_prior_status": None}
    refunds = [dict(r) for r in payment.get("refunds") or []]
    for refund in refunds:
        if refund["refund_id"] == op_id and refund["status"] == "PENDING":
            refund["status"] = "SUCCEEDED"
            if reference:
                refund["provider_reference"] = reference
            return {"refunds": refunds}
    return None


def _undo(operation: str, payment: Mapping[str, Any], op_id: str) -> Optional[dict[str, Any]]:
    if operation in ("capture", "void"):
        if payment.get(f"{operation}_id") != op_id or payment.get(f"{operation}_status") != "PENDING":
            return None
        undo = {"status": payment[f"{operation}_prior_status"], f"{operation}_id": None,
                f"{operation}_status": None, f"{operation}_prior_status": None}
        if operation == "capture":
            undo["captured_amount"] = None
        return undo
    refunds = [r for r in payment.get("refunds") or [] if r["refund_id"] != op_id]
    if len(refunds) == len(payment.get("refunds") or []):
        return None
    return {"refunds": refunds, "status": states.after_refunds({**payment, "refunds": refunds})}


def _request(operation: str, payment: Mapping[str, Any], op_id: str) -> providers.OperationRequest:
    if operation == "refund":
        refund = next(r for r in payment["refunds"] if r["refund_id"] == op_id)
        amount, reason = int(refund["amount"]), refund.get("reason")
    else:
        amount, reason = int(payment.get("captured_amount", payment["amount"])), None
    return providers.OperationRequest(
        operation_id=op_id, payment_id=payment["payment_id"], provider_reference=payment.get("provider_reference"),
        amount=amount, currency=payment["currency"], merchant_id=payment["merchant_id"], reason=reason,
    )


def _ask(operation: str, payment: Mapping[str, Any], op_id: str) -> providers.Authorization:
    adapter = providers.provider()
    return getattr(adapter, operation)(_request(operation, payment, op_id), providers.credentials())


# -- the operation, from request to event ---------------------------------------------------------------
def perform(operation: str, merchant: str, payment_id: str, op_id: str, *, amount: Optional[int] = None,
            reason: Optional[str] = None) -> tuple[int, dict[str, Any]]:
    """Store the transition, ask the provider, settle it: (HTTP status, answer)."""
    payment = transition(merchant, payment_id, lambda p: _start(operation, p, op_id, amount, reason))
    try:
        answer = _ask(operation, payment, op_id)
    except providers.UnsupportedOperation as error:
        transition(merchant, payment_id, lambda p: _undo(operation, p, op_id))
        raise ApiError(501, "operation_unsupported", f"the payment provider's adapter does not support {operation}: "
                       f"{error}") from None
    except Exception:
        transition(merchant, payment_id, lambda p: _undo(operation, p, op_id))
        raise
    logger.info("provider answered", extra={"payment_id": payment_id, "operation": operation,
                                            "outcome": answer.outcome.value, "detail": answer.detail})
    if answer.outcome is providers.Outcome.APPROVED:
        return 200, settle(operation, merchant, payment_id, op_id, answer)
    if answer.outcome is providers.Outcome.UNKNOWN:
        clients.sqs().send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(
            {"payment_id": payment_id, "operation": operation, "operation_id": op_id}))
        return 202, summary(operation, load(merchant, payment_id), op_id)
    transition(merchant, payment_id, lambda p: _undo(operation, p, op_id))
    if answer.outcome is providers.Outcome.DECLINED:
        raise ApiError(422, "provider_declined", f"the payment provider declined the {operation}: "
                       f"{answer.decline_reason or 'declined'}")
    raise ApiError(503, "provider_unavailable", "the payment provider is unavailable; retry with the same "
                   "Idempotency-Key")


def settle(operation: str, merchant: Optional[str], payment_id: str, op_id: str,
           answer: providers.Authorization) -> dict[str, Any]:
    """Record an APPROVED or DECLINED answer (from the API or the event handler) and announce it."""
    if answer.outcome is providers.Outcome.APPROVED:
        before = load(merchant, payment_id)
        if _finish(operation, before, op_id, answer.reference) is not None:
            # Announced before it is stored: a failure in between announces it again (same event id).
            bus.put(EVENT_TYPE[operation], before, before["status"], event=f"{operation}:{op_id}",
                    extra=_event_extra(operation, before, op_id))
        payment = transition(merchant, payment_id, lambda p: _finish(operation, p, op_id, answer.reference))
    else:
        payment = transition(merchant, payment_id, lambda p: _undo(operation, p, op_id))
    return summary(operation, payment, op_id)


def _event_extra(operation: str, payment: Mapping[str, Any], op_id: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"operation": operation, "operation_id": op_id,
                             "captured_amount": states.captured_amount(payment),
                             "refunded_amount": states.refunded_amount(payment)}
    if operation == "refund":
        extra["refund_amount"] = next(int(r["amount"]) for r in payment["refunds"] if r["refund_id"] == op_id)
    return extra


def summary(operation: str, payment: Mapping[str, Any], op_id: str) -> dict[str, Any]:
    """The answer: the refund for a refund, the payment otherwise."""
    if operation == "refund":
        for refund in payment.get("refunds") or []:
            if refund["refund_id"] == op_id:
                return public_refund(payment, refund)
    return public_payment(payment)


PUBLIC_FIELDS = ("payment_id", "merchant_id", "amount", "currency", "status", "description", "metadata",
                 "created_at", "updated_at", "decline_reason", "capture", "captured_amount", "capture_status",
                 "void_status")


def public_payment(payment: Mapping[str, Any]) -> dict[str, Any]:
    public = {field: payment[field] for field in PUBLIC_FIELDS if field in payment}
    public["capture"] = states.capture_mode(payment)
    public["captured_amount"] = states.captured_amount(payment)
    public["refunded_amount"] = states.refunded_amount(payment)
    return json.loads(json.dumps(public, default=int))


def public_refund(payment: Mapping[str, Any], refund: Mapping[str, Any]) -> dict[str, Any]:
    public = {"refund_id": refund["refund_id"], "payment_id": payment["payment_id"], "amount": int(refund["amount"]),
              "currency": payment["currency"], "status": refund["status"], "created_at": refund["created_at"]}
    if refund.get("reason"):
        public["reason"] = refund["reason"]
    return public


def resolve(message: Mapping[str, Any]) -> None:
    """The event handler's part: send an operation whose outcome was unknown again, and settle it."""
    operation, payment_id, op_id = message["operation"], message["payment_id"], message["operation_id"]
    payment = load(None, payment_id)
    if _finish(operation, payment, op_id, None) is None:
        return  # settled already
    answer = _ask(operation, payment, op_id)
    if answer.outcome not in (providers.Outcome.APPROVED, providers.Outcome.DECLINED):
        raise OutcomeUnknown(f"{operation} {op_id} of payment {payment_id}: {answer.outcome.value}")
    settle(operation, None, payment_id, op_id, answer)


class OutcomeUnknown(Exception):
    """The provider cannot tell yet; SQS redelivers the message."""
