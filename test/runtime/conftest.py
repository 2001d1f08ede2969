"""moto-backed AWS for the handler code: a payments table, a queue with a DLQ, a bus, a secret, a
KMS key; and API Gateway events whose request context carries a merchant's identity in the
authorization mode under test (as the construct maps them: API key ids, role ARNs, a Cognito claim)."""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import boto3
import pytest
from moto import mock_aws

from ..iam.judge import iam_judge, iam_judged  # noqa: F401  (every AWS call judged by IAM)


def _new_sender_in_a_fork() -> None:
    """mutmut runs each mutant in a fork of the process that ran the tests first. The intake's sender
    thread is not in the fork, so its executor would queue the payment's message for ever (every mutant
    of a POST path a timeout): a fork gets an executor of its own."""
    intake = sys.modules.get("cdk_payments.runtime.intake")
    if intake is not None:
        intake._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enqueue")


os.register_at_fork(after_in_child=_new_sender_in_a_fork)

REGION = "us-east-1"
ACCOUNT = "123456789012"
MODES = ("iam", "api-key", "cognito")
# What the construct writes into the processor's environment for two merchants, in each mode.
API_KEY_IDS = {"merchant-42": "k42abcdefg", "merchant-43": "k43abcdefg"}
ROLE_ARNS = {"merchant-42": f"arn:aws:iam::{ACCOUNT}:role/payments/Merchant42Caller",
             "merchant-43": f"arn:aws:iam::{ACCOUNT}:role/Merchant43Caller"}
UNMAPPED = "unmapped"


@dataclass
class FakeContext:
    function_name: str = "payments-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:payments-api"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Aws:
    table: Any
    queue_url: str
    dlq_url: str
    sqs: Any
    bus_name: str

    def payments(self) -> list[dict[str, Any]]:
        items = self.table.scan()["Items"]
        return [i for i in items if not i["payment_id"].count("#")]

    def messages(self, url: str | None = None) -> list[dict[str, Any]]:
        out = self.sqs.receive_message(QueueUrl=url or self.queue_url, MaxNumberOfMessages=10)
        return out.get("Messages", [])


