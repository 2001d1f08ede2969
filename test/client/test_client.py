"""cdk_payments.client against a scripted HTTP server on 127.0.0.1: signing, retries, pagination, errors.

(The client against the real handlers, through the local gateway, is in test/local/test_local.py.)
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from cdk_payments.client import (
    ERRORS,
    ApiError,
    CreatedPayment,
    InternalError,
    InvalidRequestError,
    PaymentNotFoundError,
    PaymentsClient,
    PaymentsConnectionError,
    ThrottledError,
)

from ..http_server import JsonServer

ROOT = Path(__file__).resolve().parents[2]
SESSION = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1")
PAYMENT = {"payment_id": "p1", "merchant_id": "m", "amount": 100, "currency": "EUR", "status": "PENDING",
           "created_at": "2026-01-01T00:00:00+00:00"}


class Scripted(JsonServer):
    """Answers each request with the next (status, headers, body) and records what it received."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []
        super().__init__(self._answer)

    def _answer(self, method, path, headers, body):
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
        return self.answers.pop(0)


@pytest.fixture
def serve():
    servers = []

    def start(*answers):
        servers.append(Scripted(answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client(url, sleeps=None, **kwargs):
    return PaymentsClient(url, session=SESSION, sleep=(sleeps.append if sleeps is not None else lambda s: None),
                          **kwargs)


def error(status, code, headers=None):
    return status, headers or {}, {"error": {"code": code, "message": f"{code} happened"}}


def test_importable_without_aws_cdk():
    code = ("import sys; sys.modules['aws_cdk'] = None; sys.modules['constructs'] = None; sys.modules['jsii'] = None\n"
            "import cdk_payments.client, cdk_payments.smoke\n"
            "assert not [m for m, v in sys.modules.items() if v is not None and m.startswith(('aws_cdk', 'jsii', 'moto'))]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_one_exception_class_per_documented_error_code():
    readme = (ROOT / "docs" / "api.md").read_text()
    table = readme[readme.index("| status | `error.code` | when |"):]
    table = table[:table.index("\n\n")]
    documented = {code for row in table.splitlines()[2:] for code in re.findall(r"`([a-z_]+)`", row.split("|")[2])}
    assert set(ERRORS) == documented
    assert all(issubclass(cls, ApiError) and cls.code == code for code, cls in ERRORS.items())
    assert len({cls.__name__ for cls in ERRORS.values()}) == len(ERRORS)


def test_create_signs_with_sigv4_for_execute_api_and_sends_a_fresh_key(serve):
    server = serve((202, {}, {"payment_id": "p1", "status": "PENDING"}), (202, {}, {"payment_id": "p2", "status": "PENDING"}))
    api = client(server.url)
    first = api.create_payment(amount=100, currency="EUR", payment_method_token="tok_123456", metadata={"a": "b"})
    assert api.create_payment(amount=100, currency="EUR", payment_method_token="tok_123456").payment_id == "p2"
    assert isinstance(first, CreatedPayment) and first.payment_id == "p1" and first.status == "PENDING"
    auth = server.requests[0]["headers"]["Authorization"]
    assert re.match(r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/execute-api/aws4_request, "
                    r"SignedHeaders=.*, Signature=[0-9a-f]{64}$", auth)
    assert server.requests[0]["path"] == "/v1/payments"
    assert json.loads(server.requests[0]["body"]) == {"amount": 100, "currency": "EUR",
                                                      "payment_method_token": "tok_123456", "metadata": {"a": "b"}}
    keys = [r["headers"]["Idempotency-Key"] for r in server.requests]
    assert keys[0] != keys[1] and first.idempotency_key == keys[0]


def test_lifecycle_calls_post_to_their_routes_with_one_key_each(serve):
    answer = (200, {}, {"payment_id": "p1", "status": "CAPTURED"})
    server = serve(error(503, "provider_unavailable"), answer, answer, answer, (200, {}, {"refunds": []}),
                   error(409, "payment_not_refundable"))
    api = client(server.url)
    assert api.capture_payment("p1", amount=50)["status"] == "CAPTURED"
    api.void_payment("p1", idempotency_key="void-key-1")
    api.refund_payment("p1", amount=20, reason="damaged")
    assert api.list_refunds("p1") == {"refunds": []}
    with pytest.raises(ERRORS["payment_not_refundable"]):
        api.refund_payment("p1", amount=20)
    sent = [(r["method"], r["path"], json.loads(r["body"] or "null")) for r in server.requests]
    assert sent == [("POST", "/v1/payments/p1/capture", {"amount": 50}), ("POST", "/v1/payments/p1/capture", {"amount": 50}),
                    ("POST", "/v1/payments/p1/void", {}), ("POST", "/v1/payments/p1/refunds",
                                                            {"amount": 20, "reason": "damaged"}),
                    ("GET", "/v1/payments/p1/refunds", None), ("POST", "/v1/payments/p1/refunds", {"amount": 20})]
    keys = [r["headers"].get("Idempotency-Key") for r in server.requests]
    assert keys[0] == keys[1] and keys[2] == "void-key-1" and len({keys[1], keys[3], keys[5]}) == 3  # retry reuses


def test_region_comes_from_an_execute_api_url():
    assert client("https://abc123.execute-api.ap-southeast-2.amazonaws.com/v1/").region == "ap-southeast-2"


def test_after_a_failover_the_request_is_signed_for_the_standbys_region_and_stays_so(serve):
    wrong = (403, {}, {"error": {"code": "request_refused",
                                 "message": "Credential should be scoped to a valid region, not 'eu-west-1'. "}})
    server = serve(wrong, (202, {}, {"payment_id": "p1", "status": "PENDING"}),
                   (200, {}, {"payment_id": "p1", "status": "AUTHORIZED", "amount": 100, "currency": "EUR",
                              "merchant_id": "m", "created_at": "2026-12-03T00:00:00Z"}))
    api = client(server.url, failover_regions=["eu-central-1"])
    assert api.create_payment(amount=100, currency="EUR", payment_method_token="tok_123456").payment_id == "p1"
    api.get_payment("p1")
    scopes = [re.search(r"/\d{8}/([a-z0-9-]+)/execute-api/", r["headers"]["Authorization"]).group(1)
              for r in server.requests]
    assert scopes == ["eu-west-1", "eu-central-1", "eu-central-1"]
    # The same logical request: one key for both tries.
    assert server.requests[0]["headers"]["Idempotency-Key"] == server.requests[1]["headers"]["Idempotency-Key"]


def test_a_wrong_region_with_no_other_region_to_try_raises(serve):
    wrong = (403, {}, {"error": {"code": "request_refused",
                                 "message": "Credential should be scoped to a valid region, not 'eu-west-1'. "}})
    server = serve(wrong, wrong)
    with pytest.raises(ApiError, match="scoped to a valid region"):
        client(server.url, failover_regions=["eu-central-1"]).get_payment("p1")
    assert len(server.requests) == 2  # each region once, then the refusal


def test_retries_reuse_the_key_and_honour_retry_after(serve):
    server = serve(error(503, "provider_unavailable", {"Retry-After": "2"}), error(429, "throttled", {"Retry-After": "30"}),
                   (202, {}, {"payment_id": "p1", "status": "PENDING"}))
    sleeps = []
    created = client(server.url, sleeps, backoff_cap=5).create_payment(amount=1, currency="EUR",
                                                                        payment_method_token="tok_123456")
    assert created.payment_id == "p1"
    assert sleeps == [2.0, 5.0]  # Retry-After, capped
    assert len({r["headers"]["Idempotency-Key"] for r in server.requests}) == 1
    assert len({r["headers"]["Authorization"] for r in server.requests}) >= 1  # signed afresh each try


def test_backoff_is_jittered_and_capped(serve):
    server = serve(*[error(502, "bad_gateway")] * 4)
    sleeps = []
    with pytest.raises(ApiError) as raised:
        client(server.url, sleeps, max_attempts=4, backoff_base=1, backoff_cap=1.5).get_payment("p1")
    assert raised.value.status == 502 and len(server.requests) == 4
    assert len(sleeps) == 3 and all(0 <= s <= 1.5 for s in sleeps)


@pytest.mark.parametrize("answer, raised", [(error(400, "invalid_request"), InvalidRequestError),
                                            (error(500, "internal_error"), InternalError),
                                            (error(404, "payment_not_found"), PaymentNotFoundError)])
def test_other_errors_are_not_retried_and_raise_their_class(serve, answer, raised):
    server = serve(answer)
    with pytest.raises(raised) as caught:
        client(server.url).get_payment("p1")
    assert len(server.requests) == 1 and caught.value.code == answer[2]["error"]["code"]


def test_throttled_after_the_last_attempt_carries_retry_after(serve):
    server = serve(*[error(429, "throttled", {"Retry-After": "1"})] * 2)
    with pytest.raises(ThrottledError) as caught:
        client(server.url, max_attempts=2).get_payment("p1")
    assert caught.value.retry_after == 1.0


def test_unknown_codes_raise_the_base_class(serve):
    server = serve(error(418, "teapot"))
    with pytest.raises(ApiError) as caught:
        client(server.url).get_payment("p1")
    assert type(caught.value) is ApiError and caught.value.code == "teapot"


def test_no_answer_is_retried_then_raised():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = []
    with pytest.raises(PaymentsConnectionError):
        client(f"http://127.0.0.1:{port}/v1/", sleeps, max_attempts=3, timeout=1).get_payment("p1")
    assert len(sleeps) == 2


def test_pagination_follows_the_cursor(serve):
    server = serve((200, {}, {"payments": [PAYMENT, {**PAYMENT, "payment_id": "p2"}], "next_cursor": "c/1+"}),
                   (200, {}, {"payments": [{**PAYMENT, "payment_id": "p3"}], "next_cursor": None}))
    payments = list(client(server.url).list_payments(status="PROCESSED", page_size=2))
    assert [p.payment_id for p in payments] == ["p1", "p2", "p3"]
    assert server.requests[0]["path"] == "/v1/payments?limit=2&status=PROCESSED"
    assert server.requests[1]["path"] == "/v1/payments?cursor=c%2F1%2B&limit=2&status=PROCESSED"


def test_invalid_options_are_refused():
    with pytest.raises(ValueError, match="max_attempts"):
        client("http://127.0.0.1:1/", max_attempts=0)
