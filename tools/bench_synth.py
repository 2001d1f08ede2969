"""Synthesis: the example app against the original design's stack (tools/reference_stack.py), in
the same run, each in fresh processes taken in turn so that load on the machine hits both alike.

    python tools/bench_synth.py [--runs 5] [--json]

A Python CDK synthesis is mostly jsii start-up and calls across jsii to Node; the ratio is what the
library adds over a plain stack of the same scope (target: at most 1.2). The example's cdk.json sets
the feature flags a new CDK app gets, and they cost synthesis time of their own (about 15% on the
reference), so the reference is timed both without flags and with the example's flags; the ratio
that measures the library compares like with like.
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
FLAGS = {k: v for k, v in json.loads((EXAMPLE / "cdk.json").read_text())["context"].items() if k.startswith("@")}
REFERENCE = [sys.executable, str(ROOT / "tools" / "reference_stack.py")]
CASES = {
    "empty CDK app (jsii start-up)": ([sys.executable, "-c", EMPTY_APP], ROOT, {}),
    "original design (73 resources), no flags": (REFERENCE, ROOT, {}),
    "original design, the example's flags": (REFERENCE, ROOT, FLAGS),
    "example, dev profile": ([sys.executable, "app.py"], EXAMPLE, {"profile": "dev"}),
    "example, prod profile": ([sys.executable, "app.py"], EXAMPLE, {"profile": "prod", "allowSandboxInProd": True}),
}


def run_once(command: list[str], cwd: Path, context: dict) -> float:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "CDK_OUTDIR": out, "CDK_CONTEXT_JSON": json.dumps(context)}
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def measure(runs: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):  # interleaved: every case sees the same machine
        for name, case in CASES.items():
            times[name].append(run_once(*case))
    medians = {name: statistics.median(values) for name, values in times.items()}
    dev = medians["example, dev profile"]
    return {"runs": runs, "seconds": medians,
            "dev_over_original_same_flags": dev / medians["original design, the example's flags"],
            "dev_over_original_no_flags": dev / medians["original design (73 resources), no flags"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    width = max(map(len, result["seconds"]))
    for name, seconds in result["seconds"].items():
        print(f"{name:{width}}  {seconds:6.2f} s")
    print(f"{'example dev / original design, same flags':{width}}  {result['dev_over_original_same_flags']:6.2f}")
    print(f"{'example dev / original design without flags':{width}}  {result['dev_over_original_no_flags']:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
