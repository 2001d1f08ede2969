"""SecurePaymentApi's resilience tiers: backup and restore copies each backup to a second region, warm
standby replicates the table to a second region where another SecurePaymentApi serves it, and every tier
the props cannot deliver is refused at construction, naming the prop."""

from __future__ import annotations

import aws_cdk as cdk
import aws_cdk.assertions  # noqa: F401
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match

from cdk_payments import Profile, ResilienceTier, SecurePaymentApi

from ..harness import synth, synth_stacks
from .test_domain import ZONE_ID, zone

PRIMARY = cdk.Environment(account="111111111111", region="us-east-1")
STANDBY = cdk.Environment(account="111111111111", region="us-west-2")
STANDBY_ALIAS = "alias/payments-standby"
STANDBY_KEY_ARN = f"arn:aws:kms:us-west-2:111111111111:{STANDBY_ALIAS}"
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


def standby_key(stack: cdk.Stack, arn: str = STANDBY_KEY_ARN) -> kms.IKey:
    return kms.Key.from_key_arn(stack, "StandbyKey", arn)


DOMAIN = "pay.example.com"




def warm_standby_stacks(app: cdk.App) -> dict[str, cdk.Stack]:
    """The primary in us-east-1 with its table's replica in us-west-2, and the standby API there serving it, both
    under one name."""
    primary = cdk.Stack(app, "Primary", env=PRIMARY)
    api = SecurePaymentApi(primary, "Payments", profile=Profile.PROD, resilience=ResilienceTier.WARM_STANDBY,
                           standby_region=STANDBY.region, standby_encryption_key=standby_key(primary),
                           domain_name=DOMAIN, hosted_zone=zone(primary))
    standby = cdk.Stack(app, "Standby", env=STANDBY)
    replica_key = kms.Alias.from_alias_name(standby, "ReplicaKey", STANDBY_ALIAS)
    SecurePaymentApi(standby, "Payments", profile=Profile.PROD, resilience=ResilienceTier.WARM_STANDBY,
                     existing_table=api.replica_table(standby, encryption_key=replica_key),
                     domain_name=DOMAIN, hosted_zone=zone(standby))
    return {"primary": primary, "standby": standby}


@pytest.fixture(scope="module")
def warm_standby():
    return synth_stacks(warm_standby_stacks)


TABLE_NAME = "PrimaryPaymentsTable5C3F5DD6"


def test_warm_standby_replicates_the_table_to_the_standby_region(warm_standby):
    template = warm_standby["primary"].template
    [(logical_id, table)] = template.find_resources("AWS::DynamoDB::GlobalTable").items()
    # Named, so the standby knows it at synthesis. Kept even after a failed first create: deletion protection
    # would refuse the rollback's delete (ROLLBACK_FAILED); kept, the retry adopts it.
    assert table["Properties"]["TableName"] == TABLE_NAME
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    replicas = {r["Region"]: r for r in table["Properties"]["Replicas"]}
    assert set(replicas) == {"us-east-1", "us-west-2"}
    # Each replica is encrypted with a key of its own region, recoverable and protected in both.
    assert replicas["us-west-2"]["SSESpecification"] == {"KMSMasterKeyId": STANDBY_KEY_ARN}
    [own_key, attribute] = replicas["us-east-1"]["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"]
    assert own_key.startswith("PaymentsKey") and attribute == "Arn"
    for replica in replicas.values():
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True
        assert replica["GlobalSecondaryIndexes"] == [{"IndexName": "by-merchant"}]
    # The same keys, index and TTL as the single-region table: the handlers cannot tell them apart.
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    # Prod's daily backup plan selects the global table.
    template.has_resource_properties("AWS::Backup::BackupSelection", {"BackupSelection": {
        "Resources": [{"Fn::GetAtt": [logical_id, "Arn"]}]}})


def test_warm_standby_alarms_when_replication_falls_behind(warm_standby):
    warm_standby["primary"].template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ReplicationLatency", "Namespace": "AWS/DynamoDB", "Threshold": 60000, "EvaluationPeriods": 5,
        "Dimensions": Match.array_with([{"Name": "ReceivingRegion", "Value": "us-west-2"}]),
        "AlarmActions": [{"Ref": Match.string_like_regexp("^PaymentsAlarmTopic")}]})


