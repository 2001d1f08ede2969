"""Cost as a tested property: the dev profile stays within its idle budget, prod's figure is a snapshot,
each stack is priced in its own region, and every price names its source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_payments.cost import assembly_total, estimate_assembly

from ..example_assemblies import cost_table as example_cost_table
from ..example_assemblies import synth_apps

# The dev profile's idle budget, at list prices before free tiers. The target is $20; the floor
# with every capability and security control is above it (docs/cost.md, "Why dev idles at ..."): WAF web
# ACL and 3 rules $8, NAT instance with its IPv4 and 8 GiB disk $7.36, one dashboard $3, the key with its
# two rotations $3 (steady state), the secret $0.40 = $21.76 before a single alarm. Alarms add $2.40 and
# Lambda's polling of the empty settlement queue $0.26. The example's day one (issue 21) adds the
# account's finding sources, which a fresh account lacks: GuardDuty $2.80, Security Hub $3, the Config
# recorder $3 (assumed usage), their Config rule evaluations, and one more alarm: $9.74. Webhooks for the
# demo merchant (issue 24) add its secret $0.40, two alarms $0.20 and the polling of their queue $0.26; the
# second day-one pass alarms on every dead-letter queue and on the audit trail's delivery: seven alarms, $0.70.
DEV_IDLE_BUDGET_USD = 35.80
PROD_IDLE_TARGET_USD = 150  # issue 28: multi-AZ kept, the replica stack included
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory, example_assemblies):
    """A directory with the session's dev and prod assemblies as ``dev/`` and ``prod/``."""
    out = tmp_path_factory.mktemp("cdk.out")
    for profile in ("dev", "prod"):
        (out / profile).symlink_to(example_assemblies.get(profile), target_is_directory=True)
    return out


def test_dev_profile_idle_cost_within_budget(assembly):
    dev = estimate_assembly(assembly / "dev")["PaymentPlatform-dev"]
    assert 0 < dev.fixed_total <= DEV_IDLE_BUDGET_USD, dev.fixed
    kinds = {i.type for i in dev.fixed}
    assert "AWS::EC2::NatGateway" not in kinds and "AWS::EC2::VPCEndpoint" not in kinds
    # Every capability is still there: edge rules, a private path, alarms, a dashboard, an encrypted secret.
    assert {"AWS::WAFv2::WebACL", "AWS::EC2::Instance", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard",
            "AWS::SecretsManager::Secret", "AWS::KMS::Key"} <= kinds
    assert next(i for i in dev.fixed if i.type == "AWS::WAFv2::WebACL").detail == "web ACL with 3 rules"


def test_prod_profile_idle_within_target_and_multi_az(assembly):
    prod = estimate_assembly(assembly / "prod")
    assert sum(e.fixed_total for e in prod.values()) <= PROD_IDLE_TARGET_USD
    gateways = [i for i in prod["PaymentPlatform-prod"].fixed if i.type == "AWS::EC2::NatGateway"]
    endpoints = [i for i in prod["PaymentPlatform-prod"].fixed if i.type == "AWS::EC2::VPCEndpoint"]
    assert len(gateways) == 2 and [e.detail for e in endpoints] == ["interface endpoint in 2 AZs"]


def test_prod_profile_cost_snapshot(assembly, snapshot):
    prod = estimate_assembly(assembly / "prod", payments_per_month=1_000_000)
    figures = {name: e.to_dict() for name, e in prod.items()}
    for figure in figures.values():
        figure.pop("source")
    assert figures == snapshot


def test_replica_stack_priced_in_its_own_region(assembly):
    prod = estimate_assembly(assembly / "prod", payments_per_month=1_000_000, region="eu-west-1")
    replica, platform = prod["PaymentPlatform-prod-audit-replica"], prod["PaymentPlatform-prod"]
    assert (replica.region, replica.region_source) == ("us-west-2", "environment")
    assert "us-west-2, the stack's environment" in replica.region_label
    # The environment-agnostic stack is priced where the caller says, and says so.
    assert (platform.region, platform.region_source) == ("eu-west-1", "passed")
    assert "environment-agnostic" in platform.region_label
    assert {i.name.split()[0] for i in replica.usage} == {"S3"}  # the replicated audit trail


def test_totals_across_the_assembly(assembly):
    prod = estimate_assembly(assembly / "prod", payments_per_month=1_000_000)
    total = assembly_total(prod)
    assert set(total["stacks"]) == {"PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"}
    assert total["total_usd"] == pytest.approx(sum(e.total for e in prod.values()), abs=0.01)
    assert total["fixed_total_usd"] == pytest.approx(sum(e.fixed_total for e in prod.values()), abs=0.01)


def test_usage_scales_with_volume(assembly):
    low = estimate_assembly(assembly / "dev", payments_per_month=100_000)["PaymentPlatform-dev"]
    high = estimate_assembly(assembly / "dev", payments_per_month=1_000_000)["PaymentPlatform-dev"]
    assert low.fixed_total == high.fixed_total
    # The Secrets Manager calls and the custom metrics (EMF, per-method) cost the same at any volume.
    flat = {"Secrets Manager", "CloudWatch custom metrics"}

    def scaling(estimate):
        return sum(i.monthly_usd for i in estimate.usage if i.name not in flat)
    assert scaling(high) > 5 * scaling(low)
    assert [i.monthly_usd for i in high.usage if i.name in flat] == [i.monthly_usd for i in low.usage if i.name in flat]
    assert {i.name for i in high.usage} >= {"API Gateway", "Lambda", "DynamoDB", "SQS", "WAF", "CloudWatch Logs",
                                            "X-Ray", "CloudWatch custom metrics", "Secrets Manager"}


