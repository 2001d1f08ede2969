"""Webhook delivery to a real local receiver that verifies signatures with the standardwebhooks package."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from cdk_payments.runtime import webhooks

from .conftest import REGION

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


class Receiver:
    """A merchant's endpoint on 127.0.0.1: verifies each delivery, answers the scripted statuses (to the
    deliveries ``scripted`` selects: by default all; the others get 200)."""

    def __init__(self, statuses, secret=SECRET, scripted=lambda webhook: True):
        self.statuses, self.verified, self.refused, self.headers = list(statuses), [], [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.headers.append(dict(self.headers))
                try:
                    webhook = Webhook(secret).verify(body, dict(self.headers))
                except Exception as error:  # noqa: BLE001 - any verification failure is a refusal
                    receiver.refused.append(str(error))
                    status = 401
                else:
                    receiver.verified.append(webhook)
                    status = receiver.statuses.pop(0) if receiver.statuses and scripted(webhook) else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/payments"

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(*statuses):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def queues(aws, monkeypatch):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="webhooks")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue)
    monkeypatch.setenv("WEBHOOK_DLQ_URL", dlq)
    monkeypatch.setenv("WEBHOOK_SECRETS", "{}")
    monkeypatch.setattr(webhooks, "ALLOW_LOOPBACK_FOR_TESTS", True)
    return sqs, queue, dlq


def register(url, merchant="merchant-42", **config):
    """The merchant's secret, as the construct creates it, and its ARN in the delivery function's map."""
    import os

    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"webhooks-{merchant}", SecretString=json.dumps({"url": url, "secret": SECRET, **config}))["ARN"]
    os.environ["WEBHOOK_SECRETS"] = json.dumps({**json.loads(os.environ["WEBHOOK_SECRETS"]), merchant: arn})
    return arn


NOW = time.time()  # the receiver checks the signature's timestamp against its clock (5 minutes)
STARTED = datetime.fromtimestamp(int(NOW), timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def clock(iam_judged):
    """Now, once the IAM judge's example synthesis (which can take minutes) is done."""
    global NOW, STARTED
    NOW = time.time()
    STARTED = datetime.fromtimestamp(int(NOW), timezone.utc).isoformat().replace("+00:00", "Z")


def event(time=None):
    time = time or STARTED
    return {"id": "eb-1", "detail-type": "Payment Refunded", "source": "cdk-payments", "time": time,
            "detail": {"version": "1", "event_id": "9a0b0c0d-0000-5000-8000-000000000001", "payment_id": "p-1",
                       "merchant_id": "merchant-42", "amount": 1250, "currency": "EUR", "status": "REFUNDED"}}


def queued(sqs, queue, body):
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    (message,) = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    return message


def test_delivered_signed_and_verified_after_a_500_with_backoff(aws, queues, receiver):
    sqs, queue, _ = queues
    endpoint = receiver(500)
    register(endpoint.url)
    start = int(time.time())  # read now, not at import: the suite may take longer than the 5 minutes
    started = datetime.fromtimestamp(start, timezone.utc).isoformat().replace("+00:00", "Z")
    body = json.dumps(event(started))
    message = queued(sqs, queue, body)
    with pytest.raises(webhooks.DeliveryFailed, match="HTTP 500; next in 5 s"):
        webhooks.handle(body, 1, message["ReceiptHandle"], now=start)
    attempt = webhooks.handle(body, 2, queued(sqs, queue, body)["ReceiptHandle"], now=start + 5)
    assert attempt.delivered and attempt.status == 200
    assert endpoint.refused == []
    first, second = endpoint.verified
    assert first == second == {"type": "payment.refunded", "timestamp": started,
                               "data": event()["detail"]}


def test_a_wrong_secret_fails_verification(aws, queues, receiver):
    endpoint = receiver()
    body = json.dumps(event())
    stamp = int(time.time())
    signature = webhooks.sign("whsec_" + base64.b64encode(b"another secret!!").decode(), "id-1", stamp, body)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(SECRET).verify(body, {"webhook-id": "id-1", "webhook-timestamp": str(stamp),
                                      "webhook-signature": signature})
    assert Webhook(SECRET).verify(body, {"webhook-id": "id-1", "webhook-timestamp": str(stamp),
                                         "webhook-signature": webhooks.sign(SECRET, "id-1", stamp, body)})
    endpoint.stop()


