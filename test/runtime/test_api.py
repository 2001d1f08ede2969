from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from unittest import mock

import pytest

from cdk_payments.runtime import api, clients

from .conftest import ROLE_ARNS, FakeContext, api_event, said, valid_body

KEY = {"Idempotency-Key": "order-7f3a-0001"}


def call(event):
    response = api.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def post(body=None, headers=KEY, **kwargs):
    return call(api_event("POST", "/payments", body=body, headers=headers, **kwargs))


def test_accepts_a_payment_records_it_pending_and_enqueues_it(aws):
    status, body = post(valid_body(description="Order 1001", metadata={"order": "1001"}))
    assert status == 202
    assert body["status"] == "PENDING"
    (payment,) = aws.payments()
    assert payment["payment_id"] == body["payment_id"]
    assert payment["status"] == "PENDING" and payment["authorized"] is True
    (message,) = aws.messages()
    assert json.loads(message["Body"]) == {"payment_id": body["payment_id"]}


def test_get_returns_the_payment_without_secrets(aws):
    _, created = post(valid_body())
    status, body = call(api_event("GET", f"/payments/{created['payment_id']}"))
    assert status == 200
    assert body["payment_id"] == created["payment_id"] and body["amount"] == 1250
    assert "payment_method_token" not in body and "provider_reference" not in body


