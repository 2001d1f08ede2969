from __future__ import annotations

import pytest

from cdk_payments import PlatformParameters, SecurePaymentApi

from .harness import synth


@pytest.fixture(scope="module")
def published():
    def build(stack):
        api = SecurePaymentApi(stack, "Payments")
        PlatformParameters(stack, "Parameters", payment_api=api, prefix="/payments/dev", extra={"audit-bucket": "b"})

    return synth(build)


def test_snapshot(published, template_snapshot):
    assert published == template_snapshot


def test_nag_clean(published):
    assert [str(f) for f in published.findings] == []


def test_publishes_endpoints_and_names_under_prefix(published):
    parameters = published.resources("AWS::SSM::Parameter").values()
    names = sorted(p["Properties"]["Name"] for p in parameters)
    assert names == ["/payments/dev/api-url", "/payments/dev/audit-bucket", "/payments/dev/event-bus-name",
                     "/payments/dev/queue-url", "/payments/dev/table-name"]
    assert all(p["Properties"]["Type"] == "String" for p in parameters)


@pytest.mark.parametrize("prefix", ["payments", "/payments/", "/pay ments", ""])
def test_bad_prefix(prefix):
    def build(stack):
        PlatformParameters(stack, "P", payment_api=SecurePaymentApi(stack, "Payments"), prefix=prefix)

    with pytest.raises(ValueError, match="prefix: must be a path"):
        synth(build, nag=False)
