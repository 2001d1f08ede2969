"""`cdk-payments cost cdk.out/` (or `python -m cdk_payments.cost cdk.out/`): monthly cost, as a table or JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Optional, Sequence

from .advice import advice_table
from .estimate import FREE_TIER_STATEMENT, CostEstimate, assembly_total, estimate_assembly
from .regions import DEFAULT_REGION, supported_regions


def _table(name: str, estimate: CostEstimate) -> str:
    lines = [f"{name} ({estimate.region_label})", "", "Fixed monthly cost (idle):",
             f"  {'resource':52} {'type':36} {'USD/month':>10}  detail"]
    lines += [f"  {i.name[:52]:52} {i.type:36} {i.monthly_usd:10.2f}  {i.detail}" for i in estimate.fixed]
    lines.append(f"  {'fixed total':89} {estimate.fixed_total:10.2f}")
    if estimate.payments_per_month:
        lines += ["", f"Usage at {estimate.payments_per_month:,} payments/month:"]
        lines += [f"  {i.name[:30]:30} {i.monthly_usd:10.2f}  {i.detail}" for i in estimate.usage]
        lines.append(f"  {'usage total':30} {estimate.usage_total:10.2f}")
        lines += ["", "Per-payment and monthly assumptions:"]
        lines += [f"  {k:28} {v['value']:>8}  {v['why']}" for k, v in estimate.assumptions.items()]
    if estimate.advice:
        lines += [""] + advice_table(estimate.advice, estimate.payments_per_month)
    lines += ["", FREE_TIER_STATEMENT, "Lines a free tier would reduce:"]
    lines += [f"  {service} ({entry['allowance']}): {len(entry['lines'])} line(s), "
              f"{'; '.join(entry['lines'][:4])}{'...' if len(entry['lines']) > 4 else ''}"
              for service, entry in estimate.free_tier.items()]
    lines += ["", "Notes:"] + [f"  {note}" for note in estimate.notes]
    lines += ["", f"TOTAL {name} {estimate.total:.2f} USD/month"]
    return "\n".join(lines)


def _totals(estimates: dict[str, CostEstimate]) -> str:
    total = assembly_total(estimates)
    lines = ["Assembly total:", f"  {'stack':40} {'region':14} {'idle':>10} {'usage':>10} {'total':>10}"]
    lines += [f"  {name:40} {s['region']:14} {s['fixed_total_usd']:10.2f} {s['usage_total_usd']:10.2f} "
              f"{s['total_usd']:10.2f}" for name, s in total["stacks"].items()]
    lines.append(f"  {'all stacks':55} {total['fixed_total_usd']:10.2f} {total['usage_total_usd']:10.2f} "
                 f"{total['total_usd']:10.2f}")
    return "\n".join(lines)


def markdown(estimates: dict[str, CostEstimate]) -> str:
    """A summary table per stack and for the assembly (what docs/cost.md's cost table is generated from)."""
    total = assembly_total(estimates)
    payments = next(iter(estimates.values())).payments_per_month
    lines = [f"| stack | priced in | idle | usage at {payments:,} payments | total |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {e.region}{'' if e.region_source == 'environment' else ' (passed)'} | ${e.fixed_total:.2f} "
              f"| ${e.usage_total:.2f} | ${e.total:.2f} |" for name, e in estimates.items()]
    if len(estimates) > 1:
        lines.append(f"| **all stacks** | | ${total['fixed_total_usd']:.2f} | ${total['usage_total_usd']:.2f} "
                     f"| ${total['total_usd']:.2f} |")
    return "\n".join(lines)


# The other `cdk-payments` subcommands: name -> (module whose main(argv) runs it, imported on use; the
# extra that installs what it imports, if any).
SUBCOMMANDS = {"capacity": ("cdk_payments.cost.capacity", None), "smoke": ("cdk_payments.smoke", "client"),
               "local": ("cdk_payments.local.cli", "local")}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] and args[0] in SUBCOMMANDS:
        module, extra = SUBCOMMANDS[args[0]]
        try:
            command = importlib.import_module(module)
        except ModuleNotFoundError as error:
            print(f"cdk-payments {args[0]} needs {error.name}: pip install 'cdk-payments[{extra}]'", file=sys.stderr)
            return 2
        return command.main(args[1:])
    if args[:1] == ["cost"]:  # `cdk-payments cost ...`
        args = args[1:]
    parser = argparse.ArgumentParser(prog="cdk-payments cost", description="Monthly cost of synthesized stacks.")
    parser.add_argument("path", help="a cdk.out directory or one *.template.json")
    parser.add_argument("--payments-per-month", type=int, default=0, metavar="N",
                        help="add usage-driven costs at N payments a month")
    parser.add_argument("--region", default=DEFAULT_REGION, metavar="REGION",
                        help=f"where environment-agnostic stacks are priced (stacks with a region in their "
                             f"environment are priced there). Supported: {', '.join(supported_regions())}")
    parser.add_argument("--stack", help="only this stack")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument("--markdown", action="store_true", help="a summary table per stack")
    options = parser.parse_args(args)
    try:
        estimates = estimate_assembly(options.path, payments_per_month=options.payments_per_month,
                                      region=options.region, stack=options.stack)
    except ValueError as error:
        parser.error(str(error))
    if options.json:
        print(json.dumps({"stacks": {name: e.to_dict() for name, e in estimates.items()},
                          "total": assembly_total(estimates)}, indent=2))
    elif options.markdown:
        print(markdown(estimates))
    else:
        print("\n\n".join([_table(name, e) for name, e in estimates.items()] + [_totals(estimates)]))
    return 0