@pytest.mark.parametrize("payment_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "idempotency#x"])
def test_get_unknown_payment_is_404(aws, payment_id):
    status, body = call(api_event("GET", f"/payments/{payment_id}"))
    assert status == 404 and body["error"]["code"] in ("payment_not_found", "not_found")


def test_same_key_same_body_replays_the_same_answer_and_creates_nothing(aws):
    first = post(valid_body())
    second = post(valid_body())
    assert first == second
    assert len(aws.payments()) == 1
    assert len(aws.messages()) == 1


def test_same_key_different_body_is_refused(aws):
    post(valid_body())
    status, body = post(valid_body(amount=9999))
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    assert len(aws.payments()) == 1


def test_merchant_id_may_be_omitted_and_then_is_the_callers(aws):
    body = {k: v for k, v in valid_body().items() if k != "merchant_id"}
    status, created = post(body)
    assert status == 202
    assert aws.payments()[0]["merchant_id"] == "merchant-42"
    # With or without merchant_id it is the same request: the retry replays the first answer.
    assert post(valid_body()) == (202, created)


def test_concurrent_duplicates_create_exactly_one_payment(aws, monkeypatch):
    # DynamoDB applies a conditional write atomically; moto checks the condition, then writes, and eight
    # threads can interleave between the two (two claims both succeed): serialize its writes as AWS does.
    from moto.dynamodb.models import DynamoDBBackend

    atomic = threading.Lock()

    def serialized(write):
        def locked(*args, **kwargs):
            with atomic:
                return write(*args, **kwargs)
        return locked

    for name in ("put_item", "update_item", "delete_item"):
        monkeypatch.setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
    results, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(post(valid_body()))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(aws.payments()) == 1
    accepted = {body["payment_id"] for status, body in results if status == 202}
    assert len(accepted) == 1
    assert all(status in (202, 409) for status, _ in results)


BAD_INPUTS = [
    ("malformed json", dict(raw_body="{not json"), 400, "malformed_json"),
    ("empty body", dict(raw_body=""), 400, "malformed_json"),
    ("array body", dict(body=[1, 2]), 400, "invalid_request"),
    ("missing amount", dict(body={k: v for k, v in valid_body().items() if k != "amount"}), 400, "invalid_request"),
    ("extra field", dict(body=valid_body(card_holder="A")), 400, "invalid_request"),
    ("string amount", dict(body=valid_body(amount="12.50")), 400, "invalid_request"),
    ("float amount", dict(body=valid_body(amount=12.5)), 400, "invalid_request"),
    ("zero amount", dict(body=valid_body(amount=0)), 400, "invalid_request"),
    ("negative amount", dict(body=valid_body(amount=-100)), 400, "invalid_request"),
    ("huge amount", dict(body=valid_body(amount=10**12)), 400, "invalid_request"),
    ("unknown currency", dict(body=valid_body(currency="XYZ")), 400, "invalid_request"),
    ("lowercase currency", dict(body=valid_body(currency="eur")), 400, "invalid_request"),
    ("bad merchant", dict(body=valid_body(merchant_id="m; DROP TABLE")), 400, "invalid_request"),
    ("metadata not strings", dict(body=valid_body(metadata={"n": 1})), 400, "invalid_request"),
    ("card number as token", dict(body=valid_body(payment_method_token="4111111111111111")), 400,
     "card_data_rejected"),
    ("card number in metadata", dict(body=valid_body(metadata={"note": "4111 1111 1111 1111"})), 400,
     "card_data_rejected"),
    ("oversized body", dict(body=valid_body(description="x" * 10_000)), 413, "payload_too_large"),
    ("missing idempotency key", dict(body=valid_body(), headers={}), 400, "missing_idempotency_key"),
    ("bad idempotency key", dict(body=valid_body(), headers={"Idempotency-Key": "a b"}), 400,
     "invalid_idempotency_key"),
]


@pytest.mark.parametrize("case,kwargs,status,code", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_4xx_json_error_and_writes_nothing(aws, case, kwargs, status, code):
    kwargs.setdefault("headers", KEY)
    got_status, body = post(**kwargs)
    assert (got_status, body["error"]["code"]) == (status, code)
    assert set(body["error"]) == {"code", "message"}
    assert aws.table.scan()["Items"] == []
    assert aws.messages() == []


def test_failed_enqueue_leaves_nothing_half_written_and_can_be_retried(aws):
    with mock.patch.object(clients, "sqs") as sqs:
        sqs.return_value.send_message.side_effect = RuntimeError("SQS unavailable")
        status, body = post(valid_body())
    assert status == 500 and body["error"]["code"] == "internal_error"
    assert aws.table.scan()["Items"] == []
    status, _ = post(valid_body())
    assert status == 202 and len(aws.payments()) == 1


def test_declined_token_is_recorded_for_settlement(aws):
    _, body = post(valid_body(payment_method_token="tok_decline_insufficient"))
    (payment,) = aws.payments()
    assert payment["authorized"] is False and payment["decline_reason"] == "card_declined"


def test_card_numbers_are_masked_in_every_log_line(aws, logged):
    post(valid_body(metadata={"note": "card 4111111111111111"}))
    api.logger.info("diagnostic", extra={"raw": "4111-1111-1111-1111", "nested": {"pan": "5500005555555559"}})
    api.logger.info("card 4111111111111111 in the message itself")
    logged = logged()
    assert "4111111111111111" not in logged and "4111-1111-1111-1111" not in logged
    assert "5500005555555559" not in logged
    assert "************1111" in logged and "************5559" in logged
    assert all(json.loads(line) for line in logged.strip().splitlines())


def test_unknown_route_is_a_json_404(aws):
    status, body = call(api_event("DELETE", "/payments"))
    assert status == 404 and body["error"]["code"] == "not_found"


def test_a_card_number_as_idempotency_key_is_refused_and_nothing_written(aws):
    status, body = post(valid_body(), headers={"Idempotency-Key": "order-4111111111111111"})
    assert (status, body["error"]["code"]) == (400, "card_data_rejected")
    assert aws.table.scan()["Items"] == []


DEBUG_RUN = """
from cdk_payments.runtime import api
from test.runtime.conftest import FakeContext, api_event
for caller in ("merchant-42", "unmapped"):
    api.handler(api_event("GET", "/payments/4111111111111111", caller=caller), FakeContext())
api.logger.info("diagnostic", extra={"pan": "5500005555555559"})
try:
    raise ValueError("card 4111 1111 1111 1111")
except ValueError:
    import logging
    logging.getLogger("aws_lambda_powertools.event_handler").exception("failed")
"""


def test_powertools_debug_mode_masks_card_numbers_in_its_own_logger_too(tmp_path):
    # POWERTOOLS_DEBUG acts when Powertools is imported: run a fresh interpreter with it set.
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "POWERTOOLS_DEBUG": "true", "AUTH_MODE": "iam", "AWS_DEFAULT_REGION": "us-east-1",
           "MERCHANT_ROLES": json.dumps(ROLE_ARNS), "TABLE_NAME": "payments", "POWERTOOLS_TRACE_DISABLED": "1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    run = subprocess.run([sys.executable, "-c", DEBUG_RUN], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    logged = run.stdout + run.stderr
    assert "Calling API Route Handler" in logged  # Powertools' debug logger did log the route arguments
    assert "4111111111111111" not in logged and "5500005555555559" not in logged
    assert "4111 1111 1111 1111" not in logged
    assert "************1111" in logged and "************5559" in logged


@pytest.mark.parametrize("build", [
    lambda: api_event("POST", "/payments", body=valid_body(), headers=KEY),
    lambda: api_event("POST", "/payments", raw_body="{", headers=KEY),  # an error
    lambda: api_event("GET", "/payments/00000000-0000-4000-8000-000000000000"),
    lambda: api_event("GET", "/payments", query={"limit": "5"}),
    lambda: api_event("DELETE", "/nowhere"),  # no route
], ids=["accepted", "refused", "not-found", "list", "no-route"])
def test_every_response_carries_the_api_gateway_request_id(aws, build):
    event = build()
    response = api.handler(event, FakeContext())
    assert response["multiValueHeaders"]["X-Request-Id"] == [event["requestContext"]["requestId"]]
    assert "Retry-After" not in response["multiValueHeaders"]


def test_outside_api_gateway_the_request_id_is_lambdas(aws):
    event = api_event("GET", "/payments")
    del event["requestContext"]["requestId"]
    assert api.handler(event, FakeContext())["multiValueHeaders"]["X-Request-Id"] == [FakeContext.aws_request_id]


def test_provider_unavailable_says_when_to_retry(aws):
    response = api.handler(api_event("POST", "/payments", body=valid_body(payment_method_token="tok_unavailable_x"),
                                     headers=KEY), FakeContext())
    assert response["statusCode"] == 503
    assert response["multiValueHeaders"]["Retry-After"] == [str(api.RETRY_AFTER_SECONDS)]


@pytest.mark.parametrize("body, field", [
    (valid_body(amount="12.50"), "amount"),
    (valid_body(metadata={"n": 1}), "metadata.n"),
    ({k: v for k, v in valid_body().items() if k != "amount"}, "body"),
    (valid_body(card_holder="A"), "body"),
])
def test_a_schema_refusal_names_the_field_it_refuses(aws, body, field):
    """The message says which field (a dotted path inside the body), or the body itself for a missing or
    unknown field, then what the schema wanted."""
    status, answer = post(body)
    message = answer["error"]["message"]
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert message.split(": ")[0] == field and len(message) > len(field) + 2, message


# -- what the mutation run of api.py showed untested (docs/mutation.md) --------------------------------

REFUSALS = [
    (dict(raw_body="{not json"), {"code": "malformed_json", "message": "the body is not valid JSON"}),
    (dict(body=valid_body(payment_method_token="4111111111111111")),
     {"code": "card_data_rejected", "message": "card numbers must never be sent; send the provider's token"}),
    (dict(body=valid_body(), headers={}),
     {"code": "missing_idempotency_key", "message": "the Idempotency-Key header is required"}),
    (dict(body=valid_body(), headers={"Idempotency-Key": "a b"}),
     {"code": "invalid_idempotency_key", "message": "Idempotency-Key must be 8 to 255 of [A-Za-z0-9_.:-]"}),
    (dict(body=valid_body(), headers={"Idempotency-Key": "4111-1111-1111-1111"}),
     {"code": "card_data_rejected", "message": "card numbers must never be sent; send the provider's token"}),
]


@pytest.mark.parametrize("kwargs, error", REFUSALS, ids=[e["code"] + str(i) for i, (_, e) in enumerate(REFUSALS)])
def test_each_refusal_is_json_and_says_what_to_send_instead(aws, kwargs, error):
    kwargs.setdefault("headers", KEY)
    response = api.handler(api_event("POST", "/payments", **kwargs), FakeContext())
    assert response["statusCode"] == 400 and json.loads(response["body"]) == {"error": error}
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert "Retry-After" not in response["multiValueHeaders"]  # a 400 is not retried as it is


def test_the_idempotency_key_header_is_read_in_any_case(aws):
    """HTTP/2 clients send header names in lower case; API Gateway passes them on as sent."""
    status, first = post(valid_body(), headers={"idempotency-key": "order-any-case-1"})
    assert status == 202
    assert post(valid_body(), headers={"IDEMPOTENCY-KEY": "order-any-case-1"}) == (202, first)
    assert len(aws.payments()) == 1


@pytest.mark.parametrize("mode, field, value", [
    ("iam", "user_arn", "arn:aws:sts::123456789012:assumed-role/Stranger/checkout-7"),
    ("api-key", "api_key_id", "k99zzzzzzz"),
])
def test_a_caller_of_no_merchant_is_refused_and_logged_by_its_identity(aws, logged, monkeypatch, mode, field, value):
    """403 before anything is read or written, and a warning the operator can act on: which identity."""
    monkeypatch.setenv("AUTH_MODE", mode)
    status, answer = call(api_event("POST", "/payments", body=valid_body(), headers=KEY, caller="unmapped"))
    assert (status, answer) == (403, {"error": {"code": "merchant_not_mapped",
                                                "message": "the authenticated identity is not mapped to a merchant"}})
    [warning] = said(logged, "identity maps to no merchant")
    assert warning["level"] == "WARNING" and warning[field] == value
    assert aws.payments() == [] and aws.messages() == []


def test_a_body_of_the_limit_is_read_and_one_byte_more_is_refused(aws):
    """The limit is inclusive (JSON may carry whitespace): exactly MAX_BODY_BYTES is a payment."""
    body = json.dumps(valid_body())
    at_limit = body + " " * (api.MAX_BODY_BYTES - len(body.encode()))
    assert post(raw_body=at_limit, body=None)[0] == 202
    status, answer = post(raw_body=at_limit + " ", body=None, headers={"Idempotency-Key": "order-over-limit-1"})
    assert (status, answer["error"]) == (413, {"code": "payload_too_large",
                                               "message": f"the body must be at most {api.MAX_BODY_BYTES} bytes"})
