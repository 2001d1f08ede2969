"""The generic HTTP adapter against a fake provider: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
import socket
import time

import pytest
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from cdk_payments.runtime.observability import logger
from cdk_payments.runtime.providers import (
    Authorization,
    AuthorizationRequest,
    CredentialsRejected,
    OperationRequest,
    Outcome,
    PaymentProvider,
    UnsupportedOperation,
)
from cdk_payments.runtime.providers import http as http_module
from cdk_payments.runtime.providers.http import CircuitBreaker, HttpProvider
from cdk_payments.runtime.providers.sandbox import SandboxProvider

from .conftest import said
from .fake_provider import FakeProvider, Reply

API_KEY = "sk_live_very_secret_value"
TOKEN = "tok_visa_secret_token"
REQUEST = AuthorizationRequest(payment_id="5f0c1d2e-0000-4000-8000-000000000001", payment_method_token=TOKEN,
                               amount=1250, currency="EUR", merchant_id="merchant-42")
PROCESSOR_TIMEOUT_SECONDS = 10


class FastProvider(HttpProvider):
    """The same adapter with short timeouts, so the timeout tests take well under a second."""

    connect_timeout = 0.5
    read_timeout = 0.3
    attempt_timeout = 0.5
    backoff_factor = 0.01
    backoff_max = 0.02


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake():
    server = FakeProvider().start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def adapter(clock):
    return FastProvider(allow_insecure_http=True, breaker=CircuitBreaker(failure_threshold=3, reset_after=30,
                                                                         clock=clock))


def creds(fake_or_url):
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.base_url
    return {"base_url": url, "api_key": API_KEY}


def refused_url():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_success_sends_the_payment_id_as_idempotency_key(fake, adapter):
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is Outcome.APPROVED and answer.reference == "auth_1"
    (received,) = fake.received
    assert received.method == "POST" and received.path == "/v1/authorizations"
    assert received.headers["Idempotency-Key"] == REQUEST.payment_id
    assert received.headers["Authorization"] == f"Bearer {API_KEY}"
    assert received.body == {"payment_id": REQUEST.payment_id, "amount": 1250, "currency": "EUR",
                             "payment_method_token": TOKEN, "merchant_id": "merchant-42"}


@pytest.mark.parametrize("reply,reason", [
    (Reply(200, {"id": "auth_2", "status": "declined", "decline_reason": "insufficient_funds"}), "insufficient_funds"),
    (Reply(402, {"id": "auth_3", "decline_reason": "do_not_honor"}), "do_not_honor"),
    (Reply(422, {"error": "bad token"}), "provider_rejected_request_422"),
])
def test_declines_are_definite_and_not_retried(fake, adapter, reply, reason):
    fake.script = [reply]
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is Outcome.DECLINED and answer.decline_reason == reason
    assert len(fake.received) == 1


def test_5xx_then_success_is_retried_with_the_same_key(fake, adapter):
    fake.script = [Reply(503, {}), Reply(502, {})]
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is Outcome.APPROVED
    assert [r.headers["Idempotency-Key"] for r in fake.received] == [REQUEST.payment_id] * 3


@pytest.mark.parametrize("status,outcome", [(503, Outcome.RETRYABLE), (429, Outcome.RETRYABLE),
                                            (500, Outcome.UNKNOWN), (504, Outcome.UNKNOWN)])
def test_persistent_5xx_is_retryable_only_when_the_provider_says_it_did_nothing(fake, adapter, status, outcome):
    fake.default = Reply(status, {})
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is outcome and answer.detail == f"HTTP {status}"
    assert len(fake.received) == 1 + HttpProvider.retries


def test_a_slow_response_past_the_read_timeout_is_unknown_and_not_retried(fake, adapter):
    fake.script = [Reply(200, {"id": "late", "status": "approved"}, delay=1.0)]
    started = time.monotonic()
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is Outcome.UNKNOWN and "read timeout" in answer.detail
    assert time.monotonic() - started < 0.9
    assert len(fake.received) == 1


def test_connection_refused_is_retryable(adapter):
    started = time.monotonic()
    answer = adapter.authorize(REQUEST, creds(refused_url()))
    assert answer.outcome is Outcome.RETRYABLE and "not connected" in answer.detail
    assert time.monotonic() - started < 2


def test_connect_timeouts_are_retryable_and_read_failures_unknown():
    assert http_module._unreachable(ConnectTimeoutError("slow")).outcome is Outcome.RETRYABLE
    assert http_module._unreachable(NewConnectionError(None, "refused")).outcome is Outcome.RETRYABLE


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"status": "maybe"}', b"[1, 2]"])
def test_malformed_answers_are_unknown(fake, adapter, raw):
    fake.script = [Reply(200, raw=raw)]
    assert adapter.authorize(REQUEST, creds(fake)).outcome is Outcome.UNKNOWN


def test_the_breaker_opens_fails_fast_and_closes_after_a_good_trial(fake, adapter, clock):
    down = creds(refused_url())
    for _ in range(3):
        assert adapter.authorize(REQUEST, down).outcome is Outcome.RETRYABLE
    assert adapter.breaker.state == "open"
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer.outcome is Outcome.RETRYABLE and "circuit open" in answer.detail
    assert fake.received == []  # failed fast: nothing sent

    clock.now += 30
    assert adapter.breaker.state == "half-open"
    assert adapter.authorize(REQUEST, down).outcome is Outcome.RETRYABLE  # the trial fails: open again
    assert adapter.breaker.state == "open"
    clock.now += 30
    assert adapter.authorize(REQUEST, creds(fake)).outcome is Outcome.APPROVED  # the trial succeeds
    assert adapter.breaker.state == "closed" and len(fake.received) == 1


def test_declines_and_4xx_do_not_trip_the_breaker(fake, adapter):
    fake.default = Reply(402, {"decline_reason": "card_declined"})
    for _ in range(5):
        adapter.authorize(REQUEST, creds(fake))
    assert adapter.breaker.state == "closed"


def test_status_reads_the_authorization_and_resends_it_when_it_never_arrived(fake, adapter):
    fake.script = [Reply(200, {"id": "auth_9", "status": "approved"})]
    assert adapter.status(REQUEST, creds(fake)).reference == "auth_9"
    fake.script = [Reply(404, {}), Reply(200, {"id": "auth_10", "status": "approved"})]
    assert adapter.status(REQUEST, creds(fake)).reference == "auth_10"
    methods = [(r.method, r.path, r.headers.get("Idempotency-Key")) for r in fake.received[1:]]
    assert methods == [("GET", f"/v1/authorizations/{REQUEST.payment_id}", REQUEST.payment_id),
                       ("POST", "/v1/authorizations", REQUEST.payment_id)]


def test_tls_is_required_and_verified():
    with pytest.raises(ValueError, match="https://"):
        HttpProvider().authorize(REQUEST, {"base_url": "http://127.0.0.1:1", "api_key": API_KEY})
    with pytest.raises(ValueError, match="api_key"):
        HttpProvider().authorize(REQUEST, {"base_url": "https://provider.example"})
    assert HttpProvider()._pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"


def test_the_retry_policy_retries_only_what_cannot_charge_twice():
    """Connection failures and the listed statuses are retried (every call carries its idempotency key);
    a read failure, a redirect or anything else is not, and the caller sees the last answer."""
    kw = HttpProvider()._pool.connection_pool_kw
    retry = kw["retries"]
    assert (retry.total, retry.connect, retry.read, retry.status, retry.other, retry.redirect) == (2, 2, 0, 2, 0, 0)
    assert retry.allowed_methods == {"GET", "POST", "DELETE"}
    assert retry.status_forcelist == {429, 500, 502, 503, 504}
    assert (retry.backoff_factor, retry.backoff_max, retry.backoff_jitter) == (0.1, 0.25, 0.1)
    assert (retry.respect_retry_after_header, retry.raise_on_status, retry.raise_on_redirect) == (False, False, False)
    assert repr(kw["timeout"]) == "Timeout(connect=1.0, read=2.0, total=2.0)"


def test_the_worst_case_fits_the_processor_timeout():
    p = HttpProvider
    worst = (p.retries + 1) * p.attempt_timeout + p.retries * (p.backoff_max + p.backoff_jitter)
    assert p.attempt_timeout <= p.connect_timeout + p.read_timeout
    assert worst <= PROCESSOR_TIMEOUT_SECONDS - 3  # room for the secret, DynamoDB and SQS


def test_credentials_are_issued_tested_and_revoked(fake, adapter):
    fake.script = [Reply(201, {"api_key": "sk_new"}), Reply(200, {}), Reply(401, {}), Reply(204, {})]
    new = adapter.issue_credentials(creds(fake), idempotency_key="rotation-token-1")
    assert new == {"base_url": fake.base_url, "api_key": "sk_new"}
    adapter.test_credentials(new)
    with pytest.raises(CredentialsRejected):
        adapter.test_credentials({**new, "api_key": "sk_bad"})
    adapter.revoke_credentials(creds(fake), current=new)
    adapter.revoke_credentials(new, current=new)  # never revokes the current key
    calls = [(r.method, r.path, r.headers["Authorization"], r.headers.get("Idempotency-Key")) for r in fake.received]
    assert calls == [("POST", "/v1/api-keys", f"Bearer {API_KEY}", "rotation-token-1"),
                     ("GET", "/v1/api-keys/current", "Bearer sk_new", None),
                     ("GET", "/v1/api-keys/current", "Bearer sk_bad", None),
                     ("DELETE", "/v1/api-keys/current", f"Bearer {API_KEY}", None)]
    fake.script = [Reply(500, {})] * 3
    with pytest.raises(RuntimeError, match="did not revoke"):
        adapter.revoke_credentials(creds(fake), current=new)


def test_no_key_or_token_in_any_log_line(fake, adapter):
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    capture.setLevel(logging.DEBUG)
    watched = [logging.getLogger(logger.name), logging.getLogger("urllib3")]
    levels = [w.level for w in watched]
    for w in watched:
        w.addHandler(capture)
        w.setLevel(logging.DEBUG)
    try:
        fake.script = [Reply(503, {}), Reply(200, {"id": "a", "status": "approved"}),
                       Reply(200, {"id": "b", "status": "approved"}, delay=1.0)]
        adapter.authorize(REQUEST, creds(fake))
        adapter.authorize(REQUEST, creds(fake))
        adapter.authorize(REQUEST, creds(refused_url()))
    finally:
        for w, level in zip(watched, levels, strict=True):
            w.removeHandler(capture)
            w.setLevel(level)
    logged = stream.getvalue()
    assert "provider answered" in logged and REQUEST.payment_id in logged
    assert API_KEY not in logged and TOKEN not in logged


# -- capture, void and refund: the same outcomes as an authorization ------------------------------------
OPERATION = OperationRequest(operation_id="0c6d6533-f68d-5012-9b36-61b7d178dc8c", payment_id=REQUEST.payment_id,
                             provider_reference="auth_1", amount=700, currency="EUR", merchant_id="merchant-42",
                             reason="requested_by_customer")


@pytest.mark.parametrize("operation,path", [("capture", "/v1/captures"), ("void", "/v1/voids"),
                                            ("refund", "/v1/refunds")])
def test_lifecycle_operations_send_the_operation_id_as_idempotency_key(fake, adapter, operation, path):
    fake.default = Reply(200, {"id": "op_1", "status": "approved"})
    answer = getattr(adapter, operation)(OPERATION, creds(fake))
    assert answer.outcome is Outcome.APPROVED and answer.reference == "op_1"
    (received,) = fake.received
    assert (received.method, received.path) == ("POST", path)
    assert received.headers["Idempotency-Key"] == OPERATION.operation_id
    assert received.body == {"operation_id": OPERATION.operation_id, "payment_id": REQUEST.payment_id,
                             "authorization_id": "auth_1", "amount": 700, "currency": "EUR",
                             "merchant_id": "merchant-42", "reason": "requested_by_customer"}


def test_an_operation_without_a_reason_sends_none(fake, adapter):
    import dataclasses

    fake.default = Reply(200, {"id": "op_2", "status": "approved"})
    adapter.void(dataclasses.replace(OPERATION, reason=None), creds(fake))
    (received,) = fake.received
    assert "reason" not in received.body


@pytest.mark.parametrize("status,revoked", [(200, True), (204, True), (401, True), (404, True), (201, False),
                                            (402, False), (405, False)])
def test_a_retired_key_is_revoked_or_already_gone_on_these_answers_only(fake, adapter, status, revoked):
    fake.default = Reply(status, {})
    retire = lambda: adapter.revoke_credentials(creds(fake), current={**creds(fake), "api_key": "sk_new"})  # noqa: E731
    if revoked:
        retire()
    else:
        with pytest.raises(RuntimeError, match=f"^the provider did not revoke the retired key \\(HTTP {status}\\)$"):
            retire()


@pytest.mark.parametrize("reply", [Reply(200, {"api_key": 7}), Reply(200, {}), Reply(300, {"api_key": "sk"}),
                                   Reply(200, raw=b"[]")])
def test_a_key_is_issued_only_by_a_2xx_answer_naming_it(fake, adapter, reply):
    fake.default = reply
    with pytest.raises(RuntimeError, match=f"^the provider did not issue a key \\(HTTP {reply.status}\\)$"):
        adapter.issue_credentials(creds(fake), idempotency_key="rotation-token-2")
    (received,) = fake.received
    assert received.body == {} and received.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("reply,outcome", [
    (Reply(402, {"decline_reason": "already_refunded"}), Outcome.DECLINED),
    (Reply(200, {"status": "declined", "decline_reason": "expired_authorization"}), Outcome.DECLINED),
    (Reply(503, {}), Outcome.RETRYABLE),
    (Reply(429, {}), Outcome.RETRYABLE),
    (Reply(500, {}), Outcome.UNKNOWN),
    (Reply(200, raw=b"{not json"), Outcome.UNKNOWN),
    (Reply(200, {"id": "late", "status": "approved"}, delay=1.0), Outcome.UNKNOWN),
])
@pytest.mark.parametrize("operation", ["capture", "void", "refund"])
def test_lifecycle_operations_in_every_failure_mode(fake, adapter, operation, reply, outcome):
    fake.default = reply
    assert getattr(adapter, operation)(OPERATION, creds(fake)).outcome is outcome


@pytest.mark.parametrize("operation", ["capture", "void", "refund"])
def test_lifecycle_operations_unreachable_are_retryable(adapter, operation):
    assert getattr(adapter, operation)(OPERATION, creds(refused_url())).outcome is Outcome.RETRYABLE


def test_an_adapter_written_before_0_2_says_the_operations_are_unsupported():
    class Legacy(PaymentProvider):
        def authorize(self, request, credentials):
            return Authorization.approve("x")

        status = authorize

        def issue_credentials(self, current, *, idempotency_key):
            return dict(current)

        def test_credentials(self, credentials):
            return None

        def revoke_credentials(self, retired, *, current):
            return None

    for operation in ("capture", "void", "refund"):
        with pytest.raises(UnsupportedOperation, match=f"Legacy does not implement {operation}"):
            getattr(Legacy(), operation)(OPERATION, {})


def test_the_sandbox_approves_every_operation_with_a_stable_reference():
    sandbox = SandboxProvider()
    answers = [getattr(sandbox, op)(OPERATION, {"api_key": "k"}) for op in ("capture", "void", "refund")]
    assert all(a.outcome is Outcome.APPROVED for a in answers)
    assert sandbox.refund(OPERATION, {"api_key": "k"}) == answers[2]


@pytest.mark.parametrize("status,data,expected", [
    (402, {"id": "a1", "decline_reason": "do_not_honor"}, Authorization.decline("do_not_honor", "a1")),
    (402, "not json", Authorization.decline("card_declined")),
    (402, {}, Authorization.decline("card_declined")),
    (200, {"status": "approved", "id": "a2"}, Authorization.approve("a2")),
    (200, {"status": "approved"}, Authorization.approve("")),
    (299, {"status": "declined", "id": "a3"}, Authorization.decline("card_declined", "a3")),
    (201, {"status": "declined", "decline_reason": "expired_card"}, Authorization.decline("expired_card")),
    (200, {"status": "pending"}, Authorization.unknown("unreadable answer (HTTP 200)")),
    (300, {"status": "approved"}, Authorization.unknown("HTTP 300")),
    (401, {}, Authorization.retryable("HTTP 401")),
    (403, {}, Authorization.retryable("HTTP 403")),
    (429, {}, Authorization.retryable("HTTP 429")),
    (503, {}, Authorization.retryable("HTTP 503")),
    (400, {}, Authorization.decline("provider_rejected_request_400")),
    (404, {}, Authorization.decline("provider_rejected_request_404")),
    (410, {}, Authorization.decline("provider_rejected_request_410")),
    (499, {}, Authorization.decline("provider_rejected_request_499")),
    (408, {}, Authorization.unknown("HTTP 408")),
    (409, {}, Authorization.unknown("HTTP 409")),
    (500, {}, Authorization.unknown("HTTP 500")),
    (504, {}, Authorization.unknown("HTTP 504")),
])
def test_every_answer_maps_to_one_outcome(status, data, expected):
    """What each HTTP answer means: approved or declined (with the provider's reference and reason), not
    processed (retry with the same key), refused as a request, or unknown (the event handler asks again)."""
    assert HttpProvider._interpret(status, data) == expected


def test_a_success_resets_the_breakers_count_and_its_opening_is_logged(logged):
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=3, clock=lambda: now[0])
    for success in (False, False, True, False, False):
        breaker.record(success)
    assert breaker.state == "closed"  # two failures since the success
    breaker.record(False)
    assert breaker.state == "open"
    [warning] = [json.loads(line) for line in logged().splitlines()]
    assert (warning["level"], warning["message"], warning["failures"]) == ("WARNING", "provider circuit opened", 3)


@pytest.mark.parametrize("status", [200, 299])
def test_any_2xx_answer_naming_a_key_issues_it(fake, adapter, status):
    fake.default = Reply(status, {"api_key": "sk_2xx"})
    assert adapter.issue_credentials(creds(fake), idempotency_key="rotation-token-3")["api_key"] == "sk_2xx"


def test_unreachable_names_what_failed_and_whether_the_request_may_have_arrived():
    from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError

    cases = [(ReadTimeoutError(None, "/", "slow"), Outcome.UNKNOWN, "read timeout after sending"),
             (MaxRetryError(None, "/", ConnectTimeoutError("slow")), Outcome.RETRYABLE,
              "not connected: ConnectTimeoutError"),
             (NewConnectionError(None, "refused"), Outcome.RETRYABLE, "not connected: NewConnectionError"),
             (ProtocolError("reset"), Outcome.UNKNOWN, "connection failed after sending: ProtocolError"),
             (MaxRetryError(None, "/", ProtocolError("reset")), Outcome.UNKNOWN,
              "connection failed after sending: ProtocolError")]
    for error, outcome, detail in cases:
        unreachable = http_module._unreachable(error)
        assert (unreachable.outcome, unreachable.detail, str(unreachable)) == (outcome, detail, detail)


def test_requests_carry_json_headers_and_a_body_only_when_they_send_one(fake, adapter):
    fake.default = Reply(200, {"id": "auth_9", "status": "approved"})
    adapter.status(REQUEST, {**creds(fake), "base_url": fake.base_url + "/"})  # a trailing slash is dropped
    (received,) = fake.received
    assert (received.method, received.path) == ("GET", f"/v1/authorizations/{REQUEST.payment_id}")
    assert received.headers["Accept"] == "application/json" and "Content-Type" not in received.headers
    assert received.body is None and "Content-Length" not in received.headers


def test_a_trailing_slash_of_the_base_url_is_dropped():
    # (http.server collapses a leading "//" of the path, so the fake provider alone would not see it.)
    assert HttpProvider()._base_url({"base_url": "https://provider.example/", "api_key": API_KEY}) == (
        "https://provider.example")
    assert HttpProvider()._base_url({"base_url": "https://provider.example/APIX/", "api_key": API_KEY}) == (
        "https://provider.example/APIX")


def test_a_404_is_a_refused_request_except_when_reading_an_authorization(fake, adapter):
    fake.default = Reply(404, {})
    assert adapter.authorize(REQUEST, creds(fake)) == Authorization.decline("provider_rejected_request_404")


def test_each_answer_is_logged_with_the_payment_method_and_outcome(fake, adapter, logged):
    fake.default = Reply(503, {})
    adapter.authorize(REQUEST, creds(fake))
    [line] = said(logged, "provider answered")
    assert {k: line.get(k) for k in ("payment_id", "http_method", "outcome", "detail")} == {
        "payment_id": REQUEST.payment_id, "http_method": "POST", "outcome": "RETRYABLE", "detail": "HTTP 503"}


def test_server_errors_trip_the_breaker_and_an_open_one_calls_nobody(fake, adapter):
    fake.default = Reply(500, {})
    for _ in range(3):
        adapter.authorize(REQUEST, creds(fake))
    assert adapter.breaker.state == "open"
    calls = len(fake.received)
    answer = adapter.authorize(REQUEST, creds(fake))
    assert answer == Authorization(Outcome.RETRYABLE, detail="circuit open: provider failing, not called")
    assert len(fake.received) == calls


def test_the_breakers_defaults_and_the_secrets_refusals():
    assert (CircuitBreaker().failure_threshold, CircuitBreaker().reset_after) == (5, 30.0)
    with pytest.raises(ValueError, match=r"^the provider secret's base_url must be an https:// URL$"):
        HttpProvider().authorize(REQUEST, {"api_key": API_KEY})
    with pytest.raises(ValueError, match="^the provider secret has no api_key$"):
        HttpProvider().authorize(REQUEST, {"base_url": "https://provider.example"})


def test_a_refused_new_key_names_the_answer(fake, adapter):
    fake.default = Reply(401, {})
    with pytest.raises(CredentialsRejected, match=r"^the provider refused the new key \(HTTP 401\)$"):
        adapter.test_credentials(creds(fake))
