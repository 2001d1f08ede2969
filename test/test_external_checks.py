"""Rule sets nobody here wrote: cdk-nag, the AWS Control Tower proactive controls (cfn-guard), cfn-lint
and checkov, on every construct alone and on the example app in each profile. Any new unacknowledged
finding fails the suite."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_example import ROOT

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def templates(construct_variants):
    out, findings = construct_variants
    checked = Path(out.parent, "variant-templates")  # the templates alone, for the tools' directory scans
    if not checked.exists():
        checked.mkdir()
        for name in findings:
            (checked / f"{name}.json").write_text((out / f"{name}.json").read_text())
    return checked, findings


def test_cdk_nag_every_construct(templates):
    _, findings = templates
    assert {name: f for name, f in findings.items() if f} == {}


def test_cfn_lint_every_construct(templates):
    out, _ = templates
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *sorted(map(str, out.glob("*.json")))],
                            capture_output=True, text=True)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


def test_checkov_every_construct(templates):
    out, _ = templates
    result = subprocess.run([str(CHECKOV), "-d", str(out), "--framework", "cloudformation", "--output", "json",
                             "--skip-download"], capture_output=True, text=True)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})"
              for report in reports for c in report.get("results", {}).get("failed_checks", [])]
    assert failed == []
    skipped = [c for report in reports for c in report.get("results", {}).get("skipped_checks", [])]
    assert skipped and all(len(c["check_result"].get("suppress_comment", "")) >= 40 for c in skipped)


@pytest.fixture(scope="module")
def example_report(example_assemblies):
    spec = importlib.util.spec_from_file_location("compliance_report", ROOT / "tools" / "compliance_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.report(assembly=example_assemblies.get)


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_example_has_no_open_findings_in_any_tool(example_report, profile):
    rows = example_report[profile]
    assert set(rows) == {"AwsSolutions", "PCI DSS 3.2.1", "PCI DSS 4.0.1", "NIST 800-53 R5", "Serverless", "Control Tower (cfn-guard)",
                         "cfn-lint", "checkov"}
    assert {name: row["findings"] for name, row in rows.items() if row["findings"]} == {}
    for row in rows.values():
        for ack in row["acknowledged"]:
            assert len(ack["reason"]) >= 40, ack


def test_control_tower_controls_ran_and_each_acknowledgement_is_where_it_is_needed(example_report):
    """cfn-guard really ran (its controls are acknowledged, not absent), and only dev trades log retention."""
    def acknowledged(profile):
        return {(a["rule"], a["at"]) for a in example_report[profile]["Control Tower (cfn-guard)"]["acknowledged"]}

    assert {rule for rule, _ in acknowledged("dev")} >= {"cloudwatch_log_group_retention_period_check",
                                                         "lambda_inside_vpc_check", "sqs_dlq_check"}
    assert not {rule for rule, _ in acknowledged("prod")} & {"cloudwatch_log_group_retention_period_check",
                                                            "ec2_instance_no_public_ip_check"}


def test_dev_acknowledges_cost_trade_offs_that_prod_pays_for(example_report):
    def rules(profile):
        return {a["rule"] for row in example_report[profile].values() for a in row["acknowledged"]}

    cost_trade_offs = {"PCI.DSS.321-DynamoDBInBackupPlan"}
    cache = {"PCI.DSS.321-APIGWCacheEnabledAndEncrypted", "CKV_AWS_120"}
    assert cost_trade_offs | cache <= rules("dev")
    assert not cost_trade_offs & rules("prod")
    # Reserved concurrency needs a raised Lambda quota, so it is opt-in in both profiles (issue 11).
    assert "PCI.DSS.321-LambdaConcurrency" in rules("dev") & rules("prod")
    # The example authorizes with IAM, where no cache can serve reads safely: no cache in any profile,
    # acknowledged for that reason, never for cost.
    prod_cache = [a["reason"] for row in example_report["prod"].values() for a in row["acknowledged"]
                  if a["rule"] in cache]
    assert prod_cache and all("SigV4" in reason for reason in prod_cache)
