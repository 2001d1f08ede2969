from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Match

from cdk_payments import AccountTrailMode, AuditBucket, PaymentAuditTrail

from .harness import synth


@pytest.fixture(scope="module")
def default():
    holder = {}

    def build(stack):
        holder["audit"] = audit = AuditBucket(stack, "Audit")
        holder["trail"] = PaymentAuditTrail(stack, "AuditTrail", audit=audit)
        # Another bus, no account trail: what an app with an organization trail builds.
        PaymentAuditTrail(stack, "Existing", audit=audit, account_trail=AccountTrailMode.EXISTING, prefix="other/")

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
