"""SecurePaymentApi's resilience tiers: backup and restore copies each backup to a second region,
and every tier the props cannot deliver is refused at construction, naming the prop."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match

from cdk_payments import Profile, ResilienceTier, SecurePaymentApi

from ..harness import synth

PRIMARY = cdk.Environment(account="111111111111", region="us-east-1")
COPY_VAULT_ARN = "arn:aws:backup:us-west-2:111111111111:backup-vault:payments-copies"


def copy_vault(stack: cdk.Stack, arn: str = COPY_VAULT_ARN) -> backup.IBackupVault:
    return backup.BackupVault.from_backup_vault_arn(stack, "CopyVault", arn)


@pytest.fixture(scope="module")
def backup_and_restore():
    # Dev, where the profile leaves AWS Backup off: the tier turns it on.
    return synth(lambda stack: SecurePaymentApi(stack, "Payments", resilience=ResilienceTier.BACKUP_AND_RESTORE,
                                                backup_copy_vault=copy_vault(stack)), env=PRIMARY)


def test_backup_and_restore_copies_each_daily_backup_to_the_second_region(backup_and_restore):
    backup_and_restore.template.has_resource_properties("AWS::Backup::BackupPlan", {"BackupPlan": {"BackupPlanRule": [{
        "RuleName": "Daily", "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35},
        "CopyActions": [{"DestinationBackupVaultArn": COPY_VAULT_ARN, "Lifecycle": {"DeleteAfterDays": 35}}],
    }]}})
    # The table is what the plan selects.
    backup_and_restore.template.has_resource_properties("AWS::Backup::BackupSelection", {"BackupSelection": {
        "Resources": [{"Fn::GetAtt": [Match.string_like_regexp("^PaymentsTable"), "Arn"]}]}})


def test_backup_and_restore_passes_every_rules_pack(backup_and_restore):
    assert [str(f) for f in backup_and_restore.findings] == []


def test_backup_and_restore_warns_that_dynamodb_copies_need_advanced_backup(backup_and_restore):
    warnings = backup_and_restore.stack.node.find_all()
    messages = [entry.data for node in warnings for entry in node.node.metadata if entry.type == "aws:cdk:warning"]
    assert any("cdk-payments:dynamodbAdvancedBackup" in str(m) for m in messages)


def refusal(**props) -> str:
    stack = cdk.Stack(cdk.App(), "Refused", env=PRIMARY)
    props = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    with pytest.raises(ValueError) as raised:
        SecurePaymentApi(stack, "Payments", **props)
    return str(raised.value)


def test_backup_and_restore_needs_a_vault_in_another_region_and_the_backup_plan():
    message = refusal(resilience=ResilienceTier.BACKUP_AND_RESTORE, backup_plan=False)
    assert "backup_copy_vault: is required with ResilienceTier.BACKUP_AND_RESTORE" in message
    assert "backup_plan: cannot be False" in message  # both at once
    same = refusal(resilience=ResilienceTier.BACKUP_AND_RESTORE,
                   backup_copy_vault=lambda s: copy_vault(s, COPY_VAULT_ARN.replace("us-west-2", "us-east-1")))
    assert "backup_copy_vault: is in this stack's region (us-east-1)" in same


def test_backup_and_restore_refuses_an_existing_table():
    message = refusal(resilience=ResilienceTier.BACKUP_AND_RESTORE, backup_copy_vault=copy_vault,
                      existing_table=lambda s: dynamodb.Table.from_table_name(s, "Own", "payments"))
    assert "existing_table: cannot be combined with resilience=ResilienceTier.BACKUP_AND_RESTORE" in message


def test_copy_vault_only_with_backup_and_restore():
    assert "backup_copy_vault: is used only with ResilienceTier.BACKUP_AND_RESTORE" in refusal(
        profile=Profile.PROD, backup_copy_vault=copy_vault)


@pytest.mark.parametrize("tier, missing", [
    (ResilienceTier.WARM_STANDBY, "TableV2 global table"),
    (ResilienceTier.ACTIVE_ACTIVE, "multi-Region strong consistency"),
])
def test_tiers_not_built_yet_say_what_they_need(tier, missing):
    message = refusal(resilience=tier)
    assert f"resilience: ResilienceTier.{tier.name} is not built yet" in message and missing in message


def test_resilience_must_be_a_tier():
    assert "resilience: expected one of ResilienceTier.SINGLE_REGION" in refusal(resilience="warm-standby")
