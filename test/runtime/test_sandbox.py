"""The default adapter (runtime/providers/sandbox.py), the adapter interface's defaults and how the
functions load an adapter (runtime/providers/__init__.py), without AWS."""

from __future__ import annotations

import hashlib
import hmac
import sys
import types
from unittest import mock

import pytest

from cdk_payments.runtime import providers
from cdk_payments.runtime.providers import (
    Authorization,
    AuthorizationRequest,
    CredentialsRejected,
    OperationRequest,
    Outcome,
    UnsupportedOperation,
)
from cdk_payments.runtime.providers.sandbox import SandboxProvider

KEY = {"api_key": "sk_test_123"}


def request(token="tok_visa_abcdef12", payment_id="p-1", amount=1250, currency="EUR"):
    return AuthorizationRequest(payment_id=payment_id, payment_method_token=token, amount=amount,
                                currency=currency, merchant_id="merchant-42")


def operation(operation_id="op-1", amount=1000):
    return OperationRequest(operation_id=operation_id, payment_id="p-1", provider_reference="r", amount=amount,
                            currency="EUR", merchant_id="merchant-42")


def reference(key, message):
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()[:20]


def test_tokens_choose_the_outcome():
    sandbox = SandboxProvider()
    assert sandbox.authorize(request(), KEY) == Authorization.approve(reference("sk_test_123", "p-1:1250:EUR"))
    assert sandbox.authorize(request("tok_decline_1"), KEY) == Authorization.decline(
        "card_declined", reference("sk_test_123", "p-1:1250:EUR"))
    assert sandbox.authorize(request("tok_unavailable_1"), KEY) == Authorization.retryable(
        "sandbox: provider unavailable")
    assert sandbox.authorize(request("tok_timeout_1"), KEY) == Authorization.unknown(
        "sandbox: timed out after sending")
    assert sandbox.status(request("tok_timeout_1"), KEY).outcome is Outcome.APPROVED  # resolved later
    assert sandbox.authorize(request("x_tok_decline"), KEY).approved  # a prefix, not a substring


def test_references_follow_the_request_and_the_credentials():
    sandbox = SandboxProvider()
    base = sandbox.authorize(request(), KEY).reference
    others = {sandbox.authorize(request(payment_id="p-2"), KEY).reference,
              sandbox.authorize(request(amount=1251), KEY).reference,
              sandbox.authorize(request(currency="USD"), KEY).reference,
              sandbox.authorize(request(), {"api_key": "sk_rotated"}).reference}
    assert len(base) == 20 and base not in others and len(others) == 4


@pytest.mark.parametrize("method", ["capture", "void", "refund"])
def test_operations_are_approved_with_a_reference_per_operation(method):
    act = getattr(SandboxProvider(), method)
    answer = act(operation(), KEY)
    assert answer == Authorization.approve(reference("sk_test_123", "op-1:1000"))
    assert act(operation("op-2"), KEY).reference != answer.reference
    assert act(operation(amount=999), KEY).reference != answer.reference


def test_rotation_issues_a_new_key_and_tests_it():
    sandbox = SandboxProvider()
    current = {"api_key": "sk_test_123", "base_url": "https://sandbox.invalid"}
    new = sandbox.issue_credentials(current, idempotency_key="token-1")
    assert new["base_url"] == current["base_url"] and new["api_key"] != current["api_key"]
    assert len(new["api_key"]) == 43  # 32 random bytes
    assert sandbox.issue_credentials(current, idempotency_key="token-1")["api_key"] != new["api_key"]
    sandbox.test_credentials(new)
    for broken in ({}, {"api_key": ""}):
        with pytest.raises(CredentialsRejected, match="^the secret has no api_key$"):
            sandbox.test_credentials(broken)
    assert sandbox.revoke_credentials(current, current=new) is None


def test_an_adapter_without_lifecycle_methods_says_which_it_lacks():
    class Old(providers.PaymentProvider):
        authorize = status = issue_credentials = test_credentials = revoke_credentials = None  # type: ignore

    for method in ("capture", "void", "refund"):
        with pytest.raises(UnsupportedOperation, match=f"^Old does not implement {method}$"):
            getattr(Old(), method)(operation(), KEY)


def test_authorization_constructors():
    assert Authorization.approve("r") == Authorization(Outcome.APPROVED, "r") and Authorization.approve("r").approved
    declined = Authorization.decline("expired")
    assert (declined.outcome, declined.reference, declined.decline_reason) == (Outcome.DECLINED, None, "expired")
    assert Authorization.decline("expired", "auth_1") == Authorization(Outcome.DECLINED, "auth_1", "expired")
    assert not declined.approved
    assert Authorization.retryable("busy") == Authorization(Outcome.RETRYABLE, detail="busy")
    assert Authorization.unknown("lost") == Authorization(Outcome.UNKNOWN, detail="lost")
    assert [o.value for o in Outcome] == ["APPROVED", "DECLINED", "RETRYABLE", "UNKNOWN"]


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.delenv("PROVIDER_MODULE", raising=False)
    monkeypatch.delenv("PROVIDER_CLASS", raising=False)
    providers.provider.cache_clear()
    yield monkeypatch
    providers.provider.cache_clear()


def test_the_sandbox_is_the_default_and_one_instance_per_environment(fresh):
    adapter = providers.provider()
    assert type(adapter) is SandboxProvider and providers.provider() is adapter


def test_a_builtin_adapter_is_found_wherever_the_package_is_imported_from(fresh):
    fresh.setenv("PROVIDER_MODULE", "runtime.providers.sandbox")  # as the construct names it in the asset
    fresh.setenv("PROVIDER_CLASS", "SandboxProvider")
    assert type(providers.provider()) is SandboxProvider


def test_an_adapter_of_the_users_module_must_subclass_the_interface(fresh):
    module = types.ModuleType("acme_adapters")
    module.Acme = type("Acme", (SandboxProvider,), {})
    module.NotOne = type("NotOne", (), {})
    fresh.setitem(sys.modules, "acme_adapters", module)
    fresh.setenv("PROVIDER_MODULE", "acme_adapters")
    fresh.setenv("PROVIDER_CLASS", "Acme")
    assert type(providers.provider()) is module.Acme
    providers.provider.cache_clear()
    fresh.setenv("PROVIDER_CLASS", "NotOne")
    with pytest.raises(TypeError, match=r"^acme_adapters\.NotOne is not a runtime\.providers\.PaymentProvider$"):
        providers.provider()


def test_credentials_are_the_provider_secret_read_once_per_five_minutes(aws):
    import boto3
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    from cdk_payments.runtime import clients

    DEFAULT_PROVIDERS.pop("secrets", None)
    assert providers.credentials() == {"api_key": "sk_test_123"}
    # Read with the function's own client: no second boto3 session on the first request.
    assert DEFAULT_PROVIDERS["secrets"].client is clients.secretsmanager()
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.put_secret_value(SecretId="provider", SecretString='{"api_key": "sk_rotated"}')
    with mock.patch.object(clients, "secretsmanager", side_effect=AssertionError("a second client")):
        assert later(299, providers.credentials) == {"api_key": "sk_test_123"}  # cached
    assert later(301, providers.credentials) == {"api_key": "sk_rotated"}


def later(seconds, call):
    """``call()`` as if ``seconds`` had passed, for Powertools' parameter cache."""
    from datetime import datetime, timedelta

    from aws_lambda_powertools.utilities.parameters import base

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=seconds)

    with mock.patch.object(base, "datetime", Clock):
        return call()
