"""Importing a handler pauses the garbage collector and leaves it as it found it, with what the
import loaded frozen out of later collections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ASSET_ROOT = Path(__file__).resolve().parents[2] / "src" / "cdk_payments"
RUN = """
import gc, json, sys
if sys.argv[2] == "off":
    gc.disable()
__import__(sys.argv[1])
print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize("module", ["runtime.api", "runtime.events", "runtime.rotation"])
@pytest.mark.parametrize("before", ["on", "off"])
def test_the_collector_is_left_as_it_was_and_the_import_frozen(module, before):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LAMBDA_TASK_ROOT")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "payments"})
    done = subprocess.run([sys.executable, "-c", RUN, module, before], cwd=ASSET_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["enabled"] is (before == "on")
    assert state["frozen"] > 10_000  # boto3's and Powertools' objects, out of every later collection
