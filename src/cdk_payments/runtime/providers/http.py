"""A generic adapter for a payment provider with a JSON-over-HTTPS API.

Configured by the provider secret: ``{"base_url": "https://api.provider.example", "api_key": "..."}``.
The API it expects (adapt a subclass to your provider's paths and fields):

* ``POST /v1/authorizations`` with an ``Idempotency-Key: <payment_id>`` header and the body
  ``{payment_id, amount, currency, payment_method_token, merchant_id}`` answers 2xx with
  ``{"id", "status": "approved" | "declined", "decline_reason"}``, or 402 for a decline;
* ``GET /v1/authorizations/<payment_id>`` answers the same, or 404 when it never arrived;
* ``POST /v1/captures``, ``/v1/voids`` and ``/v1/refunds`` (since 0.2), each with an
  ``Idempotency-Key: <operation_id>`` header and the body ``{operation_id, payment_id,
  authorization_id, amount, currency, merchant_id}`` (refunds add ``reason``), answer like an
  authorization: ``{"id", "status": "approved" | "declined", "decline_reason"}``, or 402;
* ``POST /v1/api-keys`` (rotation, with an ``Idempotency-Key``) answers ``{"api_key"}``;
  ``GET /v1/api-keys/current`` checks a key; ``DELETE /v1/api-keys/current`` revokes the key it is
  called with.

Every call sends ``Authorization: Bearer <api_key>`` over verified TLS. Calls are retried with
exponential backoff and jitter by urllib3 (shipped with botocore in the Lambda runtime): every call
is idempotent (a read, or a write with an idempotency key), and a read timeout is never retried but
reported as an unknown outcome. A circuit breaker, one per execution environment, fails fast while
the provider is down. Log lines name the payment, the HTTP status and the outcome: never the token,
the key or a body.
"""

from __future__ import annotations

import inspect
import json
import time
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError, ReadTimeoutError, SSLError
from urllib3.util import Retry, Timeout

from ..observability import logger
from .base import (
    Authorization,
    AuthorizationRequest,
    Credentials,
    CredentialsRejected,
    OperationRequest,
    Outcome,
    PaymentProvider,
)

