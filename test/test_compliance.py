from __future__ import annotations

import json

import pytest
from aws_cdk import Tags
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from cdk_payments import AlertTopics, AuditBucket, ComplianceBaseline, CostAnomalyMonitor

from .harness import synth

TAGS = ("application", "cost-center", "environment")


def tag_everything(stack):
    for key in TAGS:
        Tags.of(stack).add(key, "test")


@pytest.fixture(scope="module")
def reuse():
    """Rely on the account's existing recorder, detector and hub."""
    holder = {}

    def build(stack):
        alerts = AlertTopics(stack, "Alerts")
        holder["baseline"] = ComplianceBaseline(stack, "Baseline", security_topic=alerts.security_topic,
                                                cost_topic=alerts.cost_topic, account_has_recorder=True)
        tag_everything(stack)

    return synth(build), holder


@pytest.fixture(scope="module")
def create():
    def build(stack):
        alerts = AlertTopics(stack, "Alerts")
        audit = AuditBucket(stack, "Audit")
        ComplianceBaseline(stack, "Baseline", security_topic=alerts.security_topic, cost_topic=alerts.cost_topic,
                           create_recorder=True, recorder_bucket=audit.access_log_bucket, create_guardduty_detector=True,
                           enable_security_hub=True, monthly_budget_usd=200, anomaly_threshold_usd=25,
                           anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG,
                           budget_tags={"application": "cdk-payments", "environment": "test"},
                           alarm_topic=alerts.operations_topic)
        tag_everything(stack)

    return synth(build)


def test_snapshots(reuse, create, template_snapshot):
    assert (reuse[0].json, create.json) == template_snapshot


def test_nag_clean(reuse, create):
    assert [str(f) for f in reuse[0].findings + create.findings] == []


def test_reuse_creates_no_account_singletons(reuse):
    result, _ = reuse
    for singleton in ("AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel",
                      "AWS::GuardDuty::Detector", "AWS::SecurityHub::Hub"):
        result.template.resource_count_is(singleton, 0)


def test_create_branch_creates_each_singleton_once(create):
    for singleton in ("AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel",
                      "AWS::GuardDuty::Detector", "AWS::SecurityHub::Hub", "AWS::SecurityHub::Standard"):
        create.template.resource_count_is(singleton, 1)
    standard = create.resources("AWS::SecurityHub::Standard")
    assert [(logical_id.startswith("BaselinePciDss401"), str(s["Properties"]["StandardsArn"]))
            for logical_id, s in standard.items()] == [
        (True, "{'Fn::Join': ['', ['arn:', {'Ref': 'AWS::Partition'}, ':securityhub:', {'Ref': 'AWS::Region'}, "
               "'::standards/pci-dss/v/4.0.1']]}")]  # v4.0.1 by default: 3.2.1 was retired in March 2024
    for rule in create.resources("AWS::Config::ConfigRule").values():
        assert any("Recorder" in d for d in rule["DependsOn"])


def test_config_channel_and_recorder_do_not_wait_for_each_other(create):
    """The recorder starts as CloudFormation creates it and needs the channel then; a channel that
    DependsOn the recorder fails the first deploy (aws-cdk#9001). The channel waits for the recorder
    role's S3 grant instead, which PutDeliveryChannel checks (aws-cdk#3577)."""
    [(recorder_id, recorder)] = create.resources("AWS::Config::ConfigurationRecorder").items()
    [(channel_id, channel)] = create.resources("AWS::Config::DeliveryChannel").items()
    assert recorder_id not in channel.get("DependsOn", []) and channel_id not in recorder.get("DependsOn", [])
    [(policy_id, _)] = [(logical_id, p) for logical_id, p in create.resources("AWS::IAM::Policy").items()
                        if logical_id.startswith("BaselineRecorderRoleDefaultPolicy")]
    assert channel["DependsOn"] == [policy_id]


def test_no_rule_that_a_cdk_stack_fails_by_construction(reuse):
    """IAM_NO_INLINE_POLICY_CHECK flags every CDK grant (they are inline policies), never sees IAM where the
    recorder leaves out global types, and is missing in a dozen regions: it is not part of the baseline."""
    identifiers = {r["Properties"]["Source"]["SourceIdentifier"] for r in reuse[0].resources("AWS::Config::ConfigRule").values()}
    assert "IAM_NO_INLINE_POLICY_CHECK" not in identifiers


