from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from cdk_payments import AuditBucket, AuditLockMode, Profile

from .harness import synth


@pytest.fixture(scope="module")
def default():
    holder = {}

    def build(stack):
        holder["audit"] = audit = AuditBucket(stack, "Audit")
        audit.grant_write(iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))

    return synth(build), holder


@pytest.fixture(scope="module")
def prod_replicated():
    def build(stack):
        replica_key = kms.Key.from_key_arn(
            stack, "ReplicaKey", "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        replica = s3.Bucket.from_bucket_name(stack, "Replica", "audit-replica-us-west-2")
        AuditBucket(stack, "Audit", profile=Profile.PROD, replication_destination=replica, replication_key=replica_key)

    return synth(build)


def test_snapshot(default, template_snapshot):
    assert default[0] == template_snapshot


def test_nag_clean(default, prod_replicated):
    # The Producer role is the test's own, outside the construct: only the construct must be clean.
    findings = default[0].findings + prod_replicated.findings
    assert [str(f) for f in findings if "/Audit/" in f.path] == []


def test_encrypted_with_bucket_keys_locked_and_versioned(default):
    result, _ = default
    result.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"}),
                        }
                    )
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
        },
    )
    result.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_lifecycle_glacier_then_deep_archive_then_expiry(default):
    result, _ = default
    result.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {
                            "Transitions": [
                                {"StorageClass": "GLACIER", "TransitionInDays": 30},
                                {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180},
                            ],
                            "ExpirationInDays": 365,
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                        }
                    )
                ]
            }
        },
    )


def test_no_hard_coded_name_and_retained(default):
    result, _ = default
    for bucket in result.resources("AWS::S3::Bucket").values():
        assert "BucketName" not in bucket["Properties"]
        assert bucket["DeletionPolicy"] == "Retain"


def test_ssl_only_policies(default):
    result, _ = default
    policies = result.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_grant_write_puts_but_never_deletes(default):
    result, _ = default
    statements = [
        statement
        for policy in result.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:PutObject" in actions
    assert not any("Delete" in a for a in actions)
    assert any(a.startswith("kms:") for a in actions)


def test_prod_compliance_mode_and_replication(prod_replicated):
    prod_replicated.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2555}},
            },
            "ReplicationConfiguration": Match.object_like(
                {"Rules": [Match.object_like({"Status": "Enabled", "Destination": Match.any_value()})]}
            ),
        },
    )


def test_replication_time_control_only_when_asked(prod_replicated):
    """A resilience tier's RPO rests on S3's 15-minute SLA; without it replication has none (and costs less)."""
    [bucket] = [b for b in prod_replicated.resources("AWS::S3::Bucket").values()
                if "ReplicationConfiguration" in b["Properties"]]
    [rule] = bucket["Properties"]["ReplicationConfiguration"]["Rules"]
    assert "ReplicationTime" not in rule["Destination"]

    def build(stack):
        key = kms.Key.from_key_arn(stack, "ReplicaKey", "arn:aws:kms:us-west-2:111122223333:key/abcd")
        AuditBucket(stack, "Audit", replication_destination=s3.Bucket.from_bucket_name(stack, "Replica", "replica"),
                    replication_key=key, replication_time_control=True)

    synth(build, nag=False).template.has_resource_properties("AWS::S3::Bucket", {"ReplicationConfiguration": {
        "Rules": [Match.object_like({"Destination": Match.object_like({
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}})})]}})
    with pytest.raises(ValueError, match="replication_time_control: needs replication_destination"):
        AuditBucket(cdk.Stack(cdk.App(), "NoReplica"), "Audit", replication_time_control=True)


def test_existing_key_and_log_bucket_are_used():
    def build(stack):
        key = kms.Key.from_key_arn(stack, "K", "arn:aws:kms:us-east-1:111122223333:key/abcd")
        logs = s3.Bucket.from_bucket_name(stack, "L", "central-access-logs")
        AuditBucket(stack, "Audit", encryption_key=key, access_log_bucket=logs, lock_mode=AuditLockMode.COMPLIANCE)

    result = synth(build, nag=False)
    result.template.resource_count_is("AWS::KMS::Key", 0)
    result.template.resource_count_is("AWS::S3::Bucket", 1)
    result.template.has_resource_properties(
        "AWS::S3::Bucket", {"LoggingConfiguration": Match.object_like({"DestinationBucketName": "central-access-logs"})}
    )
