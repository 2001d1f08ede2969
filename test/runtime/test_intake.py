"""POST /payments' write path (runtime/intake.py): one provider key per request, whatever fails, and
what it asks of AWS (two sequential round trips, each call allowed by the processor's grants)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError

from cdk_payments.payment_api.handlers import PROCESSOR_TABLE_ACTIONS
from cdk_payments.runtime import api, clients, intake

from .conftest import REGION, ROLE_ARNS, FakeContext, api_event, valid_body
from .test_http_end_to_end import provider_at  # noqa: F401 (the fake HTTP provider, as a fixture)

KEY = "order-intake-0001"
# sha256 of valid_body()'s canonical JSON (keys sorted, no spaces), merchant_id set: fixed for ever.
REQUEST_HASH = "77d2d2d23a2725658b223a23f7f876a7fe64a968f5d884920f52520049ead33a"


def post(key=KEY, context=None, **overrides):
    event = api_event("POST", "/payments", body=valid_body(**overrides), headers={"Idempotency-Key": key})
    response = api.handler(event, context or FakeContext())
    return response["statusCode"], json.loads(response["body"])


def call(event):
    response = api.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def authorizations(fake):
    """The idempotency keys of the authorizations the provider received, in order."""
    return [r.headers["Idempotency-Key"] for r in fake.received if r.method == "POST"]


def test_the_payment_id_is_derived_from_merchant_and_key_and_never_holds_the_key():
    payment_id = intake.payment_id_for("merchant-42", KEY)
    assert payment_id == intake.payment_id_for("merchant-42", KEY)
    assert payment_id != intake.payment_id_for("merchant-43", KEY)
    assert payment_id != intake.payment_id_for("merchant-42", KEY + "x")
    assert api.PAYMENT_ID.match(payment_id) and KEY not in payment_id


def test_a_failed_enqueue_after_approval_then_a_retry_authorizes_once(aws, provider_at):  # noqa: F811
    with mock.patch.object(clients, "sqs") as sqs:
        sqs.return_value.send_message.side_effect = RuntimeError("SQS unavailable")
        status, body = post()
    assert status == 500 and body["error"]["code"] == "internal_error"
    assert aws.table.scan()["Items"] == [] and aws.messages() == []
    status, body = post()
    assert status == 202 and body["status"] == "PENDING"
    # The provider saw one idempotency key twice, so it holds one authorization.
    assert authorizations(provider_at) == [body["payment_id"]] * 2
    (payment,) = aws.payments()
    assert payment["payment_id"] == body["payment_id"] and len(aws.messages()) == 1
    assert post() == (202, body)
    assert len(authorizations(provider_at)) == 2  # a replay does not ask the provider


class LambdaTimeout(BaseException):
    """Lambda stops the function: no except clause runs, nothing is cleaned up."""


class DyingContext(FakeContext):
    def get_remaining_time_in_millis(self) -> int:
        return 50


def test_a_lambda_timeout_after_the_providers_answer_then_a_retry_authorizes_once(aws, provider_at):  # noqa: F811
    with mock.patch.object(intake, "_outcome", side_effect=LambdaTimeout):
        with pytest.raises(LambdaTimeout):
            post(context=DyingContext())
    (claimed,) = aws.payments()  # what the killed function left: its claim, recorded UNKNOWN
    assert claimed["status"] == "UNKNOWN" and "claim" in claimed
    time.sleep(0.1)  # the function's deadline passes
    assert post(amount=999)[1]["error"]["code"] == "idempotency_key_reused"  # another body never takes over
    status, body = post()
    assert status == 202 and body["status"] == "PENDING"
    assert authorizations(provider_at) == [body["payment_id"]] * 2
    (payment,) = aws.payments()
    assert payment["status"] == "PENDING" and "claim" not in payment and len(aws.messages()) == 1


def test_a_live_claim_is_in_progress_and_the_message_waits_for_the_outcome(aws):
    from cdk_payments.runtime import events

    from .test_events import sqs_event

    with mock.patch.object(intake, "_outcome", side_effect=LambdaTimeout):
        with pytest.raises(LambdaTimeout):
            post()
    status, body = post()
    assert (status, body["error"]["code"]) == (409, "request_in_progress")
    payment_id = intake.payment_id_for("merchant-42", KEY)
    result = events.handler(sqs_event(json.dumps({"payment_id": payment_id})), FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}  # redelivered, the payment untouched
    assert aws.payments()[0]["status"] == "UNKNOWN"


def test_a_message_that_overtook_the_outcome_comes_back_in_seconds_once(aws, monkeypatch):
    """The queue's visibility timeout is six function timeouts: the message that raced the outcome's
    record is made visible again after OVERTAKEN_RETRY_SECONDS on its first receive only."""
    from cdk_payments.runtime import events

    with mock.patch.object(intake, "_outcome", side_effect=LambdaTimeout):
        with pytest.raises(LambdaTimeout):
            post()  # a live claim, as while the processor records the provider's answer
    payment_id = intake.payment_id_for("merchant-42", KEY)
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps({"payment_id": payment_id}))
    monkeypatch.setattr(events, "OVERTAKEN_RETRY_SECONDS", 0)  # "in seconds", without waiting them here

    def deliver() -> list[dict]:
        """Receive as Lambda's poller does (the queue's timeout: a minute), hand it to the handler."""
        received = aws.sqs.receive_message(QueueUrl=aws.queue_url, VisibilityTimeout=60,
                                           AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        for message in received:
            record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                      "body": message["Body"], "attributes": message["Attributes"], "messageAttributes": {},
                      "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "awsRegion": REGION,
                      "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:payments"}
            result = events.handler({"Records": [record]}, FakeContext())
            assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        return received

    assert [m["Attributes"]["ApproximateReceiveCount"] for m in deliver()] == ["1"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in deliver()] == ["2"]  # back at once
    assert deliver() == []  # the second receive keeps the queue's timeout: room for a slow processor
    assert aws.payments()[0]["status"] == "UNKNOWN"


def test_a_replay_after_the_idempotency_window_is_refused(aws):
    status, _ = post()
    assert status == 202
    with mock.patch.object(intake.time, "time", return_value=time.time() + 86_401):
        status, body = post()
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused")
    assert "24 hours" in body["error"]["message"] and len(aws.payments()) == 1


def recorded_calls(aws, *requests):
    """The (service, operation) of every AWS call the processor makes while answering ``requests``."""
    calls = []

    def record(model, **_):
        calls.append((model.service_model.service_name, model.name))

    for client in (clients.dynamodb(), clients.table().meta.client, clients.sqs(), clients.kms()):
        client.meta.events.register("before-call", record)
    for request in requests:
        request()
    return calls


def test_post_makes_two_sequential_round_trips_and_get_and_list_one(aws):
    claim, *parallel = recorded_calls(aws, post)  # the outcome's update and the message, in either order
    assert claim == ("dynamodb", "PutItem")
    assert sorted(parallel) == [("dynamodb", "UpdateItem"), ("sqs", "SendMessage")]
    calls = recorded_calls(aws, lambda: api.handler(api_event("GET", "/payments/" + intake.payment_id_for(
        "merchant-42", KEY)), FakeContext()), lambda: api.handler(api_event("GET", "/payments"), FakeContext()))
    assert calls == [("dynamodb", "GetItem"), ("dynamodb", "Query")]


def test_every_call_of_the_write_path_is_granted_to_the_processor(aws):
    def failing_enqueue():
        with mock.patch.object(clients.sqs(), "send_message", side_effect=RuntimeError("SQS unavailable")):
            post(key="order-intake-0002")

    calls = recorded_calls(aws, post, post, failing_enqueue)
    table_calls = {operation for service, operation in calls if service == "dynamodb"}
    assert table_calls == {"PutItem", "UpdateItem", "DeleteItem"}
    assert {f"dynamodb:{operation}" for operation in table_calls} <= set(PROCESSOR_TABLE_ACTIONS)
    # test/payment_api/test_construct.py holds the other half: the processor's policy grants these.


@pytest.fixture
def emulator(monkeypatch):
    """moto's server on 127.0.0.1, reached over HTTP by the real SDK (no in-process mock)."""
    from moto.server import ThreadedMotoServer

    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_SERVICE_NAME": "payments",
                        "POWERTOOLS_METRICS_NAMESPACE": "CdkPaymentsTest", "AUTH_MODE": "iam",
                        "MERCHANT_ROLES": json.dumps(ROLE_ARNS), "TABLE_NAME": "payments-race"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    yield
    clients.reset()
    server.stop()


