"""A payment through the processor and the event handler, with the HTTP adapter and a fake provider."""

from __future__ import annotations

import json

import boto3
import pytest

from cdk_payments.runtime import api, events, providers
from cdk_payments.runtime.providers.http import HttpProvider

from .conftest import REGION, FakeContext, api_event, valid_body
from .fake_provider import FakeProvider, Reply
from .test_events import sqs_event


class LoopbackHttpProvider(HttpProvider):
    """The shipped adapter, allowed to reach the fake provider over plain HTTP on 127.0.0.1."""

    read_timeout = 0.3
    attempt_timeout = 0.5

    def __init__(self) -> None:
        super().__init__(allow_insecure_http=True)


@pytest.fixture
def provider_at(aws, monkeypatch):
    fake = FakeProvider().start()
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="http-provider", SecretString=json.dumps({"base_url": fake.base_url, "api_key": "sk_e2e"}))["ARN"]
    monkeypatch.setenv("PROVIDER_SECRET_ARN", secret_arn)
    monkeypatch.setenv("PROVIDER_MODULE", __name__)
    monkeypatch.setenv("PROVIDER_CLASS", "LoopbackHttpProvider")
    providers.provider.cache_clear()
    yield fake
    providers.provider.cache_clear()
    fake.stop()


def post(key):
    response = api.handler(api_event("POST", "/payments", body=valid_body(), headers={"Idempotency-Key": key}),
                           FakeContext())
    return response["statusCode"], json.loads(response["body"])


def test_a_lost_answer_is_recorded_unknown_and_resolved_by_the_event_handler(aws, provider_at, captured_events):
    provider_at.script = [Reply(200, {"id": "auth_late", "status": "approved"}, delay=1.0)]
    status, body = post("order-e2e-0001")
    assert status == 202 and body["status"] == "UNKNOWN"
    provider_at.script = [Reply(200, {"id": "auth_late", "status": "approved"})]
    result = events.handler(sqs_event(json.dumps({"payment_id": body["payment_id"]})), FakeContext())
    assert result == {"batchItemFailures": []}
    (payment,) = aws.payments()
    assert payment["status"] == "PROCESSED" and payment["provider_reference"] == "auth_late"
    calls = [(r.method, r.path, r.headers["Idempotency-Key"]) for r in provider_at.received]
    assert calls == [("POST", "/v1/authorizations", body["payment_id"]),
                     ("GET", f"/v1/authorizations/{body['payment_id']}", body["payment_id"])]


def test_an_unavailable_provider_answers_503_and_the_retry_succeeds(aws, provider_at):
    provider_at.script = [Reply(503, {})] * 3
    assert post("order-e2e-0002")[0] == 503
    assert aws.payments() == []
    status, body = post("order-e2e-0002")
    assert status == 202 and body["status"] == "PENDING"
