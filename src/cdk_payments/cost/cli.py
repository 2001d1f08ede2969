"""`cdk-payments cost cdk.out/` (or `python -m cdk_payments.cost cdk.out/`): monthly cost, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from .estimate import CostEstimate, estimate_assembly, load_prices


def _table(name: str, estimate: CostEstimate) -> str:
    lines = [f"{name} ({estimate.region}, {estimate.source})", "", "Fixed monthly cost (idle):",
             f"  {'resource':52} {'type':36} {'USD/month':>10}  detail"]
    lines += [f"  {i.name[:52]:52} {i.type:36} {i.monthly_usd:10.2f}  {i.detail}" for i in estimate.fixed]
    lines.append(f"  {'fixed total':89} {estimate.fixed_total:10.2f}")
    if estimate.payments_per_month:
        lines += ["", f"Usage at {estimate.payments_per_month:,} payments/month:"]
        lines += [f"  {i.name:20} {i.detail:42} {i.monthly_usd:10.2f}" for i in estimate.usage]
        lines.append(f"  {'usage total':63} {estimate.usage_total:10.2f}")
        lines += ["", "Per-payment assumptions:"]
        lines += [f"  {k:26} {v['value']:>6}  {v['why']}" for k, v in estimate.assumptions.items()]
    lines += ["", f"TOTAL {estimate.total:.2f} USD/month"]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["cost"]:  # `cdk-payments cost ...`
        args = args[1:]
    parser = argparse.ArgumentParser(prog="cdk-payments cost", description="Monthly cost of synthesized stacks.")
    parser.add_argument("path", help="a cdk.out directory or one *.template.json")
    parser.add_argument("--payments-per-month", type=int, default=0, metavar="N",
                        help="add usage-driven costs at N payments a month")
    parser.add_argument("--region", default="us-east-1", choices=sorted(load_prices()["regions"]))
    parser.add_argument("--stack", help="only this stack")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    options = parser.parse_args(args)
    try:
        estimates = estimate_assembly(options.path, payments_per_month=options.payments_per_month,
                                      region=options.region, stack=options.stack)
    except ValueError as error:
        parser.error(str(error))
    if options.json:
        print(json.dumps({name: e.to_dict() for name, e in estimates.items()}, indent=2))
    else:
        print("\n\n".join(_table(name, e) for name, e in estimates.items()))
    return 0
