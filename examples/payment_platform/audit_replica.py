"""AuditReplica: the prod profile's cross-region copy of the audit trail, in its own regional stack."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from keys import platform_key

from cdk_payments import AuditBucket, Profile

KEY_ALIAS = "alias/cdk-payments-audit-replica"


def replica_bucket_name(region: str) -> str:
    # Unique per account and region, like CDK's bootstrap buckets: no global name is hard-coded.
    return f"cdk-payments-audit-replica-{Aws.ACCOUNT_ID}-{region}"


class AuditReplica(Stack):
    """An AuditBucket in another region that receives the primary audit bucket's replicas."""

    def __init__(self, scope: Construct, id: str, *, region: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        key = platform_key(self, "Key", alias=KEY_ALIAS, description="cdk-payments example: audit replicas")
        AuditBucket(self, "Replica", profile=Profile.PROD, encryption_key=key, bucket_name=replica_bucket_name(region))

    @staticmethod
    def destination(scope: Construct, region: str) -> tuple[s3.IBucket, kms.IKey]:
        """The replica bucket and key as the primary stack sees them (by name, not by reference)."""
        bucket = s3.Bucket.from_bucket_name(scope, "AuditReplicaBucket", replica_bucket_name(region))
        key = kms.Key.from_key_arn(scope, "AuditReplicaKey",
                                   f"arn:{Aws.PARTITION}:kms:{region}:{Aws.ACCOUNT_ID}:{KEY_ALIAS}")
        return bucket, key
