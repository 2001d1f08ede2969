"""No account- or region-unique physical names that depend on the app's feature flags (issue 11 item 4).

Without flags (an app that never set them), CDK names the NAT instance's IMDSv2 launch template
"NatInstanceLaunchTemplate" and a bucket's replication role "CDKReplicationRole": a second copy of
the stack, or any other CDK app in the account, collides. The example covers the recommended flags.
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cdk_payments import AuditBucket, CostOptimizedVpc, NatStrategy, PaymentWorkerFleet, Profile

from ..harness import synth

# Resource types whose names are unique per account (IAM) or per account and region, with the
# property that names them.
NAMED = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
}


@pytest.fixture(scope="module")
def without_flags():
    def build(stack):
        network = CostOptimizedVpc(stack, "Network", nat=NatStrategy.INSTANCE)
        PaymentWorkerFleet(stack, "Workers", vpc=network.vpc)
        replica_key = kms.Key.from_key_arn(stack, "ReplicaKey", "arn:aws:kms:us-west-2:111122223333:key/abcd")
        replica = s3.Bucket.from_bucket_name(stack, "Replica", "audit-replica-us-west-2")
        AuditBucket(stack, "Audit", profile=Profile.PROD, replication_destination=replica, replication_key=replica_key)

    return synth(build, nag=False).json


def test_no_fixed_names_without_feature_flags(without_flags):
    named = {k: v["Properties"][NAMED[v["Type"]]] for k, v in without_flags["Resources"].items()
             if v["Type"] in NAMED and NAMED[v["Type"]] in v["Properties"]}
    # Log groups named after a generated one (a Ref) are fine; a literal name is not.
    assert {k: n for k, n in named.items() if isinstance(n, str)} == {}
