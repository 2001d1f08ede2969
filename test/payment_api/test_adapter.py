"""SecurePaymentApi's provider_adapter prop: built-in adapters, your own bundled beside the runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_

from cdk_payments import ProviderAdapter, SecurePaymentApi

from ..harness import synth

ADAPTER = '''
from runtime.providers import Authorization, PaymentProvider


class AcmePay(PaymentProvider):
    def authorize(self, request, credentials):
        return Authorization.approve("acme-1")

    def status(self, request, credentials):
        return Authorization.approve("acme-1")

    def issue_credentials(self, current, *, idempotency_key):
        return dict(current)

    def test_credentials(self, credentials):
        pass

    def revoke_credentials(self, retired, *, current):
        pass
'''


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("provider")
    (root / "acme_pay").mkdir()
    (root / "acme_pay" / "__init__.py").write_text("")
    (root / "acme_pay" / "adapter.py").write_text(ADAPTER)
    (root / "acme_sdk").mkdir()  # a vendored dependency (pip install --target)
    (root / "acme_sdk" / "__init__.py").write_text("VERSION = '1.0'\n")
    (root / "acme_pay" / "__pycache__").mkdir()
    (root / "acme_pay" / "__pycache__" / "adapter.cpython-314.pyc").write_bytes(b"stale")
    return root


@pytest.fixture(scope="module")
def custom(adapter_dir):
    holder = {}

    def build(stack):
        holder["api"] = SecurePaymentApi(stack, "Payments", provider_adapter=ProviderAdapter.from_directory(
            str(adapter_dir), module="acme_pay.adapter", class_name="AcmePay"))

    return synth(build), holder["api"]


def payment_functions(result):
    return {n: fn for n, fn in result.resources("AWS::Lambda::Function").items()
            if fn["Properties"].get("Handler", "").startswith("runtime.")}


def test_own_adapter_is_bundled_beside_the_runtime_with_its_dependencies(custom):
    result, _ = custom
    assert [str(f) for f in result.findings] == []
    fns = payment_functions(result)
    assert len(fns) == 3
    keys = {json.dumps(fn["Properties"]["Code"], sort_keys=True) for fn in fns.values()}
    assert len(keys) == 1  # one asset for the processor, the event handler and the rotation function
    for fn in fns.values():
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables["PROVIDER_MODULE"] == "acme_pay.adapter" and variables["PROVIDER_CLASS"] == "AcmePay"
    (asset,) = [p for p in result.outdir.glob("asset.*") if (p / "runtime").is_dir()]
    shipped = {str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file()}
    assert {"acme_pay/__init__.py", "acme_pay/adapter.py", "acme_sdk/__init__.py", "runtime/api.py",
            "runtime/rotation.py", "runtime/providers/base.py"} <= shipped
    assert not any("__pycache__" in path for path in shipped)


def test_bundling_is_deterministic(adapter_dir, custom):
    def build(stack):
        SecurePaymentApi(stack, "Payments", provider_adapter=ProviderAdapter.from_directory(
            str(adapter_dir), module="acme_pay.adapter", class_name="AcmePay"))

    again = synth(build, nag=False)
    codes = lambda result: sorted(json.dumps(fn["Properties"]["Code"]) for fn in payment_functions(result).values())
    assert codes(again) == codes(custom[0])


def test_the_http_adapter_is_built_in():
    result = synth(lambda stack: SecurePaymentApi(stack, "Payments", provider_adapter=ProviderAdapter.http()),
                   nag=False)
    for fn in payment_functions(result).values():
        assert fn["Properties"]["Environment"]["Variables"]["PROVIDER_MODULE"] == "runtime.providers.http"


def test_a_rotation_function_of_your_own_replaces_the_built_in_one():
    def build(stack):
        own = lambda_.Function.from_function_arn(stack, "Own", "arn:aws:lambda:us-east-1:111122223333:function:rotate")
        SecurePaymentApi(stack, "Payments", rotation_function=own)

    result = synth(build, nag=False)
    handlers = sorted(fn["Properties"]["Handler"] for fn in payment_functions(result).values())
    assert handlers == ["runtime.api.handler", "runtime.events.handler"]
    result.template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "RotationLambdaARN": "arn:aws:lambda:us-east-1:111122223333:function:rotate"})


@pytest.mark.parametrize("make,message", [
    (lambda d: "acme_pay.adapter:AcmePay", "expected ProviderAdapter"),
    (lambda d: ProviderAdapter.from_directory(str(d), module="acme-pay", class_name="AcmePay"), "dotted Python module"),
    (lambda d: ProviderAdapter.from_directory(str(d), module="acme_pay.adapter", class_name="Acme Pay"),
     "class_name must be a Python identifier"),
    (lambda d: ProviderAdapter.from_directory(str(d / "missing"), module="acme_pay.adapter", class_name="AcmePay"),
     "does not exist"),
    (lambda d: ProviderAdapter.from_directory(str(d), module="acme_pay.other", class_name="AcmePay"),
     "is not in"),
    (lambda d: ProviderAdapter.from_directory(str(d), module="runtime.api", class_name="AcmePay"),
     "top-level 'runtime' package"),
    (lambda d: ProviderAdapter(module="acme_pay.adapter", class_name="AcmePay"), "not a built-in adapter"),
], ids=["not-an-adapter", "module-name", "class-name", "no-directory", "no-module", "runtime-clash", "no-path"])
def test_invalid_adapters_are_refused_naming_the_prop(adapter_dir, make, message):
    with pytest.raises(ValueError, match="provider_adapter") as raised:
        SecurePaymentApi(Stack(), "Payments", provider_adapter=make(adapter_dir))
    assert message in str(raised.value)


def test_the_default_is_the_sandbox():
    assert ProviderAdapter.sandbox().environment == {"PROVIDER_MODULE": "runtime.providers.sandbox",
                                                     "PROVIDER_CLASS": "SandboxProvider"}
    assert ProviderAdapter.sandbox().problems() == [] and ProviderAdapter.http().problems() == []
    assert Path(__file__).exists()
