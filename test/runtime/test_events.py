from __future__ import annotations

import json
from unittest import mock

import pytest

from cdk_payments.runtime import api, clients, events

from .conftest import REGION, FakeContext, api_event, valid_body


def accept(aws, token="tok_visa_abcdef12", key="order-0001-key"):
    response = api.handler(
        api_event("POST", "/payments", body=valid_body(payment_method_token=token), headers={"Idempotency-Key": key}),
        FakeContext(),
    )
    return json.loads(response["body"])["payment_id"]


def sqs_event(*bodies):
    return {
        "Records": [
            {"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body,
             "attributes": {"ApproximateReceiveCount": "1"},
             "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
             "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:payments", "awsRegion": REGION}
            for i, body in enumerate(bodies)
        ]
    }


def record_of(body: str):
    """The event handler's record of one queued message (message id m0)."""
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return SQSRecord(sqs_event(body)["Records"][0])


def status_of(aws, payment_id):
    return aws.table.get_item(Key={"payment_id": payment_id})["Item"]["status"]


def test_settles_authorized_and_declined_payments_and_announces_them(aws, captured_events):
    ok = accept(aws)
    declined = accept(aws, token="tok_decline_card", key="order-0002-key")
    result = events.handler(sqs_event(json.dumps({"payment_id": ok}), json.dumps({"payment_id": declined})),
                            FakeContext())
    assert result == {"batchItemFailures": []}
    assert status_of(aws, ok) == "PROCESSED" and status_of(aws, declined) == "FAILED"
    kinds = sorted((e["DetailType"], json.loads(e["Detail"])["payment_id"]) for e in captured_events)
    assert kinds == sorted([("Payment Processed", ok), ("Payment Failed", declined)])
    assert all(e["EventBusName"] == "payments" and e["Source"] == "cdk-payments" for e in captured_events)


def test_redelivery_of_a_settled_payment_changes_nothing(aws, captured_events):
    ok = accept(aws)
    message = json.dumps({"payment_id": ok})
    events.handler(sqs_event(message), FakeContext())
    events.handler(sqs_event(message), FakeContext())
    assert len(captured_events) == 1


def test_poison_messages_fail_alone(aws, captured_events):
    ok = accept(aws)
    result = events.handler(
        sqs_event("not json", json.dumps({"payment_id": ok}), json.dumps({"payment_id": "missing"}),
                  json.dumps({"other": 1})),
        FakeContext(),
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"},
                                            {"itemIdentifier": "m3"}]}
    assert status_of(aws, ok) == "PROCESSED"


def test_transient_failure_is_retried_then_succeeds(aws):
    ok = accept(aws)
    failing = mock.Mock(put_events=mock.Mock(return_value={"FailedEntryCount": 1, "Entries": []}))
    with mock.patch.object(clients, "events", return_value=failing):
        result = events.handler(sqs_event(json.dumps({"payment_id": ok})), FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert status_of(aws, ok) == "PENDING"
    assert events.handler(sqs_event(json.dumps({"payment_id": ok})), FakeContext()) == {"batchItemFailures": []}
    assert status_of(aws, ok) == "PROCESSED"


def test_poison_message_reaches_the_dlq_after_max_receives(aws):
    """End to end through SQS: a message that always fails is moved to the DLQ by the redrive policy."""
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody="not json")
    for _ in range(3):
        received = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10)["Messages"]
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn", "awsRegion": REGION} for m in received]
        result = events.handler({"Records": records}, FakeContext())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in received:  # what Lambda's event source mapping does with the response
            if m["MessageId"] not in failed:
                aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert aws.sqs.receive_message(QueueUrl=aws.queue_url).get("Messages") is None
    (dead,) = aws.sqs.receive_message(QueueUrl=aws.dlq_url)["Messages"]
    assert dead["Body"] == "not json"


@pytest.mark.parametrize("body,reason", [("not json", "has no payment_id"),
                                         (json.dumps({"other": 1}), "has no payment_id"),
                                         (json.dumps({"payment_id": 7}), "has a malformed payment_id")])
def test_a_poison_message_is_named_with_what_is_wrong(aws, body, reason):
    with pytest.raises(events.PoisonMessage, match=f"^message m0 {reason}$"):
        events.settle(record_of(body))