def test_after_three_days_the_message_is_dead_lettered_for_replay(aws, queues, receiver):
    sqs, queue, dlq = queues
    endpoint = receiver(*[503] * 50)
    register(endpoint.url)
    body = json.dumps(event())
    start = int(NOW)
    now, attempt, delays = start, 1, []
    while True:
        try:  # each attempt is a new receive of the message, as after its visibility timeout
            webhooks.handle(body, attempt, queued(sqs, queue, body)["ReceiptHandle"], now=now)
            break
        except webhooks.DeliveryFailed as failure:
            delay = int(str(failure).rsplit("next in ", 1)[1].split()[0])
            delays.append(delay)
            now, attempt = now + delay, attempt + 1
    assert delays[:4] == [5, 30, 180, 1080] and max(delays) == webhooks.MAX_DELAY_SECONDS
    assert now - start <= webhooks.RETRY_WINDOW_SECONDS and now - start > 2.5 * 24 * 3600
    (parked,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert parked["Body"] == body


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "192.168.1.1", "100.64.0.1",
                                     "::1", "fd00:ec2::254", "fe80::1", "::ffff:10.0.0.1", "0.0.0.0"])
def test_never_to_private_link_local_or_metadata_addresses(address):
    def resolver(host, port, type=0):
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, type, 6, "", (address, port))]

    with pytest.raises(webhooks.UnsafeEndpoint, match="not a public address"):
        webhooks.deliver("https://hooks.merchant.example/p", SECRET, "id", {}, getaddrinfo=resolver)


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    """DNS rebinding: every address is checked, and the connection goes to a checked one."""
    def resolver(host, port, type=0):
        return [(socket.AF_INET, type, 6, "", ("93.184.215.14", port)), (socket.AF_INET, type, 6, "", ("10.1.2.3", port))]

    with pytest.raises(webhooks.UnsafeEndpoint):
        webhooks.resolve("rebind.example", 443, getaddrinfo=resolver)


@pytest.mark.parametrize("url", ["http://hooks.merchant.example/p", "ftp://x/", "https://user:pw@hooks.example/"])
def test_https_only_and_no_credentials_in_the_url(url):
    with pytest.raises(webhooks.UnsafeEndpoint):
        webhooks.deliver(url, SECRET, "id", {})


def test_loopback_http_needs_the_test_only_switch(receiver):
    endpoint = receiver()
    with pytest.raises(webhooks.UnsafeEndpoint):
        webhooks.deliver(endpoint.url, SECRET, "id", {})
    assert webhooks.deliver(endpoint.url, SECRET, "id", {}, insecure_loopback_for_tests=True).delivered


def test_one_merchants_failing_endpoint_does_not_hold_back_anothers(aws, queues, receiver, monkeypatch):
    sqs, queue, _ = queues
    failing, working = receiver(*[500] * 5), receiver()
    register(failing.url)
    register(working.url, "merchant-43")
    other = event()
    other["detail"] = {**other["detail"], "merchant_id": "merchant-43", "event_id": "9a0b0c0d-0000-5000-8000-000000000002"}
    records = records_of(sqs, queue, [json.dumps(event()), json.dumps(other)])
    result = webhooks.handler({"Records": records}, None)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {r["messageId"] for r in records if "merchant-42" in r["body"]}
    assert len(working.verified) == 1 and len(failing.verified) == 1


def test_a_merchant_without_an_endpoint_is_skipped_without_a_call(aws, queues, receiver):
    sqs, queue, _ = queues
    body = json.dumps(event())
    attempt = webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"], now=int(NOW))
    assert attempt == webhooks.Attempt(False, detail="no endpoint")


def test_a_failing_endpoint_costs_its_batch_one_attempt(aws, queues, receiver):
    """Its second message in the batch waits out its backoff without connecting again."""
    sqs, queue, _ = queues
    failing = receiver(*[500] * 5)
    register(failing.url)
    failed = set()
    for n in (1, 2):
        body = json.dumps({**event(), "detail": {**event()["detail"], "event_id": f"id-{n}"}})
        detail = "HTTP 500" if n == 1 else "the endpoint failed earlier in this batch"
        with pytest.raises(webhooks.DeliveryFailed, match=f"^attempt 1: {detail}; next in 5 s$"):
            webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"], now=int(NOW), failing=failed)
    assert failed == {"merchant-42"} and len(failing.verified) == 1


