from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Match

from cdk_payments import AccountTrailMode, AlertTopics, AuditBucket, PaymentAuditTrail

from .harness import synth


@pytest.fixture(scope="module")
def default():
    holder = {}

    def build(stack):
        holder["audit"] = audit = AuditBucket(stack, "Audit")
        holder["trail"] = PaymentAuditTrail(stack, "AuditTrail", audit=audit)
        # Another bus, no account trail: what an app with an organization trail builds.
        holder["existing_topic"] = AlertTopics(stack, "Alerts", emails={}).operations_topic
        holder["existing"] = PaymentAuditTrail(stack, "Existing", audit=audit, account_trail=AccountTrailMode.EXISTING,
                                               prefix="other/", alarm_topic=holder["existing_topic"])

    return synth(build), holder


def test_snapshot(default, template_snapshot):
    assert default[0] == template_snapshot


def test_nag_clean(default):
    assert [str(f) for f in default[0].findings] == []


def test_payment_events_go_through_firehose_to_the_bucket_under_the_prefix(default):
    result, holder = default
    result.template.has_resource_properties("AWS::Events::Rule", {
        "EventBusName": "default", "EventPattern": {"source": ["cdk-payments"]},
        "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value(), "RoleArn": Match.any_value()})]})
    result.template.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "ExtendedS3DestinationConfiguration": Match.object_like({
            "Prefix": "payment-events/", "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
            "CompressionFormat": "UNCOMPRESSED"})})
    assert holder["trail"].prefix == "payment-events/"


def test_firehose_writes_to_a_staging_bucket_that_expires_and_tells_eventbridge(default):
    result, holder = default
    staging = result.stack.resolve(holder["trail"].staging_bucket.bucket_arn)
    result.template.has_resource_properties("AWS::KinesisFirehose::DeliveryStream", {
        "ExtendedS3DestinationConfiguration": Match.object_like({"BucketARN": staging})})
    props = result.resources("AWS::S3::Bucket")[result.stack.resolve(holder["trail"].staging_bucket.bucket_name)["Ref"]]
    props = props["Properties"]
    assert "ObjectLockConfiguration" not in props and "VersioningConfiguration" not in props
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # Kept longer than the dead-letter queue keeps a failed copy's event: a redriven copy finds its object.
    dlq = result.resources("AWS::SQS::Queue")[result.stack.resolve(holder["trail"].dead_letter_queue.queue_name)["Fn::GetAtt"][0]]
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] > dlq["Properties"]["MessageRetentionPeriod"] / 86400


def test_the_copier_puts_each_staged_object_into_the_locked_bucket(default):
    result, holder = default
    trail = holder["trail"]
    copier = result.stack.resolve(trail.copier.function_arn)
    result.template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {
            "bucket": {"name": [result.stack.resolve(trail.staging_bucket.bucket_name)]},
            "object": {"key": [{"prefix": "payment-events/"}]}}},
        "Targets": [Match.object_like({"Arn": copier, "DeadLetterConfig": {
            "Arn": result.stack.resolve(trail.dead_letter_queue.queue_arn)},
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}})]})
    result.template.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "runtime.audit_copy.handler", "Environment": {"Variables": Match.object_like({
            "AUDIT_PREFIX": "payment-events/",
            "AUDIT_BUCKET": result.stack.resolve(holder["audit"].bucket.bucket_name)})}})


def test_alarms_on_dead_letters_and_delivery_go_to_the_topic(default):
    result, holder = default
    assert [a.node.id for a in holder["existing"].alarms] == ["DeadLetters", "DeliveryFailed", "DeliveryStale"]
    alarms = {name: r["Properties"] for name, r in result.resources("AWS::CloudWatch::Alarm").items()
              if name.startswith("Existing")}
    topic = result.stack.resolve(holder["existing_topic"].topic_arn)
    assert len(alarms) == 3 and all(a["AlarmActions"] == [topic] for a in alarms.values())
    stale = next(a for name, a in alarms.items() if "DeliveryStale" in name)
    assert stale["MetricName"] == "DeliveryToS3.DataFreshness" and stale["Threshold"] == 3600
    failed = next(a for name, a in alarms.items() if "DeliveryFailed" in name)
    assert failed["Metrics"][0]["Expression"] == "IF(success < 1, 1, 0)"


def test_the_delivery_role_may_put_but_never_delete(default):
    result, _ = default
    policies = [p for name, p in result.resources("AWS::IAM::Policy").items() if name.startswith("AuditTrailDelivery")]
    actions = {a for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:PutObject" in actions and "kms:GenerateDataKey*" in actions
    assert not {a for a in actions if "Delete" in a or a in ("s3:*", "s3:GetObject*")}


def test_one_account_trail_only_where_asked(default):
    result, holder = default
    assert len(result.resources("AWS::CloudTrail::Trail")) == 1
    result.template.has_resource_properties("AWS::CloudTrail::Trail", {
        "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "S3KeyPrefix": "cloudtrail"})
    assert holder["trail"].trail is not None


def test_invalid_props_are_reported_together():
    def build(stack):
        PaymentAuditTrail(stack, "Bad", audit=AuditBucket(stack, "Audit"), prefix="/events",
                          buffer_interval=Duration.seconds(10), account_trail="org")

    with pytest.raises(ValueError) as error:
        synth(build)
    for prop in ("prefix", "buffer_interval", "account_trail"):
        assert prop in str(error.value)
