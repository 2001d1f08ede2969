"""Nothing needs more than a fresh account's Lambda quota unless a prop opts in (issue 11, item 2).

Lambda keeps 100 concurrent executions unreserved and new accounts have a quota of 10, so any
reserved concurrency fails the deploy of a fresh account.
"""

from __future__ import annotations

import pytest

from cdk_payments import Profile, SecurePaymentApi

from ..harness import synth


@pytest.fixture(scope="module", params=list(Profile), ids=lambda p: p.value)
def by_profile(request):
    return synth(lambda stack: SecurePaymentApi(stack, "Payments", profile=request.param), nag=False)


def test_no_profile_reserves_concurrency(by_profile):
    functions = by_profile.resources("AWS::Lambda::Function")
    assert functions and all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions.values())


def test_reserved_concurrency_is_an_explicit_opt_in():
    result = synth(lambda stack: SecurePaymentApi(stack, "Payments", profile=Profile.PROD, reserved_concurrency=5),
                   nag=False)
    functions = result.resources("AWS::Lambda::Function").values()
    # The processor and event handler reserve what was asked; the rotation function then keeps 1.
    assert [f["Properties"]["ReservedConcurrentExecutions"] for f in functions] == [5, 5, 1]
