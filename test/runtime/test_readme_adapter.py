"""The documented example adapter (docs/providers.md, "Your own adapter") runs against the fake provider."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from cdk_payments import runtime
from cdk_payments.runtime import providers
from cdk_payments.runtime.providers import AuthorizationRequest, CredentialsRejected, Outcome

from .fake_provider import FakeProvider, Reply

README = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
REQUEST = AuthorizationRequest(payment_id="5f0c1d2e-0000-4000-8000-000000000002", payment_method_token="tok_acme_1",
                               amount=990, currency="EUR", merchant_id="merchant-7")


@pytest.fixture
def acme(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    (source,) = [b for b in blocks if b.startswith('"""Acme Pay')]
    # In the functions' asset the package is importable as `runtime`, as the example imports it.
    monkeypatch.setitem(sys.modules, "runtime", runtime)
    monkeypatch.setitem(sys.modules, "runtime.providers", providers)
    module = types.ModuleType("acme_pay_adapter")
    exec(compile(source, "docs/providers.md", "exec"), module.__dict__)
    return module.AcmePay()


@pytest.fixture
def fake():
    server = FakeProvider(default=Reply(200, {"id": "ch_1", "outcome": "authorized"})).start()
    yield server
    server.stop()


def test_the_readme_adapter_maps_every_outcome(acme, fake):
    creds = {"base_url": fake.base_url, "api_key": "sk_acme"}
    assert acme.authorize(REQUEST, creds).reference == "ch_1"
    assert fake.received[0].headers["Idempotency-Key"] == REQUEST.payment_id
    fake.script = [Reply(402, {"id": "ch_2", "decline_code": "insufficient_funds"})]
    assert acme.authorize(REQUEST, creds).decline_reason == "insufficient_funds"
    fake.script = [Reply(503, {})] * 3
    assert acme.authorize(REQUEST, creds).outcome is Outcome.RETRYABLE
    fake.script = [Reply(200, raw=b"<html>")]
    assert acme.authorize(REQUEST, creds).outcome is Outcome.UNKNOWN
    assert acme.status(REQUEST, creds).outcome is Outcome.APPROVED


def test_the_readme_adapter_rotates_keys(acme, fake):
    creds = {"base_url": fake.base_url, "api_key": "sk_old"}
    fake.script = [Reply(200, {"secret": "sk_new"}), Reply(200, {}), Reply(401, {}), Reply(204, {})]
    new = acme.issue_credentials(creds, idempotency_key="token-1")
    assert new["api_key"] == "sk_new"
    acme.test_credentials(new)
    with pytest.raises(CredentialsRejected):
        acme.test_credentials(creds)
    acme.revoke_credentials(creds, current=new)
    assert [(r.method, r.path) for r in fake.received] == [("POST", "/api_keys"), ("GET", "/account"),
                                                           ("GET", "/account"), ("DELETE", "/api_keys/self")]
