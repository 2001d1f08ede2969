"""The example's resilience tiers: `-c resilience=backup-and-restore` (prod, with auditReplicaRegion)
copies the table's daily backups to a vault in the audit replica's stack, deploys side by side and
after a failed attempt, and passes every rules pack (cdk-nag, cfn-guard, cfn-lint)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .example_assemblies import EXAMPLE_CONTEXT, synth_app

REPLICA_REGION = "us-west-2"


@pytest.fixture(scope="module")
def backup_and_restore(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("backup-and-restore")
    result = synth_app(outdir, {"profile": "prod", "nag": True, "auditReplicaRegion": REPLICA_REGION,
                                "resilience": "backup-and-restore", **EXAMPLE_CONTEXT})
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


def test_backup_and_restore_needs_the_replica_region(tmp_path):
    result = synth_app(tmp_path, {"profile": "dev", "resilience": "backup-and-restore"})
    assert result.returncode != 0
    assert "resilience: backup-and-restore copies to a second region: pass -c profile=prod" in result.stderr


def test_unknown_tier_is_refused_naming_the_allowed_ones(tmp_path):
    result = synth_app(tmp_path, {"profile": "dev", "resilience": "multi-site"})
    assert "resilience: unknown tier 'multi-site'; allowed: single-region, backup-and-restore" in result.stderr