def _create_resources(monkeypatch) -> Aws:
    """The handlers' resources, in whatever AWS boto3 reaches (moto's mock or a moto server)."""
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    table = dynamodb.create_table(
        TableName="payments",
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "payment_id", "AttributeType": "S"},
            {"AttributeName": "merchant_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-merchant",
                "KeySchema": [
                    {"AttributeName": "merchant_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                # As the construct creates it: list items hold keys and these attributes only.
                "Projection": {"ProjectionType": "INCLUDE",
                               "NonKeyAttributes": ["amount", "currency", "status"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName="payments-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="payments",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
            "VisibilityTimeout": "0",
        },
    )["QueueUrl"]
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name="payments")
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="provider", SecretString=json.dumps({"api_key": "sk_test_123"})
    )
    monkeypatch.setenv("TABLE_NAME", "payments")
    monkeypatch.setenv("QUEUE_URL", queue_url)
    monkeypatch.setenv("EVENT_BUS_NAME", "payments")
    monkeypatch.setenv("PROVIDER_SECRET_ARN", secret["ARN"])
    key = boto3.client("kms", region_name=REGION).create_key(Description="payment data")
    monkeypatch.setenv("CURSOR_KEY_ARN", key["KeyMetadata"]["Arn"])
    return Aws(table=table, queue_url=queue_url, dlq_url=dlq_url, sqs=sqs, bus_name="payments")


@pytest.fixture
def aws(monkeypatch):
    _base_environment(monkeypatch)
    with mock_aws():
        resources = _create_resources(monkeypatch)
        _clear_caches()
        yield resources
        _clear_caches()


def _base_environment(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CdkPaymentsTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "payments")
    monkeypatch.setenv("AUTH_MODE", "iam")
    monkeypatch.setenv("MERCHANT_API_KEYS", json.dumps(API_KEY_IDS))
    monkeypatch.setenv("MERCHANT_ROLES", json.dumps(ROLE_ARNS))


def _locked(lock: threading.Lock, method: Any) -> Any:
    def write(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return write


@pytest.fixture
def aws_server(monkeypatch):
    """The same resources in a moto server on 127.0.0.1 (an ephemeral port), which real concurrent
    requests reach over HTTP, each conditional write decided by the server, not a mock in-process."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.server import ThreadedMotoServer

    # DynamoDB checks a condition and writes atomically per item; moto's server does neither under a
    # lock (it parses the condition between reading and writing the item, and its threads interleave
    # there), so its writes are serialized here as DynamoDB serializes writes to one item.
    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        monkeypatch.setattr(DynamoDBBackend, name, _locked(lock, getattr(DynamoDBBackend, name)))
    _base_environment(monkeypatch)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        resources = _create_resources(monkeypatch)
        _clear_caches()
        yield resources
        _clear_caches()
    finally:
        # moto's backends live in the process: forget this server's resources for the next test.
        host, port = server.get_host_and_port()
        urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
        server.stop()


@pytest.fixture
def captured_events(aws):
    """The events the event handler puts on EventBridge (and moto receives)."""
    from unittest import mock

    from cdk_payments.runtime import clients

    client = boto3.client("events", region_name=REGION)
    sent = []
    real = client.put_events

    def capture(**kwargs):
        sent.extend(kwargs["Entries"])
        return real(**kwargs)

    with mock.patch.object(clients, "events", return_value=mock.Mock(put_events=capture)):
        yield sent


def _clear_caches() -> None:
    from aws_lambda_powertools.utilities import parameters

    from cdk_payments.runtime import clients, lifecycle, providers

    clients.reset()
    providers.provider.cache_clear()
    lifecycle._idempotency.cache_clear()
    parameters.clear_caches()


@pytest.fixture(params=MODES)
def mode(request, aws, monkeypatch):
    """Run the test in each authorization mode."""
    monkeypatch.setenv("AUTH_MODE", request.param)
    return request.param


def request_identity(merchant: str, mode: str | None = None) -> dict[str, Any]:
    """The parts of API Gateway's request context that authenticate ``merchant`` in ``mode`` (the
    current AUTH_MODE by default); ``UNMAPPED`` is an authenticated caller mapped to no merchant."""
    mode = mode or os.environ["AUTH_MODE"]
    if mode == "api-key":
        return {"identity": {"apiKeyId": API_KEY_IDS.get(merchant, "k99zzzzzzz"), "sourceIp": "192.0.2.1"}}
    if mode == "cognito":
        claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, merchant)), "token_use": "id"}
        if merchant != UNMAPPED:
            claims["custom:merchant_id"] = merchant
        return {"identity": {"sourceIp": "192.0.2.1"}, "authorizer": {"claims": claims}}
    role = ROLE_ARNS.get(merchant, f"arn:aws:iam::{ACCOUNT}:role/Stranger").rsplit("/", 1)[-1]
    return {"identity": {"userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/checkout-7",
                         "user": "AROAEXAMPLE:checkout-7", "sourceIp": "192.0.2.1"}}


def api_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
              raw_body: str | None = None, caller: str = "merchant-42",
              query: dict[str, str | list[str]] | None = None) -> dict[str, Any]:
    parts = path.split("/")  # "", "payments", the id, a sub-resource (capture, void, refunds)
    payment_id = parts[2] if len(parts) > 2 else None
    multi = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    return {
        "resource": "/".join(["/payments/{payment_id}", *parts[3:]]) if payment_id else "/payments",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"payment_id": payment_id} if payment_id else None,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "httpMethod": method,
                           "resourcePath": "/payments", "path": f"/prod{path}", **request_identity(caller)},
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def valid_body(**overrides: Any) -> dict[str, Any]:
    return {"amount": 1250, "currency": "EUR", "merchant_id": "merchant-42",
            "payment_method_token": "tok_visa_abcdef12", **overrides}


@pytest.fixture
def logged():
    """What the handlers' logger writes during the test, formatted as in Lambda (one JSON object a line):
    call it for the text. (Its own handler writes to the stdout it found at import, which no capture sees.)"""
    import io
    import logging

    from cdk_payments.runtime.observability import logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)
    try:
        yield stream.getvalue
    finally:
        logging.getLogger(logger.name).removeHandler(capture)


def said(logged: Callable[[], str], message: str) -> list[dict[str, Any]]:
    """The log lines (parsed) that ``logged`` captured with exactly this message."""
    return [line for line in map(json.loads, logged().splitlines()) if line["message"] == message]
