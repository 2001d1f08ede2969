"""Rewrite README.md's performance block from the four benchmarks, run here and now.

    python tools/performance_report.py README.md        (projen benchmark)

The figures are never typed: the hot path (tools/bench_handlers.py), cold start
(tools/bench_cold_start.py), synthesis against the original design (tools/bench_synth.py) and the
test suite (tools/bench_tests.py, which runs the whole suite) each print JSON, and this turns them
into the block between the performance markers. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
BEGIN, END = "<!-- performance:begin -->", "<!-- performance:end -->"


def run(script: str, *args: str) -> dict:
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, str(TOOLS / script), "--json", *args], capture_output=True, text=True,
                            env=env)
    if not result.stdout.strip():
        raise SystemExit(f"{script} printed nothing:\n{result.stderr}")
    return json.loads(result.stdout)


def block(handlers: dict, traced: dict, cold: dict, synth: dict, tests: dict | None) -> str:
    h, t = handlers["results"], traced["results"]
    rows = [("POST /payments, CPU per request (AWS I/O excluded)", "POST /payments"),
            ("POST /payments, idempotent replay", "POST /payments (replay)"),
            ("GET /payments/{id}", "GET /payments/{id}"), ("GET /payments", "GET /payments")]
    lines = [BEGIN, "",
             f"Measured by `projen benchmark` on {os.cpu_count()} cores, {datetime.date.today().isoformat()}.", "",
             "| figure | measured | target |", "| --- | --- | --- |"]
    for label, key in rows:
        lines.append(f"| {label} | {h[key]['cpu_ms']:.2f} ms (tracing on: {t[key]['cpu_ms']:.2f} ms) | at most 1 ms |")
    per_record = h["SQS batch of 10 records"]["cpu_ms"] / 10
    lines.append(f"| event handler, per record of a batch of 10 | {per_record:.3f} ms | - |")
    for module, figures in cold["results"]["local"].items():
        traced_ms = cold["results"].get("lambda", {}).get(module, {}).get("import_ms")
        # Measured on this host with Lambda's environment variables and tracing on, not in Lambda.
        extra = f" (Lambda's environment, tracing on, on this host: {traced_ms:.0f} ms)" if traced_ms else ""
        lines.append(f"| import `{module}` in a fresh interpreter | {figures['import_ms']:.0f} ms{extra} | at most 150 ms |")
    seconds = synth["seconds"]
    reference = seconds["original design, the example's flags"]
    lines.append(f"| synthesis, example dev / original design (same feature flags) | "
                 f"{synth['dev_over_original_same_flags']:.2f} ({seconds['example, dev profile']:.1f} s / "
                 f"{reference:.1f} s; without flags on the reference "
                 f"{synth['dev_over_original_no_flags']:.2f}) | at most 1.2 |")
    if tests:
        lines.append(f"| the README's test command ({tests['summary']}) | {tests['wall_seconds']:.0f} s wall | "
                     "at most 120 s |")
    lines += ["", "Synthesis, median of fresh processes: " + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()) + "."]
    top = cold["results"]["local"].get("runtime.api", {}).get("packages", {})
    if top:
        lines += ["", "Where `runtime.api`'s import time goes (`python -X importtime`, cumulative ms): "
                  + ", ".join(f"`{k}` {v:.0f}" for k, v in sorted(top.items(), key=lambda kv: -kv[1])) + "."]
    if tests:
        lines += ["", "The 15 slowest test phases:", ""]
        lines += [f"- {e['seconds']:.1f} s {e['phase']} `{e['test']}`" for e in tests["slowest"]]
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("--skip-tests", action="store_true", help="keep the test-suite figures out (they take minutes)")
    args = parser.parse_args()
    handlers, traced = run("bench_handlers.py"), run("bench_handlers.py", "--tracing")
    cold = run("bench_cold_start.py", "--environment", "both")
    synth = run("bench_synth.py", "--runs", "5")
    tests = None if args.skip_tests else run("bench_tests.py")
    text = args.readme.read_text()
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block(handlers, traced, cold, synth, tests),
                 text, flags=re.S)
    args.readme.write_text(new)
    print(block(handlers, traced, cold, synth, tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