def test_concurrent_posts_with_one_key_under_the_emulator_create_one_item_and_one_message(emulator, monkeypatch):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(TableName="payments-race", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}])
    sqs = boto3.client("sqs", region_name=REGION)
    monkeypatch.setenv("QUEUE_URL", sqs.create_queue(QueueName="payments")["QueueUrl"])
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="provider", SecretString=json.dumps({"api_key": "sk_test_123"}))
    monkeypatch.setenv("PROVIDER_SECRET_ARN", secret["ARN"])
    from aws_lambda_powertools.utilities import parameters

    clients.reset()
    parameters.clear_caches()
    post(key="order-warm-0001")  # clients and credentials loaded before the race
    results, barrier = [], threading.Barrier(2)

    def worker():
        barrier.wait()
        results.append(post())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    payment_id = intake.payment_id_for("merchant-42", KEY)
    items = dynamodb.scan(TableName="payments-race")["Items"]
    assert [i["payment_id"]["S"] for i in items if i["payment_id"]["S"] == payment_id] == [payment_id]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="payments")["QueueUrl"],
                                                     MaxNumberOfMessages=10)["Messages"]]
    assert sorted(bodies).count(json.dumps({"payment_id": payment_id})) == 1 and len(bodies) == 2
    assert sorted(status for status, _ in results) in ([202, 202], [202, 409])
    assert {body["payment_id"] for status, body in results if status == 202} == {payment_id}


