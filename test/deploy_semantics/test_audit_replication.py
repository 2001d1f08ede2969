"""Audit replication works the way S3, IAM and KMS evaluate it (issue 11, items 4 and 6).

S3 replicates as the replication role: IAM must allow it every action replication from an Object
Lock source needs, on the key ARN of the replica key (IAM ignores alias ARNs), and the role must have
no fixed name (a second copy of the stack, or another CDK app, would collide on it).
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from cdk_payments import AuditBucket, Profile

from ..harness import synth
from .cfn import allowing, flat, role_statements

REPLICA_KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICA_ALIAS_ARN = "arn:aws:kms:us-west-2:111122223333:alias/cdk-payments/audit-replica"
REPLICA_BUCKET = "audit-replica-us-west-2"

# What live replication from an SSE-KMS, Object Lock source needs (S3 user guide, "Setting up
# permissions for live replication" and "Replicating encrypted objects").
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
SOURCE_OBJECT_ACTIONS = ("s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                         "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold")
DESTINATION_OBJECT_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags")
REPLICA_KEY_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")


def _build(replica_key_arn: str):
    def build(stack):
        key = kms.Key.from_key_arn(stack, "ReplicaKey", replica_key_arn)
        replica = s3.Bucket.from_bucket_name(stack, "Replica", REPLICA_BUCKET)
        topic = sns.Topic(stack, "Operations", master_key=kms.Key(stack, "TopicKey"))
        AuditBucket(stack, "Audit", profile=Profile.PROD, replication_destination=replica,
                    replication_key=key, alarm_topic=topic)

    return synth(build, nag=False).json


@pytest.fixture(scope="module")
def by_key_arn():
    return _build(REPLICA_KEY_ARN)


@pytest.fixture(scope="module")
def by_alias():
    return _build(REPLICA_ALIAS_ARN)


def _of_type(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _audit_bucket(template):
    return next((k, v) for k, v in _of_type(template, "AWS::S3::Bucket").items()
                if "ReplicationConfiguration" in v["Properties"])


def _replication_role(template):
    _, bucket = _audit_bucket(template)
    return bucket["Properties"]["ReplicationConfiguration"]["Role"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("variant", ["by_key_arn", "by_alias"])
def test_replication_role_has_no_fixed_name(variant, request):
    template = request.getfixturevalue(variant)
    role = template["Resources"][_replication_role(template)]
    assert "RoleName" not in role["Properties"], "a fixed role name collides with a second copy (CDKReplicationRole)"


@pytest.mark.parametrize("variant", ["by_key_arn", "by_alias"])
def test_role_may_do_everything_object_lock_replication_needs(variant, request):
    template = request.getfixturevalue(variant)
    bucket_id, _ = _audit_bucket(template)
    statements = role_statements(template, _replication_role(template))
    source_bucket = {"Fn::GetAtt": [bucket_id, "Arn"]}
    source_objects = {"Fn::Join": ["", [source_bucket, "/*"]]}
    missing = [a for a in SOURCE_BUCKET_ACTIONS if not allowing(statements, a, source_bucket)]
    missing += [a for a in SOURCE_OBJECT_ACTIONS if not allowing(statements, a, source_objects)]
    destination = f"arn:<AWS::Partition>:s3:::{REPLICA_BUCKET}/record.json"
    missing += [a for a in DESTINATION_OBJECT_ACTIONS if not allowing(statements, a, destination)]
    (encryption,) = _audit_bucket(template)[1]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    source_key = encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    missing += [a for a in ("kms:Decrypt",) if not allowing(statements, a, {"Fn::GetAtt": [source_key, "Arn"]})]
    assert missing == []


@pytest.mark.parametrize("variant", ["by_key_arn", "by_alias"])
def test_no_kms_permission_is_granted_on_an_alias_arn(variant, request):
    """IAM matches KMS permissions against the key ARN only: a grant on an alias ARN allows nothing."""
    template = request.getfixturevalue(variant)
    statements = role_statements(template, _replication_role(template))
    kms_resources = [flat(r) for s in statements if any(str(a).startswith("kms:") for a in
                                                        (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
                     for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert kms_resources and not [r for r in kms_resources if ":alias/" in r]


def test_replica_key_by_arn_is_granted_on_that_key(by_key_arn):
    statements = role_statements(by_key_arn, _replication_role(by_key_arn))
    for action in REPLICA_KEY_ACTIONS:
        granted = allowing(statements, action, REPLICA_KEY_ARN)
        assert granted and all("Condition" not in s for s in granted), action


def test_replica_key_by_alias_is_granted_on_keys_carrying_the_alias(by_alias):
    statements = role_statements(by_alias, _replication_role(by_alias))
    for action in REPLICA_KEY_ACTIONS:
        granted = allowing(statements, action, REPLICA_KEY_ARN)  # whatever key id the alias points to
        assert granted, action
        assert all(s["Condition"] == {"ForAnyValue:StringEquals": {
            "kms:ResourceAliases": "alias/cdk-payments/audit-replica"}} for s in granted)
        # Only keys in the replica's account and region.
        assert not allowing(statements, action, "arn:aws:kms:us-east-1:111122223333:key/other")


def test_replication_metrics_on_and_failures_alarmed(by_key_arn):
    _, bucket = _audit_bucket(by_key_arn)
    (rule,) = bucket["Properties"]["ReplicationConfiguration"]["Rules"]
    assert rule["Destination"]["Metrics"] == {"Status": "Enabled"}  # what failure metrics and events need
    assert "ReplicationTime" not in rule["Destination"]  # no paid Replication Time Control
    (alarm,) = [a["Properties"] for a in _of_type(by_key_arn, "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("MetricName") == "OperationsFailedReplication"]
    assert alarm["Namespace"] == "AWS/S3" and alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    bucket_id, _ = _audit_bucket(by_key_arn)
    # S3 publishes the metric per source bucket, destination bucket and rule id.
    assert dimensions == {"SourceBucket": {"Ref": bucket_id}, "DestinationBucket": REPLICA_BUCKET,
                          "RuleId": rule["Id"]}
    topic = next(iter(_of_type(by_key_arn, "AWS::SNS::Topic")))
    assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_failure_events_reach_the_encrypted_topic(by_key_arn):
    """S3 publishes s3:Replication:OperationFailedReplication itself (as s3.amazonaws.com): the topic
    policy and the topic's key must allow it before the bucket is created (S3 checks at creation)."""
    bucket_id, bucket = _audit_bucket(by_key_arn)
    (configuration,) = bucket["Properties"]["NotificationConfiguration"]["TopicConfigurations"]
    assert configuration["Event"] == "s3:Replication:OperationFailedReplication"
    topic_id = configuration["Topic"]["Ref"]
    (policy_id, policy), = [(k, p) for k, p in _of_type(by_key_arn, "AWS::SNS::TopicPolicy").items()
                            if {"Ref": topic_id} in p["Properties"]["Topics"]]
    assert any(s["Effect"] == "Allow" and s["Principal"] == {"Service": "s3.amazonaws.com"}
               and s["Action"] == "sns:Publish" for s in policy["Properties"]["PolicyDocument"]["Statement"])
    key_id = by_key_arn["Resources"][topic_id]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_statements = by_key_arn["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Effect"] == "Allow" and "s3.amazonaws.com" in str(s["Principal"])
               and "kms:GenerateDataKey*" in s["Action"] for s in key_statements)
    assert policy_id in by_key_arn["Resources"][bucket_id]["DependsOn"]
