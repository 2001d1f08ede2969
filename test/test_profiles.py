from __future__ import annotations

import dataclasses
import inspect

import pytest

from cdk_payments import (
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    PaymentDashboards,
    PaymentWorkerFleet,
    Profile,
    SecurePaymentApi,
)
from cdk_payments.profiles import PROFILE_DEFAULTS, defaults_for

CONSTRUCTS = {
    "network": CostOptimizedVpc,
    "audit": AuditBucket,
    "payment_api": SecurePaymentApi,
    "workers": PaymentWorkerFleet,
    "dashboards": PaymentDashboards,
    "compliance": ComplianceBaseline,
}
# Defaults that configure internals rather than a prop of the same name.
INTERNAL = {"network": {"single_nat_gateways", "nat_instance_type", "removal_policy"},
            "payment_api": {"removal_policy"}, "workers": {"removal_policy"}}


@pytest.mark.parametrize("section,construct", CONSTRUCTS.items())
def test_every_default_is_named_after_the_prop_it_defaults(section, construct):
    props = set(inspect.signature(construct.__init__).parameters)
    fields = {f.name for f in dataclasses.fields(getattr(PROFILE_DEFAULTS[Profile.DEV], section))}
    assert fields - INTERNAL.get(section, set()) <= props


def test_prod_differs_from_dev_only_in_cost_versus_resilience_choices():
    dev, prod = PROFILE_DEFAULTS[Profile.DEV], PROFILE_DEFAULTS[Profile.PROD]
    differences = {
        f"{section}.{f.name}"
        for section in CONSTRUCTS
        for f in dataclasses.fields(getattr(dev, section))
        if getattr(getattr(dev, section), f.name) != getattr(getattr(prod, section), f.name)
        and f.name not in ("latency_alarm_threshold", "period")  # jsii Durations compare by identity
    }
    assert differences == {
        "network.nat", "network.interface_endpoints", "network.flow_log_retention",
        "network.removal_policy", "audit.lock_mode", "audit.retention_days", "payment_api.log_retention",
        "payment_api.removal_policy", "payment_api.deletion_protection", "payment_api.backup_plan",
        "payment_api.cache_size_gb", "payment_api.waf_managed_rule_groups",
        "workers.min_capacity",
        "workers.max_capacity", "workers.on_demand_base_capacity", "workers.spot_percentage_above_base",
        "workers.log_retention", "workers.removal_policy", "dashboards.combined",
    }


def test_parse_and_bad_profiles():
    assert Profile.parse("PROD") is Profile.PROD
    with pytest.raises(ValueError, match="profile: unknown profile 'staging'; allowed: dev, prod"):
        Profile.parse("staging")
    with pytest.raises(ValueError, match="profile: expected one of Profile.DEV, Profile.PROD"):
        defaults_for("dev")
