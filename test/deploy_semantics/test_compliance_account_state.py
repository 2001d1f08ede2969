"""ComplianceBaseline against account state a fresh or shared account really has (issue 11, items 1, 12, 15).

Config rules fail to deploy without a recorder in the region; Cost Explorer resources exist only in
us-east-1; every anomaly monitor type is an account singleton or needs the management account.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Tags
from aws_cdk import aws_sns as sns

from cdk_payments import AuditBucket, ComplianceBaseline, CostAnomalyMonitor

from ..harness import synth

TAGS = ("application", "cost-center", "environment")
CE_TYPES = ("AWS::CE::AnomalyMonitor", "AWS::CE::AnomalySubscription")


def baseline(env=None, **props):
    holder = {}

    def build(stack):
        topic = sns.Topic(stack, "Topic")
        if props.pop("with_bucket", False):
            props["recorder_bucket"] = AuditBucket(stack, "Audit").access_log_bucket
        holder["baseline"] = ComplianceBaseline(stack, "Baseline", security_topic=topic, cost_topic=topic, **props)
        for key in TAGS:
            Tags.of(stack).add(key, "test")

    result = synth(build, nag=False, env=env)
    return result, holder["baseline"]


@pytest.fixture(scope="module")
def fresh_account():
    """The defaults, as a fresh account gets them: no recorder, no monitor."""
    return baseline()


@pytest.fixture(scope="module")
def stated_recorder():
    return baseline(account_has_recorder=True, existing_anomaly_monitor_arn="arn:aws:ce::111111111111:anomalymonitor/12345678-abcd-ef01-2345-6789abcdef01")


@pytest.fixture(scope="module")
def created_recorder():
    return baseline(create_recorder=True, with_bucket=True, anomaly_monitor=CostAnomalyMonitor.AWS_SERVICES,
                    env=cdk.Environment(account="111111111111", region="us-east-1"))


@pytest.fixture(scope="module")
def other_region():
    return baseline(anomaly_monitor=CostAnomalyMonitor.AWS_SERVICES,
                    env=cdk.Environment(account="111111111111", region="eu-west-1"))


# -- item 1: Config rules only with a recorder ----------------------------------------------------
def test_no_config_rules_without_a_recorder(fresh_account):
    result, construct = fresh_account
    result.template.resource_count_is("AWS::Config::ConfigRule", 0)
    result.template.resource_count_is("AWS::Config::ConfigurationRecorder", 0)
    assert construct.rules == []
    with pytest.raises(ValueError, match="add_managed_rule: Config rules need a configuration recorder"):
        construct.add_managed_rule("Extra", "S3_BUCKET_VERSIONING_ENABLED")


def test_rules_when_the_account_states_it_has_a_recorder(stated_recorder):
    result, construct = stated_recorder
    rules = result.resources("AWS::Config::ConfigRule")
    assert len(rules) == len(construct.rules) > 10
    result.template.resource_count_is("AWS::Config::ConfigurationRecorder", 0)


def test_rules_depend_on_the_recorder_the_construct_creates(created_recorder):
    result, _ = created_recorder
    rules = result.resources("AWS::Config::ConfigRule")
    assert rules and all(any("Recorder" in d for d in r.get("DependsOn", [])) for r in rules.values())


def test_recorder_and_stated_recorder_are_exclusive():
    with pytest.raises(ValueError, match="account_has_recorder: contradicts create_recorder=True"):
        baseline(create_recorder=True, account_has_recorder=True, with_bucket=True)


# -- item 12: no anomaly monitor that watches nothing or collides -----------------------------------
def test_default_creates_no_anomaly_monitor(fresh_account):
    result, construct = fresh_account
    for type_ in CE_TYPES:
        result.template.resource_count_is(type_, 0)
    assert construct.anomaly_monitor is None and construct.anomaly_subscription is None
    result.template.resource_count_is("AWS::Budgets::Budget", 1)  # works in any account, no tag needed


def test_existing_monitor_gets_a_subscription_only(stated_recorder):
    result, _ = stated_recorder
    result.template.resource_count_is("AWS::CE::AnomalyMonitor", 0)
    (subscription,) = result.resources("AWS::CE::AnomalySubscription").values()
    assert subscription["Properties"]["MonitorArnList"] == ["arn:aws:ce::111111111111:anomalymonitor/12345678-abcd-ef01-2345-6789abcdef01"]


def test_aws_services_monitor_needs_no_tag(created_recorder):
    result, _ = created_recorder
    (monitor,) = result.resources("AWS::CE::AnomalyMonitor").values()
    assert monitor["Properties"]["MonitorType"] == "DIMENSIONAL"
    assert monitor["Properties"]["MonitorDimension"] == "SERVICE"
    assert "MonitorSpecification" not in monitor["Properties"]


def test_tag_props_only_with_a_tag_monitor():
    with pytest.raises(ValueError) as error:
        baseline(cost_tag_key="team", existing_anomaly_monitor_arn="arn:x",
                 anomaly_monitor=CostAnomalyMonitor.AWS_SERVICES)
    message = str(error.value)
    assert "cost_tag_key: is used only with anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG" in message
    assert "existing_anomaly_monitor_arn: excludes anomaly_monitor=CostAnomalyMonitor.AWS_SERVICES" in message


# -- item 15: Cost Explorer only in us-east-1 -------------------------------------------------------
def test_us_east_1_stack_creates_cost_explorer_resources_unconditionally(created_recorder):
    result, _ = created_recorder
    for type_ in CE_TYPES:
        (resource,) = result.resources(type_).values()
        assert "Condition" not in resource


def test_other_region_stack_creates_no_cost_explorer_resources(other_region):
    result, construct = other_region
    for type_ in CE_TYPES:
        result.template.resource_count_is(type_, 0)
    assert construct.anomaly_monitor is None
    warnings = [m for m in result.stack.node.find_all() for m in m.node.metadata if m.type == "aws:cdk:warning"]
    assert any("only in us-east-1" in str(w.data) for w in warnings)


def test_region_agnostic_stack_conditions_cost_explorer_on_the_region():
    result, _ = baseline(anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG)
    conditions = result.json["Conditions"]
    for type_ in CE_TYPES:
        (resource,) = result.resources(type_).values()
        assert conditions[resource["Condition"]] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
