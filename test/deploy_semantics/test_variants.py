"""The same deploy semantics on every construct variant the rules packs check, alone in a stack."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest

from ..test_external_checks import BUILDS
from .cfn import load_assembly
from .test_ordering import config_rules_after_recorder, stage_after_account
from .test_quotas import quota_problems
from .test_writers import CHECKS


@pytest.fixture(scope="module")
def variants():
    outdir = tempfile.mkdtemp(prefix="cdk-payments-variants-")
    app = cdk.App(analytics_reporting=False, outdir=outdir)
    for name, build in BUILDS.items():
        build(cdk.Stack(app, name))
    app.synth()
    return {stack.name: stack for stack in load_assembly(Path(outdir))}


@pytest.mark.parametrize("check", [*CHECKS, stage_after_account, config_rules_after_recorder, quota_problems],
                         ids=lambda c: c.__name__)
def test_every_variant(variants, check):
    problems = {name: check(stack) for name, stack in variants.items()}
    assert {name: found for name, found in problems.items() if found} == {}, json.dumps(problems, indent=1)
