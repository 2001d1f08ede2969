"""Webhooks to merchants, per the Standard Webhooks specification (https://www.standardwebhooks.com/).

Each delivery is a POST of the event's JSON with ``webhook-id`` (the event id: the same on every
retry, so the merchant dedupes on it), ``webhook-timestamp`` (seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` under the merchant's ``whsec_`` secret).

Safety: HTTPS only; the endpoint's name is resolved once, every address it resolves to must be
public (no private, loopback, link-local, metadata, multicast or reserved address), and the request
goes to that checked address with the name as TLS SNI, certificate name and Host header, so a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it. Redirects
are not followed; each attempt has a short timeout.

Retries: at least once, with exponential backoff (``next_delay``) for up to ``RETRY_WINDOW_SECONDS``
(3 days), then the message is dead-lettered, whence it can be replayed (redriven). A failing endpoint
delays only its own messages: each message waits out its own backoff, and within a batch a merchant
whose endpoint failed once gets no second attempt (one timeout per batch, not one per message).

Secrets: ``WEBHOOK_SECRETS`` maps each merchant id to its secret's ARN (``{"url", "secret"}``, and
during a rotation's grace period ``previous`` and ``previous_until``: both secrets sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

import urllib3
from urllib3.util import Timeout

RETRY_WINDOW_SECONDS = 3 * 24 * 3600
FIRST_DELAY_SECONDS = 5
BACKOFF_FACTOR = 6
# SQS refuses a visibility timeout that ends more than 12 hours after the message was received: 11 h
# leaves room for the attempt itself.
MAX_DELAY_SECONDS = 11 * 3600
TIMEOUT = Timeout(connect=3.0, read=10.0)
SECRET_PREFIX = "whsec_"


class UnsafeEndpoint(ValueError):
    """The endpoint is not HTTPS or resolves to an address a webhook must never reach."""


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    status: Optional[int] = None
    detail: str = ""


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret)
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets: Sequence[str], webhook_id: str, timestamp: int, body: str) -> str:
    """The header with one ``v1,`` signature per secret, space-separated (a rotation's grace period)."""
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets)


def new_secret() -> str:
    import secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def next_delay(attempt: int, first_attempt_at: float, now: float) -> Optional[int]:
    """Seconds before attempt ``attempt + 1`` (5 s, 30 s, 3 min, 18 min, 1.8 h, 10.8 h, then 11 h), or
    None when the retry window is over and the message goes to the dead-letter queue."""
    delay = min(FIRST_DELAY_SECONDS * BACKOFF_FACTOR ** max(attempt - 1, 0), MAX_DELAY_SECONDS)
    if now + delay - first_attempt_at > RETRY_WINDOW_SECONDS:
        return None
    return int(delay)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def resolve(host: str, port: int, *, allow_loopback: bool = False,
            getaddrinfo: Callable[..., Any] = socket.getaddrinfo) -> str:
    """Resolve ``host`` once; every address must be public. Returns the address to connect to."""
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise UnsafeEndpoint(f"{host} does not resolve: {error}") from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise UnsafeEndpoint(f"{host} does not resolve")
    for address in addresses:
        if not (_public(address) or (allow_loopback and ipaddress.ip_address(address).is_loopback)):
            raise UnsafeEndpoint(f"{host} resolves to {address}, which is not a public address")
    return addresses[0]


def deliver(url: str, secret: str | Sequence[str], webhook_id: str, payload: Mapping[str, Any], *,
            insecure_loopback_for_tests: bool = False, now: Optional[float] = None,
            getaddrinfo: Callable[..., Any] = socket.getaddrinfo) -> Attempt:
    """One delivery attempt. ``insecure_loopback_for_tests`` admits ``http://127.0.0.1`` only: a switch
    for local tests that the construct never sets."""
    parts = urlsplit(url)
    local = insecure_loopback_for_tests and parts.scheme == "http" and parts.hostname == "127.0.0.1"
    if parts.scheme != "https" and not local:
        raise UnsafeEndpoint("webhook endpoints must be https:// URLs")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeEndpoint("the endpoint must name a host and carry no credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port, allow_loopback=local, getaddrinfo=getaddrinfo)
    body = json.dumps(payload, separators=(",", ":"), default=int)
    timestamp = int(now if now is not None else time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "cdk-payments-webhooks/1",
               "Host": parts.netloc.rsplit("@", 1)[-1], "webhook-id": webhook_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": signatures([secret] if isinstance(secret, str) else secret, webhook_id, timestamp,
                                               body)}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":  # to the checked address; SNI and certificate checked against the name
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=parts.hostname, assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED", timeout=TIMEOUT, retries=False)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=TIMEOUT, retries=False)
    try:
        response = pool.urlopen("POST", path, body=body.encode(), headers=headers, redirect=False,
                                preload_content=True, release_conn=True)
    except urllib3.exceptions.HTTPError as error:
        return Attempt(False, detail=type(error).__name__)
    finally:
        pool.close()
    return Attempt(200 <= response.status < 300, response.status, f"HTTP {response.status}")


