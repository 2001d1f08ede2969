"""Price a synthesized template: fixed monthly costs per resource, usage costs per payment volume.

Reads CloudFormation JSON (and the functions' code next to it in cdk.out) only, never aws_cdk, so it
runs without Node.js, in CI or on a laptop. Prices are list prices before free tiers.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from .advice import Advice, advise
from .drivers import FixedPricer, LineItem, usage_items
from .regions import DEFAULT_REGION, load_prices, region_notes, region_table, stack_regions

FREE_TIER_STATEMENT = ("List prices before free tiers: per-account free-tier allowances and trials are not "
                       "subtracted.")


@dataclass
class CostEstimate:
    region: str
    payments_per_month: int
    fixed: list[LineItem] = field(default_factory=list)
    usage: list[LineItem] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    region_source: str = "passed"
    """``environment`` (the stack's own region) or ``passed`` (an environment-agnostic stack, priced in
    the region the caller passed)."""
    notes: list[str] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    """Each choice with an alternative: its cost, break-even and where this volume stands (cost/advice.py)."""

    @property
    def fixed_total(self) -> float:
        return round(sum(item.monthly_usd for item in self.fixed), 2)

    @property
    def usage_total(self) -> float:
        return round(sum(item.monthly_usd for item in self.usage), 2)

    @property
    def total(self) -> float:
        return round(self.fixed_total + self.usage_total, 2)

    @property
    def region_label(self) -> str:
        if self.region_source == "environment":
            return f"{self.region}, the stack's environment"
        return f"{self.region}, environment-agnostic stack priced in the region passed"

    @property
    def free_tier(self) -> dict[str, dict[str, Any]]:
        """The services whose free tier would reduce lines of this estimate: the allowance and those lines."""
        allowances = load_prices()["free_tier"]
        affected: dict[str, dict[str, Any]] = {}
        for item in self.fixed + self.usage:
            if item.monthly_usd and item.service in allowances:
                entry = affected.setdefault(item.service, {"allowance": allowances[item.service], "lines": []})
                entry["lines"].append(f"{item.name} {item.detail.split(' (')[0]}" if item.type == "usage" else item.name)
        return dict(sorted(affected.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "region_source": self.region_source, "payments_per_month": self.payments_per_month,
            "source": self.source, "fixed_total_usd": self.fixed_total, "usage_total_usd": self.usage_total,
            "total_usd": self.total, "fixed": [asdict(i) for i in self.fixed], "usage": [asdict(i) for i in self.usage],
            "assumptions": self.assumptions, "free_tier": {"statement": FREE_TIER_STATEMENT, "lines": self.free_tier},
            "notes": self.notes, "advice": [asdict(a) for a in self.advice],
        }


def _check_payments(payments_per_month: Any) -> None:
    if not isinstance(payments_per_month, int) or isinstance(payments_per_month, bool) or payments_per_month < 0:
        raise ValueError(f"payments_per_month: must be a whole number >= 0, got {payments_per_month!r}")


def estimate_template(template: dict[str, Any], *, payments_per_month: int = 0, region: str = DEFAULT_REGION,
                      region_source: str = "passed", code_root: Optional[Path] = None,
                      serving_regions: int = 1) -> CostEstimate:
    """Price one template in ``region``: fixed monthly costs per resource and usage at ``payments_per_month``.

    ``code_root`` is the cdk.out directory holding the functions' assets (to count the custom metrics
    their code publishes); without it, custom metrics are not priced and a note says so.
    ``serving_regions``: how many regions answer under this stack's latency record (active-active); each is
    priced at an even share of the payments.
    """
    _check_payments(payments_per_month)
    prices, table = region_table(region), load_prices()
    assumptions = {**table["assumptions"]["per_payment"], **table["assumptions"]["monthly"]}
    values = {name: a["value"] for name, a in assumptions.items()}
    notes = region_notes(region)
    fixed = [LineItem(i.name, i.type, round(i.monthly_usd, 4), i.detail, i.service)
             for i in FixedPricer(template, prices, values).items()]
    usage: list[LineItem] = []
    if serving_regions > 1:
        notes.append(f"One of {serving_regions} regions behind latency routing (active-active): priced at an even "
                     f"share, 1/{serving_regions} of the payments (Route 53 sends each client to its nearest "
                     "region); the global table holds and replicates them all.")
    if payments_per_month:
        usage = usage_items(template, prices, values, payments_per_month, code_root, notes, 1 / serving_regions)
    return CostEstimate(
        region=region, payments_per_month=payments_per_month, region_source=region_source, notes=notes,
        source=f"{table['description']} Table per region in cdk_payments/cost/prices.json, each price with its "
               "AWS pricing page and the date it was read.",
        fixed=fixed, usage=usage, assumptions=assumptions,
        advice=advise(template, prices, values, payments_per_month),
    )


def estimate_assembly(path: Path | str, *, payments_per_month: int = 0, region: str = DEFAULT_REGION,
                      stack: Optional[str] = None) -> dict[str, CostEstimate]:
    """Price every ``*.template.json`` of a cloud assembly (``cdk.out``), or one template file.

    A stack with a region in its environment is priced there; an environment-agnostic one in ``region``.
    """
    _check_payments(payments_per_month)
    region_table(region)  # refuse an unknown region before reading anything
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*.template.json"))
    if stack:
        files = [f for f in files if f.name == f"{stack}.template.json"]
    if not files:
        raise ValueError(f"path: no CloudFormation template found at {path} (synthesize first)")
    root = path if path.is_dir() else path.parent
    regions = stack_regions(root)
    templates = {file.name.removesuffix(".template.json"): json.loads(file.read_text()) for file in files}
    # Latency records of one name across the assembly's stacks: the regions that share its payments.
    serving = Counter(name for template in templates.values() for name in _latency_names(template))
    estimates = {}
    for name, template in templates.items():
        own = regions.get(name)
        estimates[name] = estimate_template(
            template, payments_per_month=payments_per_month, region=own or region,
            region_source="environment" if own else "passed", code_root=root,
            serving_regions=max([serving[record] for record in _latency_names(template)], default=1))
    return estimates


def _latency_names(template: dict[str, Any]) -> set[str]:
    return {json.dumps(r["Properties"].get("Name"), sort_keys=True) for r in template.get("Resources", {}).values()
            if r.get("Type") == "AWS::Route53::RecordSet" and "Region" in r.get("Properties", {})}


def assembly_total(estimates: dict[str, CostEstimate]) -> dict[str, Any]:
    """The total across every stack of an assembly, beside each stack's figures."""
    return {
        "stacks": {name: {"region": e.region, "fixed_total_usd": e.fixed_total, "usage_total_usd": e.usage_total,
                          "total_usd": e.total} for name, e in estimates.items()},
        "fixed_total_usd": round(sum(e.fixed_total for e in estimates.values()), 2),
        "usage_total_usd": round(sum(e.usage_total for e in estimates.values()), 2),
        "total_usd": round(sum(e.total for e in estimates.values()), 2),
    }
