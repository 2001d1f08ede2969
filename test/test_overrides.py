"""Override warnings (issue 25): a prop that weakens a security or resilience default warns at synthesis,
naming the prop and the default it replaced, and CDK's acknowledge_warning silences it per prop."""

from __future__ import annotations

import pytest
from aws_cdk import Annotations, App, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from cdk_payments import (
    AuditBucket,
    AuditLockMode,
    ComplianceBaseline,
    CostOptimizedVpc,
    FlowLogDestination,
    PaymentApiAuthorization,
    PaymentWorkerFleet,
    Profile,
    SecurePaymentApi,
)

from .test_props import resolve

PREFIX = "cdk-payments:overriddenDefault:"


def vpc(stack):
    return CostOptimizedVpc(stack, "Net").vpc


def topic(stack):
    return sns.Topic(stack, "Topic")


def baseline(**props):
    return dict(security_topic=topic, cost_topic=topic, **props)


WEAKENED = [
    # (construct, props, the prop warned about, the default named in the warning)
    (SecurePaymentApi, dict(waf_managed_rule_groups=["AWSManagedRulesCommonRuleSet"]), "waf_managed_rule_groups",
     "AWSManagedRulesSQLiRuleSet"),
    (SecurePaymentApi, dict(waf_logging=False), "waf_logging", "True"),
    (SecurePaymentApi, dict(waf_rate_limit=30000), "waf_rate_limit", "15000"),
    (SecurePaymentApi, dict(throttling_rate_limit=500, throttling_burst_limit=1000), "throttling_rate_limit", "50"),
    (SecurePaymentApi, dict(profile=Profile.PROD, deletion_protection=False), "deletion_protection", "True"),
    (SecurePaymentApi, dict(profile=Profile.PROD, backup_plan=False), "backup_plan", "True"),
    (SecurePaymentApi, dict(log_retention=logs.RetentionDays.ONE_WEEK), "log_retention", "ONE_MONTH"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                            cors_allowed_origins=["*"]), "cors_allowed_origins", "None"),
    (SecurePaymentApi, dict(rotation_days=90), "rotation_days", "30"),
    (SecurePaymentApi, dict(configure_api_gateway_account=False), "configure_api_gateway_account", "True"),
    (AuditBucket, dict(retention_days=400, profile=Profile.PROD), "retention_days", "2555"),
    (AuditBucket, dict(lock_mode=AuditLockMode.GOVERNANCE, profile=Profile.PROD), "lock_mode", "COMPLIANCE"),
    (AuditBucket, dict(removal_policy=RemovalPolicy.DESTROY), "removal_policy", "RETAIN"),
    (CostOptimizedVpc, dict(flow_logs=FlowLogDestination.NONE), "flow_logs", "CLOUDWATCH_LOGS"),
    (CostOptimizedVpc, dict(flow_log_retention=logs.RetentionDays.ONE_DAY), "flow_log_retention", "RetentionDays"),
    (CostOptimizedVpc, dict(flow_log_traffic_type=ec2.FlowLogTrafficType.REJECT), "flow_log_traffic_type", "ALL"),
    (ComplianceBaseline, baseline(enforce_required_tags=False), "enforce_required_tags", "True"),
    (ComplianceBaseline, baseline(guardduty_min_severity=8.0), "guardduty_min_severity", "7.0"),
    (ComplianceBaseline, baseline(required_tags=["application"]), "required_tags", "cost-center"),
    (PaymentWorkerFleet, dict(vpc=vpc, log_retention=logs.RetentionDays.THREE_DAYS), "log_retention", "RetentionDays"),
]
# The same props at or above their defaults: no warning.
KEPT = [
    (SecurePaymentApi, dict(waf_managed_rule_groups=["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet",
                                                     "AWSManagedRulesKnownBadInputsRuleSet"], waf_rate_limit=500,
                            log_retention=logs.RetentionDays.ONE_YEAR, rotation_days=7, deletion_protection=False)),
    (AuditBucket, dict(retention_days=3000, lock_mode=AuditLockMode.COMPLIANCE)),
    (ComplianceBaseline, baseline(guardduty_min_severity=4.0, required_tags=["application", "cost-center",
                                                                            "environment", "owner"])),
]


def build(construct, props, app=None):
    stack = Stack(app or App(), "Overrides")
    return stack, construct(stack, "Subject", **resolve(stack, props))


def override_warnings(subject):
    """The override warnings on the construct (where they are added), id -> message."""
    found = {}
    for entry in subject.node.metadata:
        data = str(entry.data)
        if entry.type == "aws:cdk:warning" and PREFIX in data:
            found[data.split("[ack: ")[-1].rstrip("]")] = data
    return found


@pytest.mark.parametrize("construct,props,prop,default", WEAKENED,
                         ids=[f"{c.__name__}-{p}" for c, _, p, _ in WEAKENED])
def test_a_weakened_default_warns_naming_the_prop_and_the_default(construct, props, prop, default):
    _, subject = build(construct, props)
    warnings = override_warnings(subject)
    assert f"{PREFIX}{prop}" in warnings, warnings
    message = warnings[f"{PREFIX}{prop}"]
    assert message.startswith(f"{prop}=") and "replaces the default" in message and default in message


@pytest.mark.parametrize("construct,props", KEPT, ids=[c.__name__ for c, _ in KEPT])
def test_defaults_kept_or_strengthened_do_not_warn(construct, props):
    assert override_warnings(build(construct, props)[1]) == {}


def test_acknowledge_warning_silences_one_prop_and_not_the_others():
    app = App()
    stack, subject = build(AuditBucket, dict(removal_policy=RemovalPolicy.DESTROY, retention_days=400,
                                             profile=Profile.PROD), app)
    Annotations.of(subject).acknowledge_warning(f"{PREFIX}removal_policy", "a sandbox account, emptied nightly")
    messages = [str(m.entry.data) for m in app.synth().get_stack_by_name("Overrides").messages]
    assert not [m for m in messages if f"{PREFIX}removal_policy" in m]
    assert [m for m in messages if f"{PREFIX}retention_days" in m]