def test_config_rules_cover_the_platform_promises(reuse):
    result, holder = reuse
    identifiers = {r["Properties"]["Source"]["SourceIdentifier"] for r in result.resources("AWS::Config::ConfigRule").values()}
    for expected in ("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "S3_BUCKET_PUBLIC_READ_PROHIBITED",
                     "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", "S3_BUCKET_SSL_REQUESTS_ONLY", "REQUIRED_TAGS",
                     "DYNAMODB_PITR_ENABLED", "LAMBDA_INSIDE_VPC", "INCOMING_SSH_DISABLED", "ENCRYPTED_VOLUMES",
                     "API_GW_EXECUTION_LOGGING_ENABLED"):
        assert expected in identifiers, expected
    required = next(r for r in result.resources("AWS::Config::ConfigRule").values()
                    if r["Properties"]["Source"]["SourceIdentifier"] == "REQUIRED_TAGS")
    assert required["Properties"]["InputParameters"] == {"tag1Key": "application", "tag2Key": "cost-center",
                                                         "tag3Key": "environment"}
    assert len(holder["baseline"].rules) == len(identifiers)


def test_findings_routed_to_security_topic_with_dlq(reuse):
    result, _ = reuse
    rules = result.resources("AWS::Events::Rule")
    sources = sorted(r["Properties"]["EventPattern"]["source"][0] for r in rules.values())
    assert sources == ["aws.config", "aws.guardduty", "aws.securityhub"]
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    guardduty = next(r for r in rules.values() if r["Properties"]["EventPattern"]["source"] == ["aws.guardduty"])
    assert guardduty["Properties"]["EventPattern"]["detail"] == {"severity": [{"numeric": [">=", 7]}]}


def test_cost_guard_rails(create):
    monitor = next(iter(create.resources("AWS::CE::AnomalyMonitor").values()))["Properties"]
    assert monitor["MonitorType"] == "CUSTOM" and "cdk-payments" in monitor["MonitorSpecification"]
    subscription = next(iter(create.resources("AWS::CE::AnomalySubscription").values()))["Properties"]
    assert '"Values": ["25"]' in subscription["ThresholdExpression"]
    budget = next(iter(create.resources("AWS::Budgets::Budget").values()))["Properties"]
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 200, "Unit": "USD"}
    kinds = sorted(n["Notification"]["NotificationType"] for n in budget["NotificationsWithSubscribers"])
    assert kinds == ["ACTUAL", "FORECASTED"]
    # Only the spend of resources carrying both tags (the stack's), not the whole account's.
    assert budget["Budget"]["FilterExpression"] == {"And": [
        {"Tags": {"Key": "application", "Values": ["cdk-payments"], "MatchOptions": ["EQUALS"]}},
        {"Tags": {"Key": "environment", "Values": ["test"], "MatchOptions": ["EQUALS"]}}]}


def test_security_hub_enables_only_the_chosen_standard(create):
    (hub,) = create.resources("AWS::SecurityHub::Hub").values()
    assert hub["Properties"]["EnableDefaultStandards"] is False
    standards = [s["Properties"]["StandardsArn"] for s in create.resources("AWS::SecurityHub::Standard").values()]
    assert len(standards) == 1 and "pci-dss/v/4.0.1" in json.dumps(standards)


def test_the_findings_dead_letter_queue_has_an_alarm(reuse, create):
    for result, topic in ((reuse[0], "AlertsSecurity"), (create, "AlertsOperations")):
        (alarm,) = [a["Properties"] for k, a in result.resources("AWS::CloudWatch::Alarm").items()
                    if "FindingsDeadLetters" in k]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 1
        assert alarm["AlarmActions"][0]["Ref"].startswith(topic)


def test_required_tags_check_fails_synthesis_naming_every_offender():
    def build(stack):
        topic = sns.Topic(stack, "Topic")
        ComplianceBaseline(stack, "Baseline", security_topic=topic, cost_topic=topic)
        sqs.Queue(stack, "Untagged")
        Tags.of(stack).add("application", "x")
        Tags.of(stack).add("cost-center", "y", exclude_resource_types=["AWS::SQS::Queue"])
        Tags.of(stack).add("environment", "z")

    with pytest.raises(RuntimeError) as error:
        synth(build, nag=False)
    message = str(error.value)
    assert "TestStack/Untagged/Resource (AWS::SQS::Queue) lacks cost-center" in message
    assert "TestStack/Baseline/FindingsDeadLetterQueue/Resource (AWS::SQS::Queue) lacks cost-center" in message
    assert "AWS::SNS::Topic" not in message


