"""Measure what the README and closing notes quote: synthesis wall time and its jsii start-up share.

    python tools/benchmark.py [--runs 3]

Each figure is the median of --runs fresh processes (a process pays jsii's Node start-up once).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "payment_platform"
EMPTY_APP = "import aws_cdk as cdk; app = cdk.App(); cdk.Stack(app, 'Empty'); app.synth()"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def median_of(runs: int, command: list[str], cwd: Path, context: dict | None = None) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            env = {**os.environ, "CDK_OUTDIR": out, "CDK_CONTEXT_JSON": json.dumps(context or {})}
            times.append(timed(command, cwd, env))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {
        "empty CDK app (jsii start-up)": median_of(args.runs, [sys.executable, "-c", EMPTY_APP], ROOT),
        "example, dev profile": median_of(args.runs, [sys.executable, "app.py"], EXAMPLE, {"profile": "dev"}),
        "example, prod profile": median_of(args.runs, [sys.executable, "app.py"], EXAMPLE, {"profile": "prod"}),
        "example, dev, with 4 cdk-nag packs": median_of(args.runs, [sys.executable, "app.py"], EXAMPLE,
                                                        {"profile": "dev", "nag": True}),
    }
    width = max(map(len, results))
    for name, seconds in results.items():
        print(f"{name:{width}}  {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
