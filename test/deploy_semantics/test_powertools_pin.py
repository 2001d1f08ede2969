"""One pinned Powertools release is both the layer the functions run on and the package the handler
tests import (issue 11, item 13)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

from cdk_payments import SecurePaymentApi
from cdk_payments.payment_api.functions import POWERTOOLS_VERSION

from ..harness import synth

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r'"aws-lambda-powertools(?:\[[^\]]*\])?==([0-9.]+)"')


@pytest.fixture(scope="module")
def template():
    return synth(lambda stack: SecurePaymentApi(stack, "Payments"), nag=False).json


def test_projenrc_and_pyproject_pin_the_layer_release():
    for file in (".projenrc.py", "pyproject.toml"):
        pins = PIN.findall((ROOT / file).read_text())
        assert pins and set(pins) == {POWERTOOLS_VERSION}, file  # every pin (dev tools, the local extra)


def test_tests_run_the_layer_release():
    assert importlib.metadata.version("aws-lambda-powertools") == POWERTOOLS_VERSION


def test_layer_is_that_release_resolved_by_cloudformation(template):
    layers = {str(f["Properties"]["Layers"]) for f in template["Resources"].values()
              if f["Type"] == "AWS::Lambda::Function"}
    (layer,) = layers
    (parameter_id,) = re.findall(r"'Ref': '(\w+)'", layer)
    parameter = template["Parameters"][parameter_id]
    # A public parameter AWS publishes per release, resolved at deploy time: no context lookup.
    assert parameter == {"Type": "AWS::SSM::Parameter::Value<String>",
                         "Default": f"/aws/service/powertools/python/arm64/python3.14/{POWERTOOLS_VERSION}"}
