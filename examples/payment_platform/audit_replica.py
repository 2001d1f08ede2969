"""AuditReplica: the prod profile's cross-region copy of the audit trail, in its own regional stack."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from aws_cdk import Aws, Environment, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from keys import platform_key

from cdk_payments import AuditBucket, Profile


class AuditReplica(Stack):
    """An AuditBucket in another region that receives the primary audit bucket's replicas, and with
    ``backup_vault`` the vault the payment table's backups are copied to (ResilienceTier.BACKUP_AND_RESTORE).

    The primary stack lives in another region, where CloudFormation cannot reference this stack's
    resources (CDK's ``cross_region_references`` would add custom resources that write SSM parameters
    across regions and lock both stacks against change). So the replica bucket and its key get
    names derived from this stack's name, the account and the region: unique for every copy of the
    app, known to both stacks at synthesis. ``replication_target`` hands them to the primary stack
    as objects, which must deploy after this one (``add_dependency``).

    The bucket is retained on deletion and keeps its name (the primary stack must know it at synthesis,
    so CloudFormation cannot generate it): to redeploy after a destroy, pass a new ``generation``
    (``-c auditReplicaGeneration=2``: a new bucket, the kept one stays with its records), or let
    CloudFormation adopt the kept bucket (``cdk deploy --import-existing-resources``).
    """

    def __init__(self, scope: Construct, id: str, *, region: str, backup_vault: bool = False,
                 generation: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(scope, id, env=Environment(region=region), **kwargs)
        digest = hashlib.sha256(self.stack_name.encode()).hexdigest()[:8]
        # At most 21 + 8 + 12 + 14 + 2 = 57 characters (63 with a generation up to -g999), within S3's 63;
        # no global name is hard-coded.
        suffix = f"-g{generation}" if generation else ""
        self.bucket_name = f"cdk-payments-replica-{digest}-{Aws.ACCOUNT_ID}-{region}{suffix}"
        # Alias names are unique per account and region: this stack's name makes it unique per copy.
        self.key_alias = f"alias/cdk-payments/{self.stack_name}"
        # Retained, except when a failed first deploy rolls back: then nothing is left behind (a
        # retained bucket would make the retry fail on its fixed name, a retained key costs $1/month).
        kept = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        self.key = platform_key(self, "Key", alias=self.key_alias, removal_policy=kept,
                                description="cdk-payments example: audit replicas")
        self.audit = AuditBucket(self, "Replica", profile=Profile.PROD, encryption_key=self.key,
                                 bucket_name=self.bucket_name, removal_policy=kept)
        # Vault names are unique per account and region: 20 + 8 characters, within Backup's 50.
        # A new generation names a new vault too: the kept one (with its copies) holds the old name.
        self.backup_vault_name = f"cdk-payments-copies-{digest}{suffix}"
        self.backup_vault: Optional[backup.BackupVault] = None
        if backup_vault:
            self.backup_vault = backup.BackupVault(self, "BackupCopies", backup_vault_name=self.backup_vault_name,
                                                   encryption_key=self.key, removal_policy=kept)

    def copy_vault(self, scope: Construct) -> backup.IBackupVault:
        """The backup copy vault as a stack in another region sees it (by its ARN, known at synthesis)."""
        arn = f"arn:{Aws.PARTITION}:backup:{self.region}:{Aws.ACCOUNT_ID}:backup-vault:{self.backup_vault_name}"
        return backup.BackupVault.from_backup_vault_arn(scope, "BackupCopyVault", arn)

    def replication_target(self, scope: Construct) -> tuple[s3.IBucket, kms.IKey]:
        """The replica bucket and key as a stack in another region sees them.

        The key is named by its alias ARN (its key ID is random); AuditBucket grants it through
        ``kms:ResourceAliases``, since IAM ignores alias ARNs in resources.
        """
        bucket = s3.Bucket.from_bucket_attributes(scope, "AuditReplicaBucket", bucket_name=self.bucket_name,
                                                  region=self.region)
        key = kms.Key.from_key_arn(scope, "AuditReplicaKey",
                                   f"arn:{Aws.PARTITION}:kms:{self.region}:{Aws.ACCOUNT_ID}:{self.key_alias}")
        return bucket, key
