"""Tracing: Powertools' Tracer on X-Ray whenever Powertools turns tracing on, and without importing
the X-Ray SDK when it is off (its import is most of a cold start outside Lambda)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ASSET_ROOT = Path(__file__).resolve().parents[2] / "src" / "cdk_payments"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
RUN = """
import json, sys
from runtime.observability import tracer

sent = []
if not tracer.disabled:
    from aws_xray_sdk.core import xray_recorder

    class Capture:
        def send_entity(self, entity):
            sent.append(json.loads(entity.serialize()))

        def set_daemon_address(self, address):
            pass

    xray_recorder.configure(emitter=Capture())


@tracer.capture_method
def settle(payment_id):
    return {"payment_id": payment_id}


@tracer.capture_lambda_handler
def handler(event, context):
    return settle(event["payment_id"])


assert handler({"payment_id": "p-1"}, None) == {"payment_id": "p-1"}
print(json.dumps({"disabled": tracer.disabled, "provider": type(tracer.provider).__module__,
                  "xray_imported": "aws_xray_sdk.core" in sys.modules,
                  "subsegments": sorted(entity["name"] for entity in sent)}))
"""


def run(**environment: str) -> dict:
    dropped = ("PYTHONPATH", "LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "_X_AMZN_TRACE_ID")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "payments", **environment})
    done = subprocess.run([sys.executable, "-c", RUN], cwd=ASSET_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_in_lambda_with_tracing_on_every_traced_call_is_a_subsegment():
    traced = run(LAMBDA_TASK_ROOT=str(ASSET_ROOT), _X_AMZN_TRACE_ID=TRACE_HEADER)
    assert traced["disabled"] is False and traced["provider"].startswith("aws_xray_sdk")
    assert traced["subsegments"] == ["## __main__.settle", "## handler"]


@pytest.mark.parametrize("environment", [{}, {"LAMBDA_TASK_ROOT": str(ASSET_ROOT), "POWERTOOLS_TRACE_DISABLED": "1"}],
                         ids=["outside-lambda", "disabled-in-lambda"])
def test_with_tracing_off_the_xray_sdk_is_not_imported_and_handlers_run(environment):
    untraced = run(**environment)
    assert untraced == {"disabled": True, "provider": "runtime.observability", "xray_imported": False,
                        "subsegments": []}