def test_the_standby_api_serves_the_replica_with_the_replicas_key(warm_standby):
    template = warm_standby["standby"].template
    table_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                   f":dynamodb:us-west-2:111111111111:table/{TABLE_NAME}"]]}
    replica_key = {"Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                   "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": STANDBY_ALIAS}}}
    for function in ("Processor", "EventHandler"):
        [policy] = [p for name, p in template.find_resources("AWS::IAM::Policy").items()
                    if name.startswith(f"Payments{function}RoleDefaultPolicy")]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        # The replica (this region, the primary's table name) and its key, which a table's grant leaves out.
        assert any(table_arn in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
                   for s in statements if "dynamodb:GetItem" in s["Action"]), function
        [granted] = [s for s in statements if s.get("Condition") == replica_key["Condition"]]
        assert granted["Action"] == replica_key["Action"], function
        assert granted["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                         ":kms:us-west-2:111111111111:key/*"]]}
    # The standby creates no table of its own.
    assert template.find_resources("AWS::DynamoDB::Table") == {}
    assert template.find_resources("AWS::DynamoDB::GlobalTable") == {}


def test_an_existing_tables_own_key_is_granted_to_both_functions():
    key_arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    built = synth(lambda s: SecurePaymentApi(s, "Payments", existing_table=dynamodb.Table.from_table_attributes(
        s, "Keyed", table_name="payments", global_indexes=["by-merchant"],
        encryption_key=kms.Key.from_key_arn(s, "TableKey", key_arn))), env=PRIMARY, nag=False)
    for function in ("Processor", "EventHandler"):
        built.template.has_resource_properties("AWS::IAM::Policy", {
            "Roles": [{"Ref": Match.string_like_regexp(f"^Payments{function}Role")}],
            "PolicyDocument": {"Statement": Match.array_with([{
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Effect": "Allow", "Resource": key_arn}])}})


def test_one_name_answers_with_the_primary_while_its_health_check_is_healthy(warm_standby):
    primary, standby = warm_standby["primary"].template, warm_standby["standby"].template
    [(alarm_id, _)] = [(k, a) for k, a in primary.find_resources("AWS::CloudWatch::Alarm").items()
                       if k.startswith("PaymentsApi5xxRate")]
    # Route 53 reads the 5XX-rate alarm's metric itself (an Average: extended statistics are not supported).
    primary.has_resource_properties("AWS::Route53::HealthCheck", {"HealthCheckConfig": {
        "Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {"Name": {"Ref": alarm_id}, "Region": "us-east-1"},
        "InsufficientDataHealthStatus": "LastKnownStatus"}})
    [(check_id, _)] = primary.find_resources("AWS::Route53::HealthCheck").items()
    primary.has_resource_properties("AWS::Route53::RecordSet", {
        "Name": "pay.example.com.", "Type": "A", "Failover": "PRIMARY", "SetIdentifier": "payments-us-east-1",
        "HealthCheckId": {"Ref": check_id}, "HostedZoneId": ZONE_ID})
    standby.has_resource_properties("AWS::Route53::RecordSet", {
        "Name": "pay.example.com.", "Type": "A", "Failover": "SECONDARY", "SetIdentifier": "payments-us-west-2"})
    assert standby.find_resources("AWS::Route53::HealthCheck") == {}
    # A certificate and a regional domain in each region, TLS 1.2 at least, mapped to the stage.
    for template in (primary, standby):
        template.has_resource_properties("AWS::CertificateManager::Certificate", {
            "DomainName": DOMAIN, "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": DOMAIN, "HostedZoneId": ZONE_ID}]})
        template.has_resource_properties("AWS::ApiGateway::DomainName", {
            "DomainName": DOMAIN, "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"})
        template.has_resource_properties("AWS::ApiGateway::BasePathMapping", {"Stage": Match.any_value()})


def test_warm_standby_primary_snapshot(warm_standby, template_snapshot):
    assert warm_standby["primary"] == template_snapshot


def test_warm_standby_standby_snapshot(warm_standby, template_snapshot):
    assert warm_standby["standby"] == template_snapshot


def test_warm_standby_passes_every_rules_pack(warm_standby):
    assert [str(f) for f in warm_standby["primary"].findings] == []


def test_warm_standby_needs_a_region_a_key_of_that_region_and_a_regional_stack():
    message = refusal(resilience=ResilienceTier.WARM_STANDBY)
    assert "standby_region: is required with ResilienceTier.WARM_STANDBY" in message
    assert "standby_encryption_key: is required with ResilienceTier.WARM_STANDBY" in message
    same = refusal(resilience=ResilienceTier.WARM_STANDBY, standby_region="us-east-1", standby_encryption_key=lambda s:
                   standby_key(s, STANDBY_KEY_ARN.replace("us-west-2", "us-east-1")))
    assert "standby_region: is this stack's region (us-east-1)" in same
    elsewhere = refusal(resilience=ResilienceTier.WARM_STANDBY, standby_region="eu-west-1", standby_encryption_key=standby_key)
    assert "standby_encryption_key: is in us-west-2, not in standby_region (eu-west-1)" in elsewhere
    oregon = refusal(resilience=ResilienceTier.WARM_STANDBY, standby_region="Oregon", standby_encryption_key=standby_key)
    assert "standby_region: 'Oregon' is not an AWS region name, such as 'us-west-2'" in oregon
    assert "standby_encryption_key" not in oregon  # one error for one mistake
    agnostic = cdk.Stack(cdk.App(), "Agnostic")
    with pytest.raises(ValueError, match="ResilienceTier.WARM_STANDBY needs a stack in a known region"):
        SecurePaymentApi(agnostic, "Payments", resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
                         standby_encryption_key=standby_key(agnostic))


def test_a_warm_standby_is_the_primary_or_the_standby_never_both_and_standby_props_need_the_tier():
    message = refusal(resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
                      standby_encryption_key=standby_key,
                      existing_table=lambda s: dynamodb.Table.from_table_name(s, "Own", "payments"))
    assert "standby_region: cannot be combined with existing_table: with ResilienceTier.WARM_STANDBY" in message
    assert "standby_encryption_key: cannot be combined with existing_table" in message
    alone = refusal(standby_region="us-west-2", standby_encryption_key=standby_key)
    assert "standby_region: is used only with ResilienceTier.WARM_STANDBY" in alone
    assert "standby_encryption_key: is used only with ResilienceTier.WARM_STANDBY" in alone


def test_replica_table_is_refused_without_a_replica_or_outside_its_region():
    app = cdk.App()
    single = SecurePaymentApi(cdk.Stack(app, "Single", env=PRIMARY), "Payments")
    elsewhere = cdk.Stack(app, "Elsewhere", env=STANDBY)
    with pytest.raises(ValueError, match="resilience: the table has replicas only with ResilienceTier.WARM_STANDBY"):
        single.replica_table(elsewhere, encryption_key=standby_key(elsewhere))
    primary = cdk.Stack(app, "Primary", env=PRIMARY)
    api = SecurePaymentApi(primary, "Payments", resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
                           standby_encryption_key=standby_key(primary))
    third = cdk.Stack(app, "Third", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(ValueError, match="scope: is in eu-west-1: the replicas are in us-west-2"):
        api.replica_table(third, encryption_key=standby_key(third))


def test_an_existing_tables_name_can_be_kept_for_the_upgrade_and_the_standby_follows_it():
    app = cdk.App()
    primary = cdk.Stack(app, "Primary", env=PRIMARY)
    api = SecurePaymentApi(primary, "Payments", resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
                           standby_encryption_key=standby_key(primary), global_table_name="payments-0a1b2c")
    standby = cdk.Stack(app, "Standby", env=STANDBY)
    replica = api.replica_table(standby, encryption_key=standby_key(standby))
    assert standby.resolve(replica.table_name) == "payments-0a1b2c"
    [table] = cdk.assertions.Template.from_stack(primary).find_resources("AWS::DynamoDB::GlobalTable").values()
    assert table["Properties"]["TableName"] == "payments-0a1b2c"
    assert "global_table_name: 'no' is not a DynamoDB table name" in refusal(
        resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2", standby_encryption_key=standby_key,
        global_table_name="no")
    assert "global_table_name: is used only with ResilienceTier.WARM_STANDBY or ACTIVE_ACTIVE" in refusal(
        global_table_name="payments")


def docs_example_stacks(section: str, tmp_path) -> str:
    """The stack names of docs/regions.md's example under ``section``, synthesized as a reader would paste it (a
    placeholder zone id filled in)."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "regions.md").read_text()
    code = re.search(r"```python\n(.*?)```", page[page.index(section):], re.S).group(1)
    code = code.replace('hosted_zone_id="Z..."', f'hosted_zone_id="{ZONE_ID}"')
    code += "\nprint(sorted(s.stack_name for s in app.synth().stacks))\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "CDK_OUTDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_warm_standby_example_in_the_docs_synthesizes(tmp_path):
    assert docs_example_stacks("## Warm standby", tmp_path) == "['Payments', 'PaymentsStandby', 'PaymentsStandbyKeys']"


def test_resilience_must_be_a_tier():
    assert "resilience: expected one of ResilienceTier.SINGLE_REGION" in refusal(resilience="warm-standby")
