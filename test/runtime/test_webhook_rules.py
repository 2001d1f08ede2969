"""Webhook delivery's rules without a network or AWS (runtime/webhooks.py): the signature a merchant
verifies, the backoff schedule and its 3-day window, which addresses an endpoint may resolve to, and
the body's shape. test_webhooks.py delivers to a real local receiver."""

from __future__ import annotations

import base64
import socket
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from cdk_payments.runtime import webhooks

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_the_signature_is_the_standard_webhooks_one():
    stamp = 1_767_225_600
    expected = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(stamp, timezone.utc), '{"a":1}')
    assert webhooks.sign(SECRET, "msg_1", stamp, '{"a":1}') == expected
    # A secret without its prefix is the same key.
    assert webhooks.sign(SECRET[len("whsec_"):], "msg_1", stamp, '{"a":1}') == expected
    assert webhooks.sign(SECRET, "msg_2", stamp, '{"a":1}') != expected


def test_new_secrets_are_random_32_byte_whsec_keys():
    one, two = webhooks.new_secret(), webhooks.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one[len("whsec_"):])) == 32


def test_the_backoff_schedule_is_capped_at_eleven_hours():
    delays = [webhooks.next_delay(attempt, 0, 0) for attempt in range(0, 9)]
    assert delays == [5, 5, 30, 180, 1080, 6480, 38880, 39600, 39600]


def test_no_retry_after_the_three_day_window():
    window = webhooks.RETRY_WINDOW_SECONDS
    assert window == 3 * 24 * 3600
    assert webhooks.next_delay(1, 1000, 1000 + window - 5) == 5  # ends exactly at the window: still tried
    assert webhooks.next_delay(1, 1000, 1000 + window - 4) is None
    assert webhooks.next_delay(7, 0, window - 39600) == 39600
    assert webhooks.next_delay(7, 0, window - 39599) is None


def resolver(*addresses, name="hooks.example", port=443):
    def getaddrinfo(host, asked_port, type=0):
        assert (host, asked_port, type) == (name, port, socket.SOCK_STREAM)  # the endpoint's own name and port
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port)) for a in addresses]

    return getaddrinfo


def test_a_public_name_resolves_to_its_lowest_checked_address():
    assert webhooks.resolve("hooks.example", 443, getaddrinfo=resolver("93.184.215.14", "8.8.8.8")) == "8.8.8.8"
    assert webhooks.resolve("hooks.example", 443, getaddrinfo=resolver("2606:4700::1111")) == "2606:4700::1111"


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "224.0.0.1", "240.0.0.1",
                                     "::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "ff02::1",
                                     "0.0.0.0", "192.0.2.1"])
def test_non_public_addresses_are_refused(address):
    with pytest.raises(webhooks.UnsafeEndpoint, match=f"^hooks.example resolves to {address}, which is not a "
                                                      "public address$"):
        webhooks.resolve("hooks.example", 443, getaddrinfo=resolver(address))


def test_loopback_only_with_the_test_switch():
    loopback = resolver("127.0.0.1", name="127.0.0.1", port=8080)
    assert webhooks.resolve("127.0.0.1", 8080, allow_loopback=True, getaddrinfo=loopback) == "127.0.0.1"
    with pytest.raises(webhooks.UnsafeEndpoint):
        webhooks.resolve("hooks.example", 443, allow_loopback=True, getaddrinfo=resolver("10.0.0.1"))


def test_a_name_that_does_not_resolve():
    def failing(host, port, type=0):
        raise socket.gaierror("Name or service not known")

    with pytest.raises(webhooks.UnsafeEndpoint, match="^nowhere.example does not resolve: Name or service not known$"):
        webhooks.resolve("nowhere.example", 443, getaddrinfo=failing)
    with pytest.raises(webhooks.UnsafeEndpoint, match="^nowhere.example does not resolve$"):
        webhooks.resolve("nowhere.example", 443, getaddrinfo=resolver(name="nowhere.example"))


@pytest.mark.parametrize("url,message", [
    ("http://hooks.example/p", "webhook endpoints must be https:// URLs"),
    ("http://127.0.0.1:8080/p", "webhook endpoints must be https:// URLs"),  # without the test switch
    ("https:///p", "the endpoint must name a host and carry no credentials"),
    ("https://user@hooks.example/p", "the endpoint must name a host and carry no credentials"),
    ("https://:pw@hooks.example/p", "the endpoint must name a host and carry no credentials"),
])
def test_endpoint_urls_are_refused_before_any_lookup(url, message):
    def never(*args, **kwargs):
        raise AssertionError("resolved")

    with pytest.raises(webhooks.UnsafeEndpoint, match=f"^{message}$"):
        webhooks.deliver(url, SECRET, "id", {}, getaddrinfo=never)


def test_the_body_is_the_event_as_a_standard_webhook():
    event = {"detail-type": "Payment Captured", "time": "2026-01-01T00:00:00Z", "detail": {"a": 1}}
    assert webhooks.payload(event) == {"type": "payment.captured", "timestamp": "2026-01-01T00:00:00Z",
                                       "data": {"a": 1}}


