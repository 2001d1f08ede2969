"""Rewrite docs/cost.md's cost tables from the estimator's own output (never typed by hand).

Synthesizes the example app in each profile, runs ``python -m cdk_payments.cost <cdk.out>
--payments-per-month 1000000 --markdown`` on each, and replaces what lies between the two marker
comments in docs/cost.md (``PAGE``; the documentation site's Cost page). A second block prices the prod profile in each ``NetworkLayout``
(``-c networkLayout=...``), from the same command's JSON.

    python tools/cost_table.py docs/cost.md          # rewrite the blocks (projen cost-table)
    python tools/cost_table.py --check docs/cost.md  # exit 1 when a block is stale

A third block, in docs/regions.md and the README (``TIER_PAGES``), prices each resilience tier the example builds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "payment_platform"
PAGE = ROOT / "docs" / "cost.md"  # where the blocks live (test/cost/test_estimate.py reads them there)
BEGIN = "<!-- cost-table:begin (tools/cost_table.py writes this block from `cdk-payments cost --markdown`) -->"
END = "<!-- cost-table:end -->"
LAYOUT_BEGIN = "<!-- layout-table:begin (tools/cost_table.py writes this block from `cdk-payments cost --json`) -->"
LAYOUT_END = "<!-- layout-table:end -->"
TIER_PAGE = ROOT / "docs" / "regions.md"
TIER_PAGES = (TIER_PAGE, ROOT / "README.md")  # the README shows the same block beside each tier's RPO and RTO
TIER_BEGIN = "<!-- tier-table:begin (tools/cost_table.py writes this block from `cdk-payments cost --json`) -->"
TIER_END = "<!-- tier-table:end -->"
PAYMENTS = 1_000_000
REPLICA_REGION = "us-west-2"
# Each tier's example context on top of prod with its audit replica (what single region is in prod).
TIERS = {
    "single region": {},
    "backup and restore": {"resilience": "backup-and-restore"},
    "warm standby": {"resilience": "warm-standby", "primaryRegion": "us-east-1", "domainName": "pay.example.com",
                     "hostedZoneId": "Z0123456789ABCDEFGHIJ", "hostedZoneName": "example.com"},
    # Strong consistency spans one region set: the peer (and audit replica) in us-east-2, us-west-2 the witness.
    "active-active": {"resilience": "active-active", "primaryRegion": "us-east-1", "auditReplicaRegion": "us-east-2",
                      "witnessRegion": "us-west-2", "domainName": "pay.example.com",
                      "hostedZoneId": "Z0123456789ABCDEFGHIJ", "hostedZoneName": "example.com"},
}


def app_context(profile: str, layout: str | None = None) -> dict:
    """The example's context for the tables: the profile, and the network layout unless its default. As the
    tests synthesize it (test/example_assemblies.py): a day-one deployment whose alerts reach an address."""
    return {"profile": profile, "allowSandboxInProd": True, "alertEmail": "payments-alerts@example.com",
            **({"networkLayout": layout} if layout else {})}


def tier_context(tier: str) -> dict:
    """The example's context for ``tier`` (a key of TIERS): prod, its audit replica in us-west-2, the tier."""
    return {**app_context("prod"), "auditReplicaRegion": REPLICA_REGION, **TIERS[tier]}


def synthesize(outdir: Path, profile: str, layout: str | None = None, *, context: dict | None = None) -> Path:
    context = context or app_context(profile, layout)
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=env, check=True, capture_output=True)
    return outdir


def cost_markdown(assembly: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(assembly), "--markdown",
                             "--payments-per-month", str(PAYMENTS)], check=True, capture_output=True, text=True)
    return result.stdout.strip()


def render(assemblies: dict[str, Path]) -> str:
    """The block, from one synthesized cloud assembly per profile."""
    parts = [BEGIN]
    for profile, assembly in assemblies.items():
        parts += ["", f"**{profile} profile** (`cdk-payments cost cdk.out --payments-per-month {PAYMENTS}`):", "",
                  cost_markdown(assembly)]
    return "\n".join(parts + ["", END])


