"""The payments table: on demand, customer-managed key, point-in-time recovery, the merchant index, and
in prod a daily AWS Backup plan. Or the user's ``existing_table``. With ``ResilienceTier.WARM_STANDBY``
the same table as a global table (``TableV2``) with a replica in the standby region; with
``ResilienceTier.ACTIVE_ACTIVE`` a global table with multi-Region strong consistency, a replica in each peer
region and, with ``witness_region``, a witness there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import Annotations, Names, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._nag import acknowledge
from .._names import deployment_suffix, top_level_unique_id
from ..choices import ResilienceTier
from . import resilience as tiers
from .settings import PaymentApiSettings

MERCHANT_INDEX = "by-merchant"
PARTITION_KEY = dynamodb.Attribute(name="payment_id", type=dynamodb.AttributeType.STRING)
INDEX_KEYS = dict(partition_key=dynamodb.Attribute(name="merchant_id", type=dynamodb.AttributeType.STRING),
                  sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
                  projection_type=dynamodb.ProjectionType.INCLUDE, non_key_attributes=["amount", "currency", "status"])
TTL_ATTRIBUTE = "expiration"  # Powertools idempotency records (before issue 23) expired; payments never do


@dataclass(frozen=True)
class Store:
    table: dynamodb.ITable
    backup_plan: Optional[backup.BackupPlan] = None

    @classmethod
    def build(cls, scope: Construct, settings: PaymentApiSettings, key: kms.IKey) -> "Store":
        existing = settings.existing_table
        if existing is None:
            table = _global_table(scope, settings, key) if settings.replica_keys else _table(scope, settings, key)
            return cls(table, _backup_plan(scope, settings, key, table))
        if not isinstance(existing, (dynamodb.Table, dynamodb.TableV2)) and existing.encryption_key is None:
            Annotations.of(scope).add_warning_v2(
                "cdk-payments:importedTableKey",
                "existing_table names no encryption key, so the functions are granted none: if the table is "
                "encrypted with a customer managed KMS key, import it with dynamodb.Table.from_table_attributes("
                "table_arn=..., encryption_key=key, global_indexes=['by-merchant']) so they may use it.")
        return cls(existing)


def global_table_name(scope: Construct, settings: PaymentApiSettings) -> str:
    """The global table's name, which the standby stack in another region must know at synthesis: the user's
    ``global_table_name``, else the path's from the stack down (the same in a Stage), unique per stack name
    within an account and region."""
    return settings.global_table_name or top_level_unique_id(scope, "Table")


def _global_table(scope: Construct, settings: PaymentApiSettings, key: kms.IKey) -> dynamodb.TableV2:
    """``_table``'s twin as an ``AWS::DynamoDB::GlobalTable`` with a replica in each of ``replica_keys``' regions,
    encrypted there with that region's key (KMS keys never leave theirs)."""
    replicas = settings.replica_keys
    strong = settings.resilience is ResilienceTier.ACTIVE_ACTIVE
    pitr = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
    # Named, so its name is known to the stacks of the other regions. Kept on delete with the profile's RETAIN,
    # even after a failed first create: with deletion protection on, a rollback's delete would fail and leave the
    # stack in ROLLBACK_FAILED; kept, the retry adopts it (`cdk deploy --import-existing-resources`, docs/regions.md).
    return dynamodb.TableV2(
        scope, "Table", table_name=global_table_name(scope, settings), partition_key=PARTITION_KEY,
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(
            key, {region: replica_key.key_arn for region, replica_key in replicas.items()}),
        point_in_time_recovery_specification=pitr, deletion_protection=settings.deletion_protection,
        # Strong consistency: every region reads the latest write and a conditional write sees every region's, so
        # one Idempotency-Key cannot make two payments in two regions. Such a table takes no transactions (none
        # are used) and, at its launch, no TTL: the lifecycle routes' expired idempotency records then stay, a few
        # hundred bytes each, and Powertools treats them as absent.
        multi_region_consistency=dynamodb.MultiRegionConsistency.STRONG if strong else None,
        witness_region=settings.witness_region,
        time_to_live_attribute=None if strong else TTL_ATTRIBUTE,
        global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(index_name=MERCHANT_INDEX, **INDEX_KEYS)],
        replicas=[dynamodb.ReplicaTableProps(region=region, point_in_time_recovery_specification=pitr,
                                             deletion_protection=settings.deletion_protection)
                  for region in replicas],
        removal_policy=settings.removal_policy,
    )


def _table(scope: Construct, settings: PaymentApiSettings, key: kms.IKey) -> dynamodb.Table:
    # Table, not TableV2: TableV2 cannot render a customer-managed key in a region-agnostic stack.
    table = dynamodb.Table(
        scope,
        "Table",
        partition_key=PARTITION_KEY,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=settings.deletion_protection,
        time_to_live_attribute=TTL_ATTRIBUTE,
        removal_policy=settings.removal_policy,
    )
    table.add_global_secondary_index(index_name=MERCHANT_INDEX, **INDEX_KEYS)
    return table


def _backup_plan(scope: Construct, settings: PaymentApiSettings, key: kms.IKey,
                 table: dynamodb.ITable) -> Optional[backup.BackupPlan]:
    plan = None
    if settings.backup_plan or settings.backup_copy_vault is not None:
        # Kept on delete for its recovery points (not after a failed first create: it holds none). AWS
        # requires a name: the path's from the stack down (the same in a Stage), ending in the stack ID's
        # suffix, so a kept vault never blocks the next deploy of the same stack.
        vault = backup.BackupVault(
            scope, "BackupVault", encryption_key=key,
            backup_vault_name=f"{top_level_unique_id(scope, 'BackupVault')[-41:]}-{deployment_suffix()}",
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        # With a copy vault, each backup is also copied to a second region (ResilienceTier.BACKUP_AND_RESTORE).
        plan = tiers.backup_plan(scope, vault, settings.backup_copy_vault)
        # Named after its path (so after the stack), not CDK's literal "BackupPlan" for every copy.
        plan.node.default_child.add_property_override(
            "BackupPlan.BackupPlanName", Names.unique_resource_name(plan, max_length=50, separator="-"))
        selection = plan.add_selection("Table", resources=[backup.BackupResource.from_dynamo_db_table(table)])
        acknowledge(
            selection,
            "AWS Backup's service role uses the AWS-managed AWSBackupServiceRolePolicyForBackup, the "
            "documented policy that AWS keeps current as Backup adds resource types.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
        )
    else:
        acknowledge(
            table,
            "No AWS Backup plan in the dev profile, for cost: point-in-time recovery (on) restores any "
            "second of the last 35 days. The prod profile adds a daily backup plan.",
            "NIST.800.53.R5-DynamoDBInBackupPlan",
            "PCI.DSS.321-DynamoDBInBackupPlan",
        )
    return plan