class Pool:
    """urllib3's connection pool, recorded: what deliver() connects to and sends, without a network."""

    made: list["Pool"] = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.requests, self.closed = args, kwargs, [], False
        Pool.made.append(self)

    def urlopen(self, *args, **kwargs):
        self.requests.append((args, kwargs))
        if isinstance(self.answer, Exception):
            raise self.answer
        return type("Response", (), {"status": self.answer})()

    def close(self):
        self.closed = True


@pytest.fixture
def pools(monkeypatch):
    Pool.made, Pool.answer = [], 204
    monkeypatch.setattr(webhooks.urllib3, "HTTPSConnectionPool", type("HTTPS", (Pool,), {}))
    monkeypatch.setattr(webhooks.urllib3, "HTTPConnectionPool", type("HTTP", (Pool,), {}))
    return Pool


def test_https_goes_to_the_checked_address_with_the_certificate_checked_against_the_name(pools):
    from decimal import Decimal

    attempt = webhooks.deliver("https://hooks.example/hooks/pay?m=1", SECRET, "msg_1",
                               {"amount": Decimal("1250"), "currency": "EUR"}, now=1733212345.9,
                               getaddrinfo=resolver("93.184.215.14"))
    assert attempt == webhooks.Attempt(True, 204, "HTTP 204")
    (pool,) = pools.made
    assert type(pool).__name__ == "HTTPS" and pool.closed
    assert pool.args == ("93.184.215.14", 443)  # the address resolve() checked: no second lookup to rebind
    assert pool.kwargs == {"server_hostname": "hooks.example", "assert_hostname": "hooks.example",
                           "cert_reqs": "CERT_REQUIRED", "timeout": webhooks.TIMEOUT, "retries": False}
    body = '{"amount":1250,"currency":"EUR"}'
    ((method, path), options), = pool.requests
    assert (method, path) == ("POST", "/hooks/pay?m=1")
    assert options == {"body": body.encode(), "redirect": False, "preload_content": True, "release_conn": True,
                       "headers": {"Content-Type": "application/json", "User-Agent": "cdk-payments-webhooks/1",
                                   "Host": "hooks.example", "webhook-id": "msg_1",
                                   "webhook-timestamp": "1733212345",
                                   "webhook-signature": webhooks.sign(SECRET, "msg_1", 1733212345, body)}}


def test_the_request_path_and_host_header(pools):
    webhooks.deliver("https://hooks.example:8443", SECRET, "id", {}, getaddrinfo=resolver("8.8.8.8", port=8443))
    webhooks.deliver("https://@hooks.example/p", SECRET, "id", {}, getaddrinfo=resolver("8.8.8.8"))
    ported, anonymous = pools.made
    ((_, path), options), = ported.requests
    assert (path, ported.args[1], options["headers"]["Host"]) == ("/", 8443, "hooks.example:8443")
    ((_, path), options), = anonymous.requests
    assert (path, options["headers"]["Host"]) == ("/p", "hooks.example")


def test_loopback_http_for_tests_connects_plainly_to_port_80_by_default(pools):
    webhooks.deliver("http://127.0.0.1/h", SECRET, "id", {}, insecure_loopback_for_tests=True,
                     getaddrinfo=resolver("127.0.0.1", name="127.0.0.1", port=80))
    (pool,) = pools.made
    assert type(pool).__name__ == "HTTP" and pool.args == ("127.0.0.1", 80)
    assert pool.kwargs == {"timeout": webhooks.TIMEOUT, "retries": False}


@pytest.mark.parametrize("status,delivered", [(199, False), (200, True), (299, True), (300, False), (301, False),
                                              (500, False)])
def test_only_a_2xx_answer_is_a_delivery(pools, status, delivered):
    pools.answer = status
    attempt = webhooks.deliver("https://hooks.example/p", SECRET, "id", {}, getaddrinfo=resolver("8.8.8.8"))
    assert attempt == webhooks.Attempt(delivered, status, f"HTTP {status}")


def test_a_connection_error_is_a_failed_attempt_named_after_it(pools):
    import urllib3

    pools.answer = urllib3.exceptions.ConnectTimeoutError("connect timed out")
    attempt = webhooks.deliver("https://hooks.example/p", SECRET, "id", {}, getaddrinfo=resolver("8.8.8.8"))
    assert attempt == webhooks.Attempt(False, None, "ConnectTimeoutError") and pools.made[0].closed


def test_the_previous_secret_signs_until_its_grace_ends_exclusive():
    config = {"secret": "new", "previous": "old", "previous_until": 100}
    assert webhooks.signing_secrets(config, 99.5) == ["new", "old"]
    assert webhooks.signing_secrets(config, 100) == ["new"]
    assert webhooks.signing_secrets({"secret": "new", "previous": "old"}, 99.5) == ["new"]


@pytest.mark.parametrize("detail_type,kind", [("Payment Captured", "captured"), ("Payment Requires_Action",
                                                                                  "requires_action")])
def test_the_type_names_the_event(detail_type, kind):
    assert webhooks.payload({"detail-type": detail_type, "time": "t", "detail": {}})["type"] == f"payment.{kind}"


def test_an_endpoint_needs_its_merchants_secret(monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRETS", raising=False)
    assert webhooks.endpoint("merchant-42") is None
