"""One merchant's whole lifecycle, from the API to a verified webhook: authorize, capture, two partial
refunds, an over-refund refused, a void before capture, and every event delivered to the merchant's
local receiver (verified with the standardwebhooks package), the first attempt answered with 500
and retried. Every AWS call the handlers make is judged by the IAM simulator (test/iam)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from cdk_payments.payment_api.webhooks import EVENT_SOURCE
from cdk_payments.runtime import states, webhooks

from .test_lifecycle import create, op, settle_queue, stored
from .test_webhooks import SECRET, clock, queues, receiver, register  # noqa: F401 - fixtures

MERCHANT = "merchant-42"


def routed(entries):
    """What the construct's rule puts on the delivery queue: each matching entry in its EventBridge
    envelope (source cdk-payments, a ``Payment ...`` detail type, a merchant with an endpoint)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for entry in entries:
        detail = json.loads(entry["Detail"])
        if entry["Source"] == EVENT_SOURCE and entry["DetailType"].startswith("Payment ") \
                and detail["merchant_id"] == MERCHANT:
            yield json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"],
                              "source": entry["Source"], "account": "123456789012", "time": now,
                              "region": "us-east-1", "resources": [], "detail": detail})


def deliver_queued(sqs, queue):
    """One run of the delivery function over what is visible in the queue; returns the failed ids."""
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks", "awsRegion": "us-east-1"}
               for m in messages]
    result = webhooks.handler({"Records": records}, None)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:  # what Lambda does with a partial batch response: delete the successes
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return failed, len(messages)


def test_lifecycle_to_a_verified_webhook_with_a_retry_after_500(aws, captured_events, queues, receiver):  # noqa: F811
    sqs, queue, dlq = queues
    endpoint = receiver(500)  # the first delivery is refused with 500
    register(endpoint.url, MERCHANT)

    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    assert stored(aws, payment_id)["status"] == states.AUTHORIZED
    assert op("POST", payment_id, "capture", {"amount": 1000}, key="capture-0001")[1]["status"] == "CAPTURED"
    assert op("POST", payment_id, "refunds", {"amount": 300}, key="refund-0001")[0] == 200
    assert op("POST", payment_id, "refunds", {"amount": 500}, key="refund-0002")[0] == 200
    before = stored(aws, payment_id)
    status, body = op("POST", payment_id, "refunds", {"amount": 201}, key="refund-0003")
    assert status == 422 and body["error"]["code"] == "amount_exceeds_refundable" and stored(aws, payment_id) == before
    other = create(aws, key="order-0002-create", capture="manual")
    assert op("POST", other, "void", key="void-0001")[1]["status"] == "VOIDED"

    bodies = list(routed(captured_events))
    types = [json.loads(b)["detail-type"] for b in bodies]
    assert {"Payment Authorized", "Payment Captured", "Payment Refunded", "Payment Voided"} <= set(types)
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    # First run: the receiver answers 500 to the first delivery; the merchant's other messages in the
    # batch wait out their backoff without another attempt (one failing endpoint, one timeout).
    failed, seen = deliver_queued(sqs, queue)
    assert seen == len(bodies) and len(failed) == len(bodies) and len(endpoint.verified) == 1
    time.sleep(webhooks.FIRST_DELAY_SECONDS + 0.5)  # each retry comes back after its own backoff (5 s)
    failed, seen = deliver_queued(sqs, queue)
    assert failed == set() and seen == len(bodies)
    assert endpoint.refused == []  # every delivery's signature verified
    delivered = {(e["type"], e["data"]["event_id"]) for e in endpoint.verified}
    assert {t for t, _ in delivered} >= {"payment.authorized", "payment.captured", "payment.refunded",
                                         "payment.voided"}
    assert len(delivered) == len(bodies)  # the 500'd event came again with the same webhook-id, verified
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    assert SECRET.startswith("whsec_")
