"""`PaymentsClient`: the payment API over HTTPS, SigV4-signed with botocore's credentials.

Retries are limited to what cannot do anything twice: every request this client sends is idempotent
(GETs, and POSTs carrying an ``Idempotency-Key`` that is generated once per logical request and sent
again, unchanged, on each retry), and only answers that say "try again" are retried: 429, 502, 503,
504 and no answer at all. ``Retry-After`` is honoured; otherwise the wait is full-jitter exponential
backoff with a cap.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
import urllib.parse
import uuid
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import boto3
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import RefreshableCredentials

from .errors import PaymentsConnectionError, error_from
from .models import CreatedPayment, Payment, PaymentPage

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
USER_AGENT = "cdk-payments-client"
# What API Gateway says (403) to a SigV4 signature scoped to another region than its own.
WRONG_REGION = "Credential should be scoped to a valid region"


def new_idempotency_key() -> str:
    """A fresh key for one logical request (36 characters of ``[0-9a-f-]``, never card-like digits)."""
    return f"cdkp-{uuid.uuid4()}"


class PaymentsClient:
    """A merchant backend's client of a deployed ``SecurePaymentApi`` (IAM authorization).

    :param api_url: the stage's invoke URL (the example's ``ApiUrl`` output), e.g.
        ``https://abc123.execute-api.eu-west-1.amazonaws.com/prod/``.
    :param session: where credentials come from (default: ``boto3.Session()``, the usual chain).
    :param region: the region to sign for (default: read from an execute-api URL, else the session's).
    :param failover_regions: the other regions that may answer at ``api_url`` (a warm standby's domain name,
        whose Route 53 failover pair sends requests to the standby's region when the primary's fails): a request
        the gateway refuses as signed for the wrong region is signed for the next of them, which the client
        then keeps signing for.
    :param role_arn: assume this role (STS) and sign as its session, refreshed before it expires.
    :param role_session_name: the session name when assuming ``role_arn``.
    :param sts_endpoint_url: STS endpoint for ``role_arn`` (an emulator's, for instance).
    :param max_attempts: tries per logical request, the first included.
    :param backoff_base: seconds; the n-th retry waits a random time in [0, min(cap, base * 2**n)].
    :param backoff_cap: seconds; the longest wait between two tries, ``Retry-After`` included.
    :param timeout: seconds to connect and to read each answer.
    """

    def __init__(self, api_url: str, *, session: Optional[boto3.Session] = None, region: Optional[str] = None,
                 failover_regions: Sequence[str] = (), role_arn: Optional[str] = None,
                 role_session_name: str = "cdk-payments-client",
                 sts_endpoint_url: Optional[str] = None, max_attempts: int = 4, backoff_base: float = 0.2,
                 backoff_cap: float = 5.0, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.api_url = api_url.rstrip("/") + "/"
        session = session or boto3.Session()
        host = urllib.parse.urlsplit(self.api_url).hostname or ""
        matched = _EXECUTE_API_HOST.match(host)
        self.region = region or (matched.group(1) if matched else None) or session.region_name or "us-east-1"
        self.regions = (self.region, *(r for r in failover_regions if r != self.region))
        self._credentials = (_assumed_role_credentials(session, role_arn, role_session_name, self.region,
                                                       sts_endpoint_url)
                             if role_arn else session.get_credentials())
        if self._credentials is None:
            raise ValueError("no AWS credentials found: configure a profile or pass session=")
        self.max_attempts, self.backoff_base, self.backoff_cap = max_attempts, backoff_base, backoff_cap
        self._sleep = sleep
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)

    # -- the API -----------------------------------------------------------------------------------
    def create_payment(self, *, amount: int, currency: str, payment_method_token: str,
                       description: Optional[str] = None, metadata: Optional[Mapping[str, str]] = None,
                       merchant_id: Optional[str] = None, idempotency_key: Optional[str] = None) -> CreatedPayment:
        """``POST /payments``. Pass ``idempotency_key`` to make a later call the same logical request
        (its answer is then the first one's); by default each call is a new payment."""
        body: dict[str, Any] = {"amount": amount, "currency": currency, "payment_method_token": payment_method_token}
        optional = {"description": description, "metadata": dict(metadata) if metadata else None,
                    "merchant_id": merchant_id}
        body.update({k: v for k, v in optional.items() if v is not None})
        key = idempotency_key or new_idempotency_key()
        answer = self.request("POST", "payments", body=body, headers={"Idempotency-Key": key})
        return CreatedPayment.from_json(answer, key)

    def get_payment(self, payment_id: str) -> Payment:
        """``GET /payments/{payment_id}``; another merchant's payment raises ``PaymentNotFoundError``."""
        return Payment.from_json(self.request("GET", f"payments/{urllib.parse.quote(payment_id, safe='')}"))

    def list_payments_page(self, *, status: Optional[str] = None, created_from: Optional[str] = None,
                           created_to: Optional[str] = None, limit: Optional[int] = None,
                           cursor: Optional[str] = None) -> PaymentPage:
        """One page of ``GET /payments`` (newest first)."""
        query = {"status": status, "created_from": created_from, "created_to": created_to,
                 "limit": None if limit is None else str(limit), "cursor": cursor}
        answer = self.request("GET", "payments", query={k: v for k, v in query.items() if v is not None})
        return PaymentPage([Payment.from_json(p) for p in answer["payments"]], answer.get("next_cursor"))

    def list_payments(self, *, status: Optional[str] = None, created_from: Optional[str] = None,
                      created_to: Optional[str] = None, page_size: Optional[int] = None) -> Iterator[Payment]:
        """Every payment of the caller's merchant matching the filters, newest first, fetched a page at a
        time as the iterator is consumed (following ``next_cursor``)."""
        cursor: Optional[str] = None
        while True:
            page = self.list_payments_page(status=status, created_from=created_from, created_to=created_to,
                                           limit=page_size, cursor=cursor)
            yield from page.payments
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def capture_payment(self, payment_id: str, *, amount: Optional[int] = None,
                        idempotency_key: Optional[str] = None) -> dict[str, Any]:
        """``POST /payments/{payment_id}/capture`` (all of the authorization unless ``amount``)."""
        return self._operation(payment_id, "capture", {} if amount is None else {"amount": amount}, idempotency_key)

    def void_payment(self, payment_id: str, *, idempotency_key: Optional[str] = None) -> dict[str, Any]:
        """``POST /payments/{payment_id}/void``: cancel an authorization before capture."""
        return self._operation(payment_id, "void", {}, idempotency_key)

    def refund_payment(self, payment_id: str, *, amount: int, reason: Optional[str] = None,
                       idempotency_key: Optional[str] = None) -> dict[str, Any]:
        """``POST /payments/{payment_id}/refunds``: refund ``amount`` (several refunds may follow)."""
        body: dict[str, Any] = {"amount": amount, **({"reason": reason} if reason else {})}
        return self._operation(payment_id, "refunds", body, idempotency_key)

    def list_refunds(self, payment_id: str) -> dict[str, Any]:
        """``GET /payments/{payment_id}/refunds``: the payment's refunds and amounts."""
        return self.request("GET", f"payments/{urllib.parse.quote(payment_id, safe='')}/refunds")

    def _operation(self, payment_id: str, operation: str, body: dict[str, Any],
                   idempotency_key: Optional[str]) -> dict[str, Any]:
        # One key per logical operation, reused by request()'s retries.
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        return self.request("POST", f"payments/{urllib.parse.quote(payment_id, safe='')}/{operation}", body=body,
                            headers=headers)

    # -- one logical request -----------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: Any = None, query: Optional[Mapping[str, str]] = None,
                headers: Optional[Mapping[str, str]] = None) -> Any:
        """Send one logical request (signed afresh for each try) and return its JSON answer; raises the
        error code's :class:`~cdk_payments.client.errors.ApiError` subclass."""
        url = urllib.parse.urljoin(self.api_url, path.lstrip("/"))
        if query:
            url += "?" + urllib.parse.urlencode(sorted(query.items()))
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            headers["Content-Type"] = "application/json"
        retry_safe = method in IDEMPOTENT_METHODS or "Idempotency-Key" in headers
        for attempt in range(self.max_attempts):
            last = attempt == self.max_attempts - 1 or not retry_safe
            tried = {self.region}
            try:
                response = self._http.request(method, url, body=data, headers=self._sign(method, url, data, headers),
                                              redirect=False)
                answer = _json(response.data)
                # Another region answered (a failover): sign for the next one, once per region.
                while response.status == 403 and WRONG_REGION in json.dumps(answer) and self._next_region(tried):
                    response = self._http.request(method, url, body=data, redirect=False,
                                                  headers=self._sign(method, url, data, headers))
                    answer = _json(response.data)
            except urllib3.exceptions.HTTPError as error:
                if last:
                    raise PaymentsConnectionError(f"{method} {url}: no answer ({error})") from error
                self._sleep(self._backoff(attempt))
                continue
            if response.status < 400:
                return answer
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if last or response.status not in RETRYABLE_STATUSES:
                raise error_from(response.status, answer, request_id=_request_id(response.headers),
                                 retry_after=retry_after)
            self._sleep(min(self.backoff_cap, retry_after) if retry_after is not None else self._backoff(attempt))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _next_region(self, tried: set[str]) -> bool:
        untried = [region for region in self.regions if region not in tried]
        if untried:
            self.region = untried[0]
            tried.add(self.region)
        return bool(untried)

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** attempt))

    def _sign(self, method: str, url: str, data: Optional[bytes], headers: Mapping[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=data, headers=dict(headers))
        # Frozen: a refreshable credential must not change between the signature's parts.
        SigV4Auth(self._credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
        return dict(request.headers.items())


def _assumed_role_credentials(session: boto3.Session, role_arn: str, session_name: str, region: str,
                              endpoint_url: Optional[str]) -> RefreshableCredentials:
    sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)

    def refresh() -> dict[str, str]:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return {"access_key": answer["AccessKeyId"], "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"], "expiry_time": answer["Expiration"].isoformat()}

    return RefreshableCredentials.create_from_metadata(refresh(), refresh, "assume-role")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode(errors="replace")


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _request_id(headers: Mapping[str, str]) -> Optional[str]:
    return headers.get("X-Request-Id") or headers.get("x-amzn-RequestId") or headers.get("x-amz-apigw-id")