def layouts() -> dict[str, str]:
    """Each NetworkLayout's value and what it sets, the prod profile's default first."""
    from cdk_payments.profiles import NETWORK_LAYOUTS, PROFILE_DEFAULTS, Profile

    prod = PROFILE_DEFAULTS[Profile.PROD].network
    rows = {}
    for layout, settings in sorted(NETWORK_LAYOUTS.items(), key=lambda item: (
            (item[1].nat, item[1].max_azs, item[1].interface_endpoints) != (prod.nat, prod.max_azs,
                                                                            prod.interface_endpoints),
            item[1].max_azs, len(item[1].interface_endpoints), item[0].value)):
        endpoints = ", ".join(settings.interface_endpoints) or "none"
        rows[layout.value] = f"{settings.max_azs} | {settings.nat.value} | {endpoints}"
    return rows


def cost_totals(assembly: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(assembly), "--json",
                             "--payments-per-month", str(PAYMENTS)], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["total"]


def render_layouts(assemblies: dict[str, Path]) -> str:
    """The layouts block, from one prod assembly per layout (the first is the profile's default)."""
    rows = layouts()
    lines = [LAYOUT_BEGIN, "", f"| `NetworkLayout` | AZs | NAT | interface endpoints | idle | at {PAYMENTS:,} payments |",
             "| --- | --- | --- | --- | --- | --- |"]
    for index, (layout, assembly) in enumerate(assemblies.items()):
        total = cost_totals(assembly)
        name = f"**`{layout}`** (prod's default)" if index == 0 else f"`{layout}`"
        lines.append(f"| {name} | {rows[layout]} | ${total['fixed_total_usd']:.2f} | ${total['total_usd']:.2f} |")
    return "\n".join(lines + ["", LAYOUT_END])


def render_tiers(assemblies: dict[str, Path]) -> str:
    """The tiers block, from one assembly per tier (single region first), every stack of each included."""
    lines = [TIER_BEGIN, "", f"| tier | idle | at {PAYMENTS:,} payments a month |", "| --- | --- | --- |"]
    base = None
    for tier, assembly in assemblies.items():
        total = cost_totals(assembly)
        idle, used = total["fixed_total_usd"], total["total_usd"]
        if base is None:
            base = (idle, used)
            lines.append(f"| {tier} | ${idle:.2f} | ${used:.2f} |")
        else:
            lines.append(f"| {tier} | ${idle:.2f} (+${idle - base[0]:.2f}) | ${used:.2f} (+${used - base[1]:.2f}) |")
    return "\n".join(lines + ["", TIER_END])


def replace_block(readme: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    start, stop = readme.index(begin), readme.index(end) + len(end)
    return readme[:start] + block + readme[stop:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path, nargs="?", default=PAGE, help="the page with the blocks (docs/cost.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the block is stale")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        block = render({profile: synthesize(Path(tmp) / profile, profile) for profile in ("dev", "prod")})
        layout_block = render_layouts({layout: synthesize(Path(tmp) / layout, "prod", layout) for layout in layouts()})
        tier_block = render_tiers({tier: synthesize(Path(tmp) / f"tier-{index}", "prod", context=tier_context(tier))
                                   for index, tier in enumerate(TIERS)})
    text = options.readme.read_text()
    pages = {options.readme: (text, replace_block(replace_block(text, block), layout_block, LAYOUT_BEGIN, LAYOUT_END))}
    for page in TIER_PAGES:
        current = page.read_text()
        pages[page] = (current, replace_block(current, tier_block, TIER_BEGIN, TIER_END))
    if options.check:
        stale = [page for page, (old, new) in pages.items() if new != old]
        for page in stale:
            print(f"{page}: the cost tables are stale; run python tools/cost_table.py {options.readme}")
        return 1 if stale else 0
    for page, (_, new) in pages.items():
        page.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
