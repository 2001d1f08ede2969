"""The test suite: wall time of the README's test command on this machine, and its slowest tests.

    python tools/bench_tests.py [--json]

Runs `python -m pytest -n auto --dist loadfile` (what `projen test` runs) once, with --durations=15,
and reports the wall time, the counts and the 15 slowest test phases. It takes as long as the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)$")
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s")


def measure() -> dict:
    env = {**os.environ}
    env.pop("PYTHONPATH", None)  # the project's own install, as CI runs it
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadfile", "-q",
                             "--durations=15", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = result.stdout.splitlines()
    slowest = [{"seconds": float(m[1]), "phase": m[2], "test": m[3]}
               for m in (DURATION.match(line.strip()) for line in lines) if m]
    summary = next((m[1] for m in (SUMMARY.search(line.strip()) for line in lines) if m), "")
    return {"wall_seconds": round(wall, 1), "cores": os.cpu_count(), "summary": summary,
            "exit_code": result.returncode, "slowest": slowest}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['summary']}: {result['wall_seconds']} s wall on {result['cores']} cores")
        for entry in result["slowest"]:
            print(f"{entry['seconds']:7.2f} s  {entry['phase']:8}  {entry['test']}")
    return result["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