def test_readme_layout_table_lists_every_layout_the_default_first():
    cost_table = example_cost_table()
    readme = cost_table.PAGE.read_text()
    block = readme[readme.index(cost_table.LAYOUT_BEGIN):readme.index(cost_table.LAYOUT_END)]
    rows = [line for line in block.splitlines() if line.startswith("| ")][2:]  # past the header and rule
    assert [row.split("`")[1] for row in rows] == list(cost_table.layouts()) == [
        "two-az", "nat-instance", "two-az-no-endpoints", "three-az", "locked-down"]
    assert "(prod's default)" in rows[0]


@pytest.mark.slow
def test_readme_layout_table_is_generated_from_the_command(assembly, tmp_path):
    """Synthesizes the prod example once per other layout, as `cost_table.synthesize` does, in one process."""
    cost_table = example_cost_table()
    readme = cost_table.PAGE.read_text()
    layouts = list(cost_table.layouts())
    assemblies = {layouts[0]: assembly / "prod"}  # the session's prod synthesis is the default layout
    runs = synth_apps(tmp_path, {layout: cost_table.app_context("prod", layout) for layout in layouts[1:]})
    assert not [run.error for run in runs.values() if run.error]
    assemblies.update({layout: run.outdir for layout, run in runs.items()})
    block = cost_table.render_layouts(assemblies)
    updated = cost_table.replace_block(readme, block, cost_table.LAYOUT_BEGIN, cost_table.LAYOUT_END)
    assert updated == readme, "run: python tools/cost_table.py docs/cost.md"


def test_readme_cost_table_is_generated_from_the_command(assembly):
    cost_table = example_cost_table()
    readme = cost_table.PAGE.read_text()
    block = cost_table.render({"dev": assembly / "dev", "prod": assembly / "prod"})
    assert cost_table.replace_block(readme, block) == readme, "run: python tools/cost_table.py docs/cost.md"


def test_cli_runs_without_node(assembly):
    env = {**os.environ, "JSII_NODE": "/nonexistent/node", "PATH": os.path.dirname(sys.executable)}
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(assembly / "prod"), "--json",
                             "--payments-per-month", "1000000"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["stacks"]) == {"PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"}
    assert data["total"]["total_usd"] == pytest.approx(sum(s["total_usd"] for s in data["stacks"].values()), abs=0.01)
    table = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "cost", str(assembly / "dev")],
                           capture_output=True, text=True, env=env)
    for text in ("Fixed monthly cost (idle)", "TOTAL", "List prices before free tiers", "Lines a free tier would reduce",
                 "Assembly total", "environment-agnostic"):
        assert text in table.stdout
    missing = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "/nonexistent"], capture_output=True,
                             text=True, env=env)
    assert missing.returncode == 2 and "no CloudFormation template found" in missing.stderr
    unknown = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(assembly / "dev"), "--region", "mars-1"],
                             capture_output=True, text=True, env=env)
    assert unknown.returncode == 2 and "region: no price table for 'mars-1'" in unknown.stderr



def test_the_figures_quoted_elsewhere_are_the_generated_tables():
    """README.md, docs/index.md (PyPI's opening), the dev floor's breakdown and CHANGELOG.md quote the
    generated cost table; they go stale with it, so they are checked against it (rounded as quoted)."""
    import re

    cost_table = example_cost_table()
    page = cost_table.PAGE.read_text()
    block = page[page.index(cost_table.BEGIN):page.index(cost_table.END)]
    dev = re.search(r"^\| PaymentPlatform-dev \| [^|]+ \| \$([\d.]+) \| \$([\d.]+) \|", block, re.M)
    prod = re.search(r"^\| \*\*all stacks\*\* \| \| \$([\d.]+) \| \$[\d.]+ \| \$([\d.]+) \|", block, re.M)
    dev_idle, dev_usage = (float(x) for x in dev.groups())
    prod_idle, prod_total = (float(x) for x in prod.groups())

    def text(path: Path) -> str:
        return " ".join(path.read_text().split())

    assert f"dev idles at about ${dev_idle:.0f} a month" in text(ROOT / "README.md")
    assert f"prod at about ${prod_idle:.0f})" in text(ROOT / "README.md")
    index = text(ROOT / "docs" / "index.md")
    assert f"dev profile about ${dev_idle:.0f} a month idle" in index
    assert f"about ${dev_usage:.0f} of usage per million payments" in index
    assert f"about ${prod_idle:.0f} a month idle and ${prod_total:.0f} at a million payments" in index
    # The dev floor without the account's finding sources: its heading, its table's total, CHANGELOG.md.
    floor = re.search(r"^## Why dev idles at \$([\d.]+) ", page, re.M).group(1)
    assert f"| **total** | **{floor}** |" in page
    assert f"Without them dev idles at the ${floor} above." in " ".join(page.split())
    assert f"Dev idle is ${floor} at list prices" in text(ROOT / "CHANGELOG.md")
    assert 0 < dev_idle - float(floor) < 12  # the finding sources (about $10) make up the difference
