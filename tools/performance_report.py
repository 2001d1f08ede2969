"""Rewrite docs/performance.md's performance block from the four benchmarks, run here and now.

    python tools/performance_report.py docs/performance.md        (projen benchmark)

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


def block(handlers: dict, traced: dict, cold: dict, synth: dict, tests: dict | None, kept: list[str]) -> str:
    before, after = handlers["baseline"]["results"], handlers["current"]["results"]
    t = traced["current"]["results"]
    latency = handlers["current"]["latency_ms_per_call"]
    rows = [("POST /payments", "POST /payments"), ("POST /payments, idempotent replay", "POST /payments (replay)"),
            ("GET /payments/{id}", "GET /payments/{id}"), ("GET /payments", "GET /payments")]
    lines = [BEGIN, "",
             f"Measured by `projen benchmark` on {os.cpu_count()} cores, {datetime.date.today().isoformat()}. "
             f"Requests run with the AWS SDK in the loop (`tools/bench_handlers.py`: every call serialized, "
             f"signed and parsed; AWS answers at botocore's HTTP layer), `{handlers['baseline_ref']}`'s runtime "
             "and this one measured in the same run. Sequential AWS round trips are measured (calls sent in "
             f"parallel overlap); the latency model is round trips x {latency:g} ms + CPU, the provider's own "
             "latency aside.", "",
             f"| route | CPU per request ({handlers['baseline_ref']} -> now) | tracing on | AWS calls (sequential) | "
             f"latency model ({handlers['baseline_ref']} -> now) |",
             "| --- | --- | --- | --- | --- |"]
    for label, key in rows:
        b, a = before[key], after[key]
        lines.append(f"| {label} | {b['cpu_ms']:.2f} -> {a['cpu_ms']:.2f} ms ({a['cpu_ms'] / b['cpu_ms']:.0%}) | "
                     f"{t[key]['cpu_ms']:.2f} ms | {b['aws_calls']:g} ({b['round_trips']}) -> {a['aws_calls']:g} "
                     f"({a['round_trips']}) | {b['model_ms']:.1f} -> {a['model_ms']:.1f} ms |")
    per_record = after["SQS batch of 10 records"]["cpu_ms"] / 10
    lines += ["", "Targets: POST in at most 2 sequential round trips, and its CPU at most half of the old path's.",
              f"The event handler spends {per_record:.2f} ms of CPU per record of a batch of 10.", "",
              "| figure | measured | target |", "| --- | --- | --- |"]
    for module, figures in cold["results"]["local"].items():
        traced_ms = cold["results"].get("lambda", {}).get(module, {}).get("import_ms")
        # Measured on this host with Lambda's environment variables and tracing on, not in Lambda.
        extra = f"; Lambda's environment, tracing on, on this host: {traced_ms:.0f} ms" if traced_ms else ""
        lines.append(f"| import `{module}` in a fresh interpreter | {figures['ratio_to_boto3']:.2f} x `import boto3` "
                     f"(CPU; {figures['import_ms']:.0f} ms wall{extra}) | at most 1.2 x |")
    seconds = synth["seconds"]
    reference = seconds["original design, the example's flags"]
    lines.append(f"| synthesis, example dev / original design (same feature flags) | "
                 f"{synth['dev_over_original_same_flags']:.2f} ({seconds['example, dev profile']:.1f} s / "
                 f"{reference:.1f} s; without flags on the reference "
                 f"{synth['dev_over_original_no_flags']:.2f}) | at most 1.2 |")
    if tests:
        cpu = f", {tests['cpu_seconds']:.0f} s CPU" if "cpu_seconds" in tests else ""
        lines.append(f"| the README's test command ({tests['summary']}) | {tests['wall_seconds']:.0f} s wall{cpu} | "
                     "at most 120 s |")
    else:
        lines += [line for line in kept if line.startswith("| the README's test command")]
    boto3_ms = cold.get("boto3_ms", {}).get("local")
    if boto3_ms:
        lines += ["", f"`import boto3` alone: {boto3_ms:.0f} ms wall, {cold['boto3_cpu_ms']['local']:.0f} ms CPU."]
    lines += ["", "Synthesis, median of fresh processes: " + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()) + "."]
    top = cold["results"]["local"].get("runtime.api", {}).get("packages", {})
    if top:
        lines += ["", "Where `runtime.api`'s import time goes (`python -X importtime`, cumulative ms): "
                  + ", ".join(f"`{k}` {v:.0f}" for k, v in sorted(top.items(), key=lambda kv: -kv[1])) + "."]
    if tests:
        lines += ["", "The 15 slowest test phases:", ""]
        lines += [f"- {e['seconds']:.1f} s {e['phase']} `{e['test']}`" for e in tests["slowest"]]
        if tests.get("modules"):  # where the floor is: a module runs whole on one worker (--dist loadfile)
            lines += ["", "The 15 slowest test modules (setup, calls and teardown, summed):", ""]
            lines += [f"- {e['seconds']:.1f} s `{e['module']}`" for e in tests["modules"]]
    elif kept:
        start = next((i for i, line in enumerate(kept) if line.startswith("The 15 slowest")), None)
        if start is not None:
            rest = "\n".join(kept[start:]).strip().replace(
                "The 15 slowest test phases:", "The 15 slowest test phases (from the last run of the whole suite):")
            lines += ["", *rest.splitlines()]
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("--skip-tests", action="store_true",
                        help="do not run the suite (it takes minutes): keep the block's last test-suite figures")
    parser.add_argument("--baseline", default="main", help="the git ref whose runtime the hot path is compared with")
    args = parser.parse_args()
    handlers = run("bench_handlers.py", "--baseline", args.baseline)
    traced = run("bench_handlers.py", "--baseline", args.baseline, "--tracing")
    cold = run("bench_cold_start.py", "--environment", "both")
    synth = run("bench_synth.py", "--runs", "5")
    tests = None if args.skip_tests else run("bench_tests.py")
    text = args.readme.read_text()
    old = re.search(re.escape(BEGIN) + "(.*?)" + re.escape(END), text, flags=re.S)
    kept = old.group(1).splitlines() if old else []
    new_block = block(handlers, traced, cold, synth, tests, kept)
    args.readme.write_text(text.replace(old.group(0), new_block) if old else text)
    print(new_block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