def test_an_aws_error_other_than_the_condition_is_not_a_replay(aws):
    error = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem")
    with mock.patch.object(clients.dynamodb(), "put_item", side_effect=error):
        status, body = post()
    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert aws.table.scan()["Items"] == []


# -- what the mutation run of intake.py showed untested (docs/mutation.md) -----------------------------

def test_a_retry_with_its_fields_in_another_order_is_the_same_request(aws):
    """JSON objects are unordered: a client that serializes the same body in another order retries."""
    body = valid_body(metadata={"order": "1001", "channel": "web"})
    first = call(api_event("POST", "/payments", raw_body=json.dumps(body), headers={"Idempotency-Key": KEY}))
    shuffled = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(body.items()))}
    again = call(api_event("POST", "/payments", raw_body=json.dumps(shuffled), headers={"Idempotency-Key": KEY}))
    assert first[0] == 202 and again == first and len(aws.payments()) == 1


def test_the_request_hash_of_a_body_never_changes(aws):
    """A retry sent across a deploy must still be the same request: the stored hash of a given body is
    pinned (sha256 of its canonical JSON), as the payment id is."""
    post()
    [payment] = aws.payments()
    assert payment["request_hash"] == REQUEST_HASH


def test_the_record_holds_its_fields_with_utc_times_and_the_configured_replay_window(aws, monkeypatch):
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "60")
    while_claimed = []
    authorize = api._authorize

    def authorize_and_look(payment_id, body):  # the record as a reader sees it while the provider answers
        with ThreadPoolExecutor(1) as outside:  # (the test's read: not the handler's call, for the IAM judge)
            while_claimed.append(outside.submit(aws.table.get_item, Key={"payment_id": payment_id}).result()["Item"])
        return authorize(payment_id, body)

    before = int(time.time())
    with mock.patch.object(api, "_authorize", side_effect=authorize_and_look):
        status, body = post()
    after = int(time.time())
    assert status == 202
    [claimed] = while_claimed
    assert claimed["status"] == "UNKNOWN" and claimed["authorized"] is False and claimed["claim"]
    [payment] = aws.payments()
    assert set(payment) == {*valid_body(), "payment_id", "status", "authorized", "created_at", "updated_at",
                            "request_hash", "replayable_until", "answer", "provider_reference"}
    created, updated = (datetime.fromisoformat(payment[f]) for f in ("created_at", "updated_at"))
    assert created.utcoffset() == updated.utcoffset() == timedelta(0) and created <= updated
    assert before + 60 <= payment["replayable_until"] <= after + 60
