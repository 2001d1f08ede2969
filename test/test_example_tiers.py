"""The example's resilience tiers: `-c resilience=backup-and-restore` (prod, with auditReplicaRegion)
copies the table's daily backups to a vault in the audit replica's stack, deploys side by side and
after a failed attempt, and passes every rules pack (cdk-nag, cfn-guard, cfn-lint); `-c
resilience=warm-standby` (and primaryRegion) adds the standby stack, and `-c resilience=active-active` (and
witnessRegion) the peer stack; both pass them too (deploy semantics: test/deploy_semantics/test_warm_standby.py
and test_active_active.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .example_assemblies import cost_table, synth_app

REPLICA_REGION = "us-west-2"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def backup_and_restore(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("backup-and-restore")
    result = synth_app(outdir, {**cost_table().tier_context("backup and restore"), "nag": True})
    templates = {name: json.loads((outdir / f"{name}.template.json").read_text())
                 for name in ("PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica")}
    report = json.loads((outdir / "validation-report.json").read_text())
    return result, templates, report, outdir


def resources(template, type_):
    return [r for r in template["Resources"].values() if r["Type"] == type_]


def test_the_table_backups_are_copied_to_the_replica_stacks_vault(backup_and_restore):
    result, templates, _, _ = backup_and_restore
    assert result.returncode == 0, result.stderr
    [vault] = resources(templates["PaymentPlatform-prod-audit-replica"], "AWS::Backup::BackupVault")
    name = vault["Properties"]["BackupVaultName"]
    # Unique per copy of the app (vault names are per account and region), kept on delete for its
    # recovery points but not after a failed first create, whose retry would fail on the name.
    digest = hashlib.sha256(b"PaymentPlatform-prod-audit-replica").hexdigest()[:8]
    assert name == f"cdk-payments-copies-{digest}" and len(name) <= 50
    assert vault["DeletionPolicy"] == "RetainExceptOnCreate"
    [plan] = resources(templates["PaymentPlatform-prod"], "AWS::Backup::BackupPlan")
    [rule] = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    [copy] = rule["CopyActions"]
    arn = json.dumps(copy["DestinationBackupVaultArn"])
    assert f":backup:{REPLICA_REGION}:" in arn and name in arn and '{"Ref": "AWS::AccountId"}' in arn
    assert "BackupCopyVaultArn" in templates["PaymentPlatform-prod"]["Outputs"]
    # The audit trail still reaches the same region through the audit bucket's replication.
    [bucket] = [b for b in resources(templates["PaymentPlatform-prod"], "AWS::S3::Bucket")
                if "ReplicationConfiguration" in b["Properties"]]
    assert REPLICA_REGION in json.dumps(bucket["Properties"]["ReplicationConfiguration"])
    # Within 15 minutes under S3's SLA: what reconciles the payments the restored table lacks.
    [rule] = bucket["Properties"]["ReplicationConfiguration"]["Rules"]
    assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}


def test_backup_and_restore_passes_every_rules_pack(backup_and_restore):
    _, _, report, outdir = backup_and_restore
    violations = [(p["pluginName"], v["ruleName"]) for p in report["pluginReports"] for v in p["violations"]]
    assert violations == []
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable",
                           *sorted(map(str, outdir.glob("*.template.json")))], capture_output=True, text=True)
    assert lint.stdout == "" and lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture(scope="module")
def warm_standby(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("warm-standby")
    result = synth_app(outdir, {**cost_table().tier_context("warm standby"), "nag": True})
    return result, outdir


@pytest.fixture(scope="module")
def active_active(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("active-active")
    result = synth_app(outdir, {**cost_table().tier_context("active-active"), "nag": True})
    return result, outdir


def test_the_tier_cost_table_is_generated_from_the_command(backup_and_restore, warm_standby, active_active,
                                                           tmp_path):
    """docs/regions.md's tier costs are `cdk-payments cost` on these very assemblies (tools/cost_table.py)."""
    tables = cost_table()
    single = synth_app(tmp_path, tables.tier_context("single region"))
    assert single.returncode == 0, single.stderr
    block = tables.render_tiers({"single region": tmp_path, "backup and restore": backup_and_restore[3],
                                 "warm standby": warm_standby[1], "active-active": active_active[1]})
    for path in tables.TIER_PAGES:  # docs/regions.md and the README
        page = path.read_text()
        assert tables.replace_block(page, block, tables.TIER_BEGIN, tables.TIER_END) == page, \
            f"{path.name}: run python tools/cost_table.py docs/cost.md"


