"""Cold start: the time to import each Lambda handler module in a fresh interpreter (target: at most
150 ms), and what it is spent on.

    python tools/bench_cold_start.py [--runs 7] [--top 8] [--json]

Each module is imported as Lambda imports it: by its name under the function asset's root
(src/cdk_payments, the package dir that holds runtime/), in a fresh ``python -X importtime``. The
figure is the module's cumulative import time, the median of --runs interpreters. Two environments:

* ``local``: outside Lambda, where Powertools' Tracer is off (as in the tests and the issue's figure);
* ``lambda``: LAMBDA_TASK_ROOT set and POWERTOOLS_TRACE_DISABLED unset, as in a function with active
  tracing (the construct's default): Powertools turns the Tracer on and the X-Ray SDK patches what is
  installed. Outside Lambda this also patches packages the Lambda runtime does not have (requests).

The breakdown lists the handler module's direct imports by cumulative time (of the median run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSET_ROOT = ROOT / "src" / "cdk_payments"
MODULES = ("runtime.api", "runtime.events", "runtime.rotation")
COMMON = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "payments",
          "POWERTOOLS_METRICS_NAMESPACE": "CdkPayments", "TABLE_NAME": "payments"}
ENVIRONMENTS = {
    "local": {},
    "lambda": {"LAMBDA_TASK_ROOT": str(ASSET_ROOT), "AWS_LAMBDA_FUNCTION_NAME": "payments-api",
               "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14"},
}
# Variables of this shell that would change what is imported or how.
DROPPED = ("PYTHONPATH", "LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_DEBUG", "_X_AMZN_TRACE_ID")
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_once(module: str, environment: str) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, name) for every module a fresh interpreter imported."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(COMMON)
    env.update(ENVIRONMENTS[environment])
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ASSET_ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"import {module} failed ({environment}):\n{run.stderr[-2000:]}")
    rows = []
    for line in run.stderr.splitlines():
        match = LINE.match(line)
        if match:
            rows.append((int(match[1]), int(match[2]), (len(match[3]) - 1) // 2, match[4]))
    return rows


def measure(module: str, environment: str, runs: int, top: int) -> dict:
    samples = [import_once(module, environment) for _ in range(runs)]
    totals = [next(cumulative for _, cumulative, depth, name in rows if name == module and depth == 0)
              for rows in samples]
    median = statistics.median(totals)
    rows = samples[min(range(runs), key=lambda i: abs(totals[i] - median))]
    index = max(i for i, row in enumerate(rows) if row[3] == module and row[2] == 0)
    start = index
    while start > 0 and rows[start - 1][2] > 0:
        start -= 1
    children = sorted((row for row in rows[start:index] if row[2] == 1), key=lambda row: -row[1])
    return {
        "import_ms": round(median / 1000, 1),
        "min_ms": round(min(totals) / 1000, 1),
        "runs": runs,
        "xray_imported": any(name.startswith("aws_xray_sdk.core") for _, _, _, name in rows),
        "breakdown": [{"module": name, "cumulative_ms": round(cumulative / 1000, 1)}
                      for _, cumulative, _, name in children[:top]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module and environment")
    parser.add_argument("--top", type=int, default=8, help="direct imports listed per module")
    parser.add_argument("--environment", choices=[*ENVIRONMENTS, "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    environments = list(ENVIRONMENTS) if args.environment == "both" else [args.environment]
    results = {env: {module: measure(module, env, args.runs, args.top) for module in MODULES} for env in environments}
    if args.json:
        print(json.dumps({"unit": "ms", "results": results}, indent=2))
        return 0
    print(f"{'module':18}" + "".join(f"  {env + ' ms':>10}  {'min':>6}" for env in environments) + "  X-Ray imported")
    for module in MODULES:
        cells = "".join(f"  {results[env][module]['import_ms']:10.1f}  {results[env][module]['min_ms']:6.1f}"
                        for env in environments)
        xray = ", ".join(env for env in environments if results[env][module]["xray_imported"]) or "no"
        print(f"{module:18}{cells}  {xray}")
    for env in environments:
        for module in MODULES:
            print(f"\n{module} ({env}): direct imports by cumulative time (median run)")
            for row in results[env][module]["breakdown"]:
                print(f"  {row['cumulative_ms']:7.1f} ms  {row['module']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
