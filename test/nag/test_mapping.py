"""The PCI DSS v4.0.1 mapping: docs/pci-dss-4.md is generated from the pack's data and is fresh, and
every construct and prop the control mapping names exists."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest

import cdk_payments
from cdk_payments.nag import CONTROLS, RULES

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("pci_mapping", ROOT / "tools" / "pci_mapping.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_document_is_fresh():
    assert (ROOT / "docs" / "pci-dss-4.md").read_text() == _tool().render(), \
        "stale: run projen pci-mapping (python tools/pci_mapping.py docs/pci-dss-4.md)"


def test_readme_links_the_document():
    assert "docs/pci-dss-4.md" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("row", CONTROLS, ids=[f"{r[0]}-{r[1]}" for r in CONTROLS])
def test_each_control_names_a_real_construct_and_prop(row):
    _, constructs, props, _ = row
    classes = [getattr(cdk_payments, name.strip()) for name in constructs.split(",") if not name.startswith("(")]
    if props.startswith("("):
        return
    for prop in (p.strip() for p in props.split(",")):
        assert any(prop in inspect.signature(cls.__init__).parameters for cls in classes), (constructs, prop)


def test_every_rule_names_a_requirement_and_a_source():
    for rule in RULES:
        assert rule.requirements and rule.source and rule.resource_types, rule