def test_during_a_rotations_grace_period_both_secrets_sign(aws, queues, receiver):
    """The merchant still verifying with the old secret accepts the delivery; after the grace, only the new one signs."""
    sqs, queue, _ = queues
    endpoint = receiver()  # verifies with SECRET, now the previous secret
    new = webhooks.new_secret()
    register(endpoint.url, secret=new, previous=SECRET, previous_until=int(NOW) + 60)
    config = webhooks.endpoint("merchant-42")
    assert webhooks.signing_secrets(config, NOW) == [new, SECRET]
    assert webhooks.signing_secrets(config, NOW + 61) == [new]
    body = json.dumps(event())
    assert webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"], now=int(NOW)).delivered
    assert endpoint.refused == [] and len(endpoint.verified) == 1


def test_the_delivery_is_signed_at_the_attempts_time(aws, queues, receiver):
    sqs, queue, _ = queues
    endpoint = receiver()
    register(endpoint.url)
    body = json.dumps(event())
    assert webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"], now=int(NOW) - 60).delivered
    assert endpoint.headers[0]["webhook-timestamp"] == str(int(NOW) - 60)


def test_without_a_given_time_a_failure_is_scheduled_from_the_clock(aws, queues, receiver):
    sqs, queue, _ = queues
    register(receiver(500).url)
    body = json.dumps(event())
    with pytest.raises(webhooks.DeliveryFailed, match="^attempt 1: HTTP 500; next in 5 s$"):
        webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"])


def test_an_endpoint_made_unsafe_after_registration_fails_its_attempt_and_waits(aws, queues):
    sqs, queue, _ = queues
    register("http://hooks.merchant.example/p")  # plain http: refused before any lookup
    body = json.dumps(event())
    with pytest.raises(webhooks.DeliveryFailed,
                       match="^attempt 1: webhook endpoints must be https:// URLs; next in 5 s$"):
        webhooks.handle(body, 1, queued(sqs, queue, body)["ReceiptHandle"], now=int(NOW))


def records_of(sqs, queue, bodies):
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
             "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks", "awsRegion": REGION}
            for m in messages]


def test_a_batch_that_fails_whole_is_reported_message_by_message(aws, queues, receiver, monkeypatch):
    """Not raised: each message keeps the backoff its attempt set; the function's own invocation succeeds.
    The endpoint is tried once for the batch, each message with its own receive count and handle."""
    sqs, queue, _ = queues
    failing = receiver(*[500] * 5)
    register(failing.url)
    bodies = [json.dumps({**event(), "detail": {**event()["detail"], "event_id": f"id-{n}"}}) for n in (1, 2)]
    records = records_of(sqs, queue, bodies)
    handled, handle = [], webhooks.handle
    monkeypatch.setattr(webhooks, "handle", lambda body, count, receipt, **kw: handled.append((count, receipt))
                        or handle(body, count, receipt, **kw))
    result = webhooks.handler({"Records": records}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    assert len(failing.verified) == 1
    assert handled == [(1, r["receiptHandle"]) for r in records]


def test_past_the_retry_window_the_failed_attempt_is_parked_and_returned(aws, queues):
    sqs, queue, dlq = queues
    register("http://hooks.merchant.example/p")  # refused before any connection
    body = json.dumps(event())
    late = int(NOW) + webhooks.RETRY_WINDOW_SECONDS + 1
    assert webhooks.handle(body, 20, queued(sqs, queue, body)["ReceiptHandle"], now=late) == webhooks.Attempt(
        False, detail="webhook endpoints must be https:// URLs")
    assert webhooks.handle(body, 20, queued(sqs, queue, body)["ReceiptHandle"], now=late,
                           failing={"merchant-42"}) == webhooks.Attempt(
        False, detail="the endpoint failed earlier in this batch")
    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in parked] == [body, body]