# -- the delivery function: an SQS consumer of the bus's payment events ----------------------------------
ALLOW_LOOPBACK_FOR_TESTS = False
"""Set only by tests (never from configuration): admits http://127.0.0.1 endpoints."""


class DeliveryFailed(Exception):
    """The endpoint did not accept the event; the message comes back after its backoff."""


def endpoint(merchant_id: str) -> Optional[dict[str, Any]]:
    """The merchant's ``{"url", "secret"[, "previous", "previous_until"]}`` from its secret (the ARN in
    the ``WEBHOOK_SECRETS`` map), read on every delivery so that a rotated secret signs the next
    attempt; None when the merchant has no endpoint."""
    import os

    from . import clients

    arn = json.loads(os.environ.get("WEBHOOK_SECRETS") or "{}").get(merchant_id)
    if arn is None:
        return None
    return json.loads(clients.secretsmanager().get_secret_value(SecretId=arn)["SecretString"])


def signing_secrets(config: Mapping[str, Any], now: float) -> list[str]:
    """The current secret, and the previous one while a rotation's grace period lasts."""
    secrets = [str(config["secret"])]
    if config.get("previous") and now < float(config.get("previous_until") or 0):
        secrets.append(str(config["previous"]))
    return secrets


def payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks body for one EventBridge payment event: type, timestamp, data."""
    return {"type": "payment." + event["detail-type"].removeprefix("Payment ").lower(), "timestamp": event["time"],
            "data": event["detail"]}


def handle(body: str, receive_count: int, receipt_handle: str, *, now: Optional[float] = None,
           failing: Optional[set[str]] = None) -> Attempt:
    """Deliver one queued event (the EventBridge envelope), or schedule its retry, or dead-letter it.
    ``failing``: merchants whose endpoint already failed in this batch: their further messages wait
    out their backoff without another attempt, so a slow endpoint costs the batch one timeout only."""
    import os
    from datetime import datetime

    from . import clients

    event = json.loads(body)
    detail = event["detail"]
    merchant = detail["merchant_id"]
    config = endpoint(merchant)
    if config is None:  # no endpoint for this merchant (the rule routes only configured ones)
        return Attempt(False, detail="no endpoint")
    now = time.time() if now is None else now
    if failing is not None and merchant in failing:
        attempt = Attempt(False, detail="the endpoint failed earlier in this batch")
    else:
        try:
            attempt = deliver(config["url"], signing_secrets(config, now), detail["event_id"], payload(event),
                              insecure_loopback_for_tests=ALLOW_LOOPBACK_FOR_TESTS, now=now)
        except UnsafeEndpoint as error:
            attempt = Attempt(False, detail=str(error))
    if attempt.delivered:
        return attempt
    if failing is not None:
        failing.add(merchant)
    first = datetime.fromisoformat(event["time"]).timestamp()  # reads "Z" since Python 3.11
    delay = next_delay(receive_count, first, now)
    if delay is None:  # three days of retries are over: park it where it can be replayed
        clients.sqs().send_message(QueueUrl=os.environ["WEBHOOK_DLQ_URL"], MessageBody=body)
        return attempt
    clients.sqs().change_message_visibility(QueueUrl=os.environ["WEBHOOK_QUEUE_URL"], ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=delay)
    raise DeliveryFailed(f"attempt {receive_count}: {attempt.detail}; next in {delay} s")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The delivery function: each message alone, a failed one reported back to SQS (partial batch
    response) after its visibility timeout was set to its backoff, so other merchants' messages in
    the batch are delivered now and never wait for it."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    failing: set[str] = set()

    def record_handler(record: Any) -> None:
        handle(record.body, int(record.attributes.approximate_receive_count), record.receipt_handle,
               failing=failing)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