def test_a_required_tag_with_an_empty_value_fails_synthesis():
    def build(stack):
        topic = sns.Topic(stack, "Topic")
        ComplianceBaseline(stack, "Baseline", security_topic=topic, cost_topic=topic)
        Tags.of(stack).add("application", "x")
        Tags.of(stack).add("cost-center", "")
        Tags.of(stack).add("environment", " ")

    with pytest.raises(RuntimeError) as error:
        synth(build, nag=False)
    assert "(AWS::SNS::Topic) lacks cost-center (empty value), environment (empty value)" in str(error.value)


def test_bad_props():
    def attempt(**props):
        def build(stack):
            topic = sns.Topic(stack, "T")
            ComplianceBaseline(stack, "B", **{"security_topic": topic, "cost_topic": topic, **props})
        synth(build, nag=False)

    with pytest.raises(ValueError) as error:
        attempt(create_recorder=True, guardduty_min_severity=9.5, required_tags=["a"] * 7, monthly_budget_usd=-5)
    message = str(error.value)
    for prop in ("recorder_bucket", "guardduty_min_severity", "required_tags", "monthly_budget_usd"):
        assert f"{prop}:" in message
    with pytest.raises(ValueError) as error:
        attempt(enable_security_hub=True, pci_dss_standard_versions=["4.0", "3.2.1", "3.2.1"])
    assert "pci_dss_standard_versions: expected one of '4.0.1', '3.2.1', got '4.0'" in str(error.value)
    assert "pci_dss_standard_versions: lists 3.2.1 more than once" in str(error.value)
    with pytest.raises(ValueError, match="pci_dss_standard_versions: expected a list"):
        attempt(pci_dss_standard_versions="4.0.1")
    with pytest.raises(ValueError) as error:
        attempt(budget_tags={}, alarm_topic="ops")
    assert "budget_tags: must map one or more tag keys to values" in str(error.value)
    assert "alarm_topic: expected sns.ITopic" in str(error.value)
    with pytest.raises(ValueError, match="budget_tags"):
        attempt(budget_tags={"aws:reserved": "x"})
    with pytest.raises(ValueError, match="security_topic: expected sns.ITopic"):
        attempt(security_topic="arn:aws:sns:us-east-1:1:topic")


def test_config_cannot_deliver_to_an_object_lock_bucket():
    """AWS::Config::DeliveryChannel: "AWS Config does not support the delivery channel to an Amazon S3 bucket
    where object lock is enabled" (the example's first deploy would fail on it)."""
    def build(stack):
        topic, audit = sns.Topic(stack, "T"), AuditBucket(stack, "Audit")
        ComplianceBaseline(stack, "B", security_topic=topic, cost_topic=topic, create_recorder=True,
                           recorder_bucket=audit.bucket)

    with pytest.raises(ValueError, match="recorder_bucket: has Object Lock, and AWS Config cannot deliver"):
        synth(build, nag=False)


def test_pci_dss_321_only_where_asked_and_one_standard_at_a_time():
    def build(stack):
        topic = sns.Topic(stack, "T")
        ComplianceBaseline(stack, "B", security_topic=topic, cost_topic=topic, enable_security_hub=True,
                           pci_dss_standard_versions=["4.0.1", "3.2.1"])
        tag_everything(stack)

    standards = synth(build, nag=False).resources("AWS::SecurityHub::Standard")
    by_version = {str(s["Properties"]["StandardsArn"]).split("/v/")[1][:5]: (logical_id, s)
                  for logical_id, s in standards.items()}
    assert set(by_version) == {"4.0.1", "3.2.1"}
    old_id, old = by_version["3.2.1"]
    assert old_id.startswith("BPciDss") and not old_id.startswith("BPciDss401")  # the id 3.2.1 always had
    assert by_version["4.0.1"][0] in old["DependsOn"]  # enabled one after the other, never concurrently
