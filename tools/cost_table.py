"""Rewrite README.md's cost table from the estimator's own output (never typed by hand).

Synthesizes the example app in each profile, runs ``python -m cdk_payments.cost <cdk.out>
--payments-per-month 1000000 --markdown`` on each, and replaces what lies between the two marker
comments in README.md.

    python tools/cost_table.py README.md          # rewrite the block
    python tools/cost_table.py --check README.md  # exit 1 when the block is stale
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
BEGIN = "<!-- cost-table:begin (tools/cost_table.py writes this block from `cdk-payments cost --markdown`) -->"
END = "<!-- cost-table:end -->"
PAYMENTS = 1_000_000


def synthesize(outdir: Path, profile: str) -> Path:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"profile": profile, "allowSandboxInProd": True})}
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


def replace_block(readme: str, block: str) -> str:
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + block + readme[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 when the block is stale")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        block = render({profile: synthesize(Path(tmp) / profile, profile) for profile in ("dev", "prod")})
    text = options.readme.read_text()
    updated = replace_block(text, block)
    if options.check:
        if updated != text:
            print(f"{options.readme}: the cost table is stale; run python tools/cost_table.py {options.readme}")
            return 1
        return 0
    options.readme.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