# 429 and 503 say the request was not processed; after other 5xx the outcome is unknown.
NOT_PROCESSED = frozenset({429, 503})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CircuitBreaker:
    """Closed, then open for ``reset_after`` seconds after ``failure_threshold`` failures in a row,
    then half-open: one trial call closes it again or reopens it.

    It lives as long as the adapter, i.e. one Lambda execution environment: every concurrent
    environment trips on its own, so a provider outage costs each of them a few failures, not more.
    Lambda runs one invocation at a time per environment, so no lock is needed.
    """

    def __init__(self, *, failure_threshold: int = 5, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold, self.reset_after, self._clock = failure_threshold, reset_after, clock
        self._failures = 0
        self._opened_at: Optional[float] = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.reset_after else "open"

    def allow(self) -> bool:
        return self.state != "open"

    def record(self, success: bool) -> None:
        if success:
            self._failures, self._opened_at = 0, None
            return
        self._failures += 1
        if self.state == "half-open" or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            logger.warning("provider circuit opened", extra={"failures": self._failures})


class ProviderUnreachable(Exception):
    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


class HttpProvider(PaymentProvider):
    """The generic JSON-over-HTTPS adapter; tune the class attributes in a subclass."""

    connect_timeout = 1.0
    read_timeout = 2.0
    attempt_timeout = 2.0
    """Connecting (TLS included) plus reading, per attempt."""
    retries = 2
    """Retries after the first attempt, for connection failures and RETRY_STATUSES."""
    backoff_factor = 0.1
    backoff_max = 0.25
    backoff_jitter = 0.1
    # Worst case (retries + 1) * attempt_timeout + retries * (backoff_max + backoff_jitter) = 6.7 s,
    # inside the processor's 10 s with room for DynamoDB and SQS; a read timeout is never retried.

    def __init__(self, *, allow_insecure_http: bool = False, breaker: Optional[CircuitBreaker] = None) -> None:
        """``allow_insecure_http`` exists for tests against a local fake provider only."""
        self._allow_http = allow_insecure_http
        self.breaker = breaker or CircuitBreaker()
        retry_options: dict[str, Any] = dict(
            total=self.retries, connect=self.retries, read=0, status=self.retries, other=0, redirect=0,
            allowed_methods=frozenset({"GET", "POST", "DELETE"}),  # each call is a read or carries a key
            status_forcelist=RETRY_STATUSES, backoff_factor=self.backoff_factor, backoff_max=self.backoff_max,
            respect_retry_after_header=False, raise_on_status=False, raise_on_redirect=False,
        )
        if "backoff_jitter" in inspect.signature(Retry).parameters:  # urllib3 2.x; 1.26 backs off without
            retry_options["backoff_jitter"] = self.backoff_jitter
        self._pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",  # verify the provider's certificate against the system CAs
            retries=Retry(**retry_options),
            timeout=Timeout(total=self.attempt_timeout, connect=self.connect_timeout, read=self.read_timeout),
        )

    # -- payments ------------------------------------------------------------------------------
    def authorize(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        body = {"payment_id": request.payment_id, "amount": request.amount, "currency": request.currency,
                "payment_method_token": request.payment_method_token, "merchant_id": request.merchant_id}
        return self._authorization("POST", "/v1/authorizations", credentials, request.payment_id, body=body)

    def status(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        answer = self._authorization("GET", f"/v1/authorizations/{request.payment_id}", credentials,
                                     request.payment_id, not_found_ok=True)
        if answer is None:  # it never arrived: send it now, under the same idempotency key
            return self.authorize(request, credentials)
        return answer

    # An unknown outcome is settled by sending the same operation again (same idempotency key).
    def capture(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation("/v1/captures", request, credentials)

    def void(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation("/v1/voids", request, credentials)

    def refund(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation("/v1/refunds", request, credentials)

    def _operation(self, path: str, request: OperationRequest, credentials: Credentials) -> Authorization:
        body = {"operation_id": request.operation_id, "payment_id": request.payment_id,
                "authorization_id": request.provider_reference, "amount": request.amount,
                "currency": request.currency, "merchant_id": request.merchant_id}
        if request.reason is not None:
            body["reason"] = request.reason
        answer = self._authorization("POST", path, credentials, request.operation_id, body=body)
        return answer or Authorization.unknown("no answer")  # not reached: not_found_ok is off

    def _authorization(self, method: str, path: str, credentials: Credentials, payment_id: str, *,
                       body: Optional[dict] = None, not_found_ok: bool = False) -> Optional[Authorization]:
        try:
            status, data = self._call(method, path, credentials, idempotency_key=payment_id, body=body)
        except ProviderUnreachable as error:
            answer = Authorization(error.outcome, detail=error.detail)
        else:
            if status == 404 and not_found_ok:
                return None
            answer = self._interpret(status, data)
        logger.info("provider answered", extra={"payment_id": payment_id, "http_method": method,
                                                "outcome": answer.outcome.value, "detail": answer.detail})
        return answer

    @staticmethod
    def _interpret(status: int, data: Any) -> Authorization:
        if status == 402:
            reason = data.get("decline_reason") if isinstance(data, dict) else None
            return Authorization.decline(str(reason or "card_declined"), _reference(data))
        if 200 <= status < 300:
            if not isinstance(data, dict) or data.get("status") not in ("approved", "declined"):
                return Authorization.unknown(f"unreadable answer (HTTP {status})")
            if data["status"] == "approved":
                return Authorization.approve(str(data.get("id", "")))
            return Authorization.decline(str(data.get("decline_reason") or "card_declined"), _reference(data))
        if status in NOT_PROCESSED or status in (401, 403):  # overloaded, or our credentials refused
            return Authorization.retryable(f"HTTP {status}")
        if 400 <= status < 500 and status not in (408, 409):
            return Authorization.decline(f"provider_rejected_request_{status}")
        return Authorization.unknown(f"HTTP {status}")

    # -- credentials ---------------------------------------------------------------------------
    def issue_credentials(self, current: Credentials, *, idempotency_key: str) -> dict[str, Any]:
        status, data = self._call("POST", "/v1/api-keys", current, idempotency_key=idempotency_key, body={})
        if not (200 <= status < 300 and isinstance(data, dict) and isinstance(data.get("api_key"), str)):
            raise RuntimeError(f"the provider did not issue a key (HTTP {status})")
        return {**current, "api_key": data["api_key"]}

    def test_credentials(self, credentials: Credentials) -> None:
        status, _ = self._call("GET", "/v1/api-keys/current", credentials)
        if status != 200:
            raise CredentialsRejected(f"the provider refused the new key (HTTP {status})")

    def revoke_credentials(self, retired: Credentials, *, current: Credentials) -> None:
        if retired.get("api_key") == current.get("api_key"):
            return
        status, _ = self._call("DELETE", "/v1/api-keys/current", retired)
        if status not in (200, 204, 401, 404):  # 401/404: already revoked
            raise RuntimeError(f"the provider did not revoke the retired key (HTTP {status})")

    # -- transport -----------------------------------------------------------------------------
    def _base_url(self, credentials: Credentials) -> str:
        url = str(credentials.get("base_url", "")).rstrip("/")
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and self._allow_http):
            raise ValueError("the provider secret's base_url must be an https:// URL")
        if not credentials.get("api_key"):
            raise ValueError("the provider secret has no api_key")
        return url

    def _call(self, method: str, path: str, credentials: Credentials, *, idempotency_key: Optional[str] = None,
              body: Optional[dict] = None) -> tuple[int, Any]:
        url = self._base_url(credentials) + path
        if not self.breaker.allow():
            raise ProviderUnreachable(Outcome.RETRYABLE, "circuit open: provider failing, not called")
        headers = {"Authorization": f"Bearer {credentials['api_key']}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._pool.request(method, url, headers=headers,
                                          body=json.dumps(body).encode() if body is not None else None)
        except (MaxRetryError, HTTPError) as error:
            self.breaker.record(False)
            raise _unreachable(error) from None
        self.breaker.record(response.status < 500 and response.status not in NOT_PROCESSED)
        try:
            data = json.loads(response.data) if response.data else None
        except ValueError:
            data = None
        return response.status, data


def _reference(data: Any) -> Optional[str]:
    return str(data["id"]) if isinstance(data, dict) and data.get("id") else None


def _unreachable(error: Exception) -> ProviderUnreachable:
    reason = error.reason if isinstance(error, MaxRetryError) else error
    if isinstance(reason, ReadTimeoutError):
        return ProviderUnreachable(Outcome.UNKNOWN, "read timeout after sending")
    if isinstance(reason, (ConnectTimeoutError, SSLError)):  # includes refused and unresolvable
        return ProviderUnreachable(Outcome.RETRYABLE, f"not connected: {type(reason).__name__}")
    return ProviderUnreachable(Outcome.UNKNOWN, f"connection failed after sending: {type(reason).__name__}")