def stack_regions(outdir: Path) -> dict[str, str]:
    """Each stack of the assembly and the environment it is placed in."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: a["environment"] for name, a in manifest["artifacts"].items()
            if a["type"] == "aws:cloudformation:stack"}


def assert_every_rules_pack_and_cfn_lint_pass(outdir: Path) -> None:
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [(p["pluginName"], v["ruleName"]) for p in report["pluginReports"] for v in p["violations"]] == []
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable",
                           *sorted(map(str, outdir.glob("*.template.json")))], capture_output=True, text=True)
    assert lint.stdout == "" and lint.returncode == 0, lint.stdout + lint.stderr


def test_warm_standby_deploys_three_stacks_in_two_regions_and_passes_every_rules_pack(warm_standby):
    result, outdir = warm_standby
    assert result.returncode == 0, result.stderr
    assert stack_regions(outdir) == {
        "PaymentPlatform-prod-audit-replica": f"aws://unknown-account/{REPLICA_REGION}",
        "PaymentPlatform-prod": "aws://unknown-account/us-east-1",
        "PaymentPlatform-prod-standby": f"aws://unknown-account/{REPLICA_REGION}"}
    assert_every_rules_pack_and_cfn_lint_pass(outdir)
    primary = json.loads((outdir / "PaymentPlatform-prod.template.json").read_text())
    assert primary["Outputs"]["DomainUrl"]["Value"] == "https://pay.example.com/"
    # The audit trail reaches the standby region within 15 minutes (S3 RTC), as the tier's RPO needs.
    assert '"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}' in json.dumps(primary)


def test_active_active_serves_from_two_regions_and_passes_every_rules_pack(active_active):
    result, outdir = active_active
    assert result.returncode == 0, result.stderr
    assert stack_regions(outdir) == {
        "PaymentPlatform-prod-audit-replica": "aws://unknown-account/us-east-2",
        "PaymentPlatform-prod": "aws://unknown-account/us-east-1",
        "PaymentPlatform-prod-peer": "aws://unknown-account/us-east-2"}
    assert_every_rules_pack_and_cfn_lint_pass(outdir)
    peer = json.loads((outdir / "PaymentPlatform-prod-peer.template.json").read_text())
    assert peer["Outputs"]["ApiUrl"]["Description"] == "The peer payment API's stage URL"


@pytest.mark.parametrize("context, message", [
    ({"profile": "prod", "auditReplicaRegion": REPLICA_REGION, "resilience": "warm-standby"},
     "primaryRegion: warm-standby needs the platform's region (-c primaryRegion=us-east-1)"),
    ({"profile": "prod", "auditReplicaRegion": REPLICA_REGION, "resilience": "warm-standby",
      "primaryRegion": REPLICA_REGION}, f"primaryRegion: is the audit replica's region ({REPLICA_REGION})"),
    ({"profile": "prod", "auditReplicaRegion": "us-east-2", "resilience": "active-active", "primaryRegion": "us-east-1"},
     "witnessRegion: active-active needs a third region that witnesses each write"),
    ({"profile": "prod", "auditReplicaRegion": "us-east-2", "resilience": "warm-standby", "primaryRegion": "us-east-1",
      "witnessRegion": "us-west-2"}, "witnessRegion: is used only with -c resilience=active-active"),
    ({"profile": "dev", "domainName": "pay.example.com"},
     "domainName: domainName, hostedZoneId and hostedZoneName go together"),
])
def test_warm_standby_and_domain_context_is_refused_naming_the_key(tmp_path, context, message):
    result = synth_app(tmp_path, context)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_backup_and_restore_needs_the_replica_region(tmp_path):
    result = synth_app(tmp_path, {"profile": "dev", "resilience": "backup-and-restore"})
    assert result.returncode != 0
    assert "resilience: backup-and-restore copies to a second region: pass -c profile=prod" in result.stderr


def test_unknown_tier_is_refused_naming_the_allowed_ones(tmp_path):
    result = synth_app(tmp_path, {"profile": "dev", "resilience": "multi-site"})
    assert "resilience: unknown tier 'multi-site'; allowed: single-region, backup-and-restore, warm-standby" \
        in result.stderr
