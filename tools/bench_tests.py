"""The test suite: wall time of the README's test command on this machine, and its slowest tests.

    python tools/bench_tests.py [--json]

Runs `python -m pytest -n auto --dist loadfile` (what `projen test` runs) once, with --durations=0,
and reports the wall time, the CPU time of every process the suite ran (workers, jsii's Node.js,
subprocesses: a figure that other load on the machine does not inflate), the counts, the 15 slowest
test phases and the time per test module. It takes as long as the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(.+)$")  # ids may hold spaces
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s")


def measure() -> dict:
    env = {**os.environ}
    env.pop("PYTHONPATH", None)  # the project's own install, as CI runs it
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadfile", "-q",
                             "--durations=0", "--durations-min=0", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    lines = result.stdout.splitlines()
    phases = [{"seconds": float(m[1]), "phase": m[2], "test": m[3]}
              for m in (DURATION.match(line.strip()) for line in lines) if m]
    modules: dict[str, float] = {}
    for phase in phases:
        module = phase["test"].split("::")[0]
        modules[module] = modules.get(module, 0.0) + phase["seconds"]
    summary = next((m[1] for m in (SUMMARY.search(line.strip()) for line in lines) if m), "")
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "cores": os.cpu_count(),
            "summary": summary, "exit_code": result.returncode,
            "test_seconds": round(sum(p["seconds"] for p in phases), 1),
            "slowest": sorted(phases, key=lambda p: -p["seconds"])[:15],
            "modules": [{"module": name, "seconds": round(seconds, 1)}
                        for name, seconds in sorted(modules.items(), key=lambda kv: -kv[1])[:15]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['summary']}: {result['wall_seconds']} s wall on {result['cores']} cores, "
              f"{result['cpu_seconds']} s CPU, {result['test_seconds']} s in tests")
        for entry in result["slowest"]:
            print(f"{entry['seconds']:7.2f} s  {entry['phase']:8}  {entry['test']}")
        for entry in result["modules"]:
            print(f"{entry['seconds']:7.2f} s  {entry['module']}")
    return result["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
