"""The same deploy semantics on every construct variant the rules packs check, alone in a stack."""

from __future__ import annotations

import json

import pytest

from ..variants import REGIONS
from .cfn import DEFAULT_REGION, StackTemplate
from .test_ordering import config_rules_after_recorder, stage_after_account
from .test_quotas import quota_problems
from .test_writers import CHECKS


@pytest.fixture(scope="module")
def variants(construct_variants):
    """The session's construct variants (the ones the rules packs check), each as a stack of its own."""
    folder, findings = construct_variants
    return {name: StackTemplate(name, REGIONS.get(name, DEFAULT_REGION), json.loads((folder / f"{name}.json").read_text()))
            for name in findings}


@pytest.mark.parametrize("check", [*CHECKS, stage_after_account, config_rules_after_recorder, quota_problems],
                         ids=lambda c: c.__name__)
def test_every_variant(variants, check):
    problems = {name: check(stack) for name, stack in variants.items()}
    assert {name: found for name, found in problems.items() if found} == {}, json.dumps(problems, indent=1)
