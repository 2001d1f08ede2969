"""SecurePaymentApi's resilience tiers: the checks that refuse a tier the props cannot deliver, and
what a tier adds to the single-region construct (docs/regions.md).

Single region adds nothing, so its template is the construct's as it always was. Backup and restore
copies every daily backup of the table to a vault in a second region; the audit trail reaches that
region through the audit bucket's own replication (``AuditBucket(replication_destination=...)``).
Warm standby makes the table a global table with a replica in ``standby_region`` (store.py), which a
second ``SecurePaymentApi`` there serves (``replica_table``). Active-active makes it a global table with
multi-Region strong consistency (MRSC) across three regions of one of DynamoDB's region sets: this one and
``peer_regions``, or this one, one peer and ``witness_region``; each peer's ``SecurePaymentApi`` serves its
replica, and every region takes payments.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from aws_cdk import Annotations, Duration, Stack, Token
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from constructs import Construct

from .._validation import PropErrors, pick
from ..choices import ResilienceTier

# The region of an ARN of ``service``, readable even when the account or partition is a token.
ARN_REGION = r":{service}:([a-z]{{2}}(?:-[a-z]+)+-\d+):"
# What CDK's BackupPlanRule.daily() holds: the single-region plan's one rule, kept as it is.
DAILY_RULE = dict(rule_name="Daily", schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                  delete_after=Duration.days(35))
# The tiers whose table is a global table, made by one region's API and served by the others'.
GLOBAL_TIERS = (ResilienceTier.WARM_STANDBY, ResilienceTier.ACTIVE_ACTIVE)
# The regions one global table with multi-Region strong consistency may span: all of its regions in one set.
MRSC_REGION_SETS = (("us-east-1", "us-east-2", "us-west-2"),
                    ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
                    ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"))


def check(errors: PropErrors, scope: Construct, props: Any, default: ResilienceTier) -> None:
    """Add an error for every prop of ``props`` (``PaymentApiProps``) the chosen tier cannot work with."""
    tier = props.resilience
    if not errors.check_enum(tier, "resilience", ResilienceTier):
        return
    tier = pick(tier, default)
    vault = props.backup_copy_vault
    errors.check_implements(vault, "backup_copy_vault", "backup.IBackupVault", "backup_vault_arn", required=False)
    _check_standby(errors, scope, props, tier)
    _check_active(errors, scope, props, tier)
    if tier is not ResilienceTier.BACKUP_AND_RESTORE:
        errors.check(vault is None, "backup_copy_vault", "is used only with ResilienceTier.BACKUP_AND_RESTORE")
        return
    errors.check(vault is not None, "backup_copy_vault",
                 "is required with ResilienceTier.BACKUP_AND_RESTORE: a backup vault in a second region, such as "
                 "backup.BackupVault.from_backup_vault_arn(scope, 'CopyVault', 'arn:aws:backup:<region>:...')")
    errors.check(props.backup_plan is not False, "backup_plan",
                 "cannot be False with ResilienceTier.BACKUP_AND_RESTORE: the second region gets copies of its backups")
    errors.check_not_with(props.existing_table, "existing_table", "resilience=ResilienceTier.BACKUP_AND_RESTORE",
                          "the table is yours, so back it up and copy its backups where it is defined")
    here = Stack.of(scope).region
    there = arn_region(vault.backup_vault_arn, "backup") if vault is not None and hasattr(vault, "backup_vault_arn") \
        else None
    errors.check(there is None or Token.is_unresolved(here) or there != here, "backup_copy_vault",
                 f"is in this stack's region ({here}): a copy in the same region survives no regional outage")


def _check_standby(errors: PropErrors, scope: Construct, props: Any, tier: ResilienceTier) -> None:
    """Warm standby's two sides: the primary (``standby_region`` and ``standby_encryption_key``) makes the global
    table; the standby (``existing_table``, the primary's ``replica_table``) serves its replica."""
    region, key = props.standby_region, props.standby_encryption_key
    errors.check_implements(key, "standby_encryption_key", "kms.IKey", "key_arn", required=False)
    errors.check_format(props.global_table_name, "global_table_name", "table_name")
    own = (("standby_region", region), ("standby_encryption_key", key))
    if tier not in GLOBAL_TIERS:
        errors.check(props.global_table_name is None, "global_table_name",
                     "is used only with ResilienceTier.WARM_STANDBY or ACTIVE_ACTIVE")
    if tier is not ResilienceTier.WARM_STANDBY:
        _used_only_with(errors, own, ResilienceTier.WARM_STANDBY)
        return
    own += (("global_table_name", props.global_table_name),)
    if props.existing_table is not None:
        for prop, value in own:
            errors.check_not_with(value, prop, "existing_table", "with ResilienceTier.WARM_STANDBY, the primary makes "
                                  "the global table (standby_region, standby_encryption_key) and its standby serves the "
                                  "replica (existing_table=primary.replica_table(...))")
        return
    here = Stack.of(scope).region
    # CloudFormation makes a global table's replicas from the stack of its primary, which must name its region.
    errors.check(not Token.is_unresolved(here), "resilience",
                 "ResilienceTier.WARM_STANDBY needs a stack in a known region (Stack(env=Environment(region=...))): "
                 "the global table names each replica's region, and its own")
    valid = errors.check(region is not None, "standby_region", "is required with ResilienceTier.WARM_STANDBY: the "
                         "region of the table's replica and the standby API (or, on the standby, existing_table="
                         "primary.replica_table(...))") and errors.check_format(region, "standby_region", "region")
    errors.check(not valid or region != here, "standby_region",
                 f"is this stack's region ({here}): a standby must survive its loss")
    errors.check(key is not None, "standby_encryption_key",
                 "is required with ResilienceTier.WARM_STANDBY: a KMS key in standby_region for the table's replica, "
                 "such as kms.Key.from_key_arn(scope, 'StandbyKey', 'arn:aws:kms:<region>:<account>:alias/<name>')")
    there = arn_region(key.key_arn, "kms") if key is not None and hasattr(key, "key_arn") else None
    errors.check(there is None or not valid or there == region, "standby_encryption_key",
                 f"is in {there}, not in standby_region ({region}): a replica is encrypted with a key of its own region")


def _check_active(errors: PropErrors, scope: Construct, props: Any, tier: ResilienceTier) -> None:
    """Active-active's two sides: one region's API makes the strongly consistent global table (``peer_regions``,
    ``witness_region``); each peer serves its replica (``existing_table``, the owner's ``replica_table``)."""
    peers, witness = props.peer_regions, props.witness_region
    own = (("peer_regions", peers), ("witness_region", witness))
    if tier is not ResilienceTier.ACTIVE_ACTIVE:
        _used_only_with(errors, own, ResilienceTier.ACTIVE_ACTIVE)
        return
    if props.existing_table is not None:
        for prop, value in (*own, ("global_table_name", props.global_table_name)):
            errors.check_not_with(value, prop, "existing_table", "with ResilienceTier.ACTIVE_ACTIVE, one region's API "
                                  "makes the global table (peer_regions, witness_region) and each peer serves its "
                                  "replica (existing_table=owner.replica_table(...))")
        return
    here = Stack.of(scope).region
    errors.check(not Token.is_unresolved(here), "resilience",
                 "ResilienceTier.ACTIVE_ACTIVE needs a stack in a known region (Stack(env=Environment(region=...))): "
                 "a strongly consistent global table names each of its regions")
    example = "{'us-east-2': kms.Key.from_key_arn(scope, 'PeerKey', 'arn:aws:kms:us-east-2:<account>:alias/<name>')}"
    if not errors.check(isinstance(peers, Mapping) and len(peers) > 0, "peer_regions",
                        f"is required with ResilienceTier.ACTIVE_ACTIVE: each other region that serves payments, with "
                        f"the KMS key of that region that encrypts its replica, such as {example}"):
        return
    formats = [errors.check_format(region, "peer_regions", "region", item=f"{region!r}") for region in peers]
    formats.append(errors.check_format(witness, "witness_region", "region"))
    for region, key in peers.items():
        prop = f"peer_regions[{region!r}]"
        if errors.check_implements(key, prop, "kms.IKey", "key_arn", required=True):
            there = arn_region(key.key_arn, "kms")
            errors.check(there is None or there == region, prop,
                         f"is a key in {there}: a replica is encrypted with a key of its own region")
    errors.check(len(peers) == (1 if witness else 2), "peer_regions",
                 f"names {len(peers)} region(s): strong consistency needs three regions, this stack's and two peers, "
                 "or this stack's, one peer and witness_region")
    regions = [here, *peers, *([witness] if witness else [])]
    errors.check(len(set(regions)) == len(regions), "peer_regions",
                 f"names a region twice among this stack's ({here}), the peers and the witness: each region is one "
                 "member of the table")
    if not all(formats) or Token.is_unresolved(here):
        return
    region_set = next((regions_ for regions_ in MRSC_REGION_SETS if here in regions_), None)
    if not errors.check(region_set is not None, "resilience",
                        f"ResilienceTier.ACTIVE_ACTIVE is not available in {here}: DynamoDB's multi-Region strong "
                        f"consistency spans one of {_sets()}"):
        return
    for prop, named in (("peer_regions", list(peers)), ("witness_region", [witness] if witness else [])):
        outside = [region for region in named if region not in region_set]
        errors.check(not outside, prop, f"{', '.join(outside)} not in the region set of this stack's region "
                                        f"({', '.join(region_set)}): all three regions must be in one")


def _used_only_with(errors: PropErrors, props: tuple[tuple[str, Any], ...], tier: ResilienceTier) -> None:
    for prop, value in props:
        errors.check(value is None, prop, f"is used only with ResilienceTier.{tier.name}")


def _sets() -> str:
    return "; ".join(", ".join(regions) for regions in MRSC_REGION_SETS)


def arn_region(arn: str, service: str) -> Optional[str]:
    match = re.search(ARN_REGION.format(service=service), arn)
    return match.group(1) if match else None


def backup_plan(scope: Construct, vault: backup.IBackupVault, copy_vault: Optional[backup.IBackupVault]) -> backup.BackupPlan:
    """The daily plan, kept 35 days; with ``copy_vault`` each backup is also copied there and kept as long."""
    if copy_vault is None:
        return backup.BackupPlan.daily35_day_retention(scope, "BackupPlan", vault)
    plan = backup.BackupPlan(scope, "BackupPlan", backup_vault=vault)
    plan.add_rule(backup.BackupPlanRule(**DAILY_RULE, copy_actions=[
        backup.BackupPlanCopyActionProps(destination_backup_vault=copy_vault, delete_after=Duration.days(35))]))
    # AWS Backup copies a DynamoDB backup to another region only with its advanced DynamoDB backup
    # features on, an account setting (per region) that CloudFormation cannot make.
    Annotations.of(plan).add_warning_v2(
        "cdk-payments:dynamodbAdvancedBackup",
        "Cross-region copies of DynamoDB backups need AWS Backup's advanced features for DynamoDB: turn them on "
        "once per account and region (AWS Backup console, Settings, or `aws backup update-region-settings "
        "--resource-type-management-preference DynamoDB=true`), or the copy jobs fail.")
    return plan
