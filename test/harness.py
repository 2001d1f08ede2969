"""Synthesize a construct in a fresh stack, with every cdk-nag pack and the AWS Control Tower proactive
controls (cfn-guard), and normalize its template."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aws_cdk as cdk
from aws_cdk import assertions
from syrupy.extensions.json import JSONSnapshotExtension


@functools.cache
def rules_packs() -> Any:
    """The example's rules packs (every cdk-nag pack, the Control Tower controls), as its `-c nag=true`
    runs them. Loaded on first use: a copy of test/ without the example (a mutation run) needs none."""
    path = Path(__file__).parents[1] / "examples" / "payment_platform" / "rules_packs.py"
    spec = importlib.util.spec_from_file_location("example_rules_packs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
HASH = re.compile(r"[0-9a-f]{64}")
# cdk-assets names where an asset goes as <account>-<region>-<8 hex of the destination>, and the destination
# holds the asset's object key (its hash): volatile with it.
DESTINATION = re.compile(r"(<asset-hash>:\d{12}-[a-z]{2}(?:-[a-z]+)+-\d)-[0-9a-f]{8}")


@dataclass
class Finding:
    pack: str
    rule: str
    path: str

    def __str__(self) -> str:
        return f"{self.rule} at {self.path}"


@dataclass
class Synth:
    stack: cdk.Stack
    template: assertions.Template
    outdir: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def json(self) -> dict[str, Any]:
        return self.template.to_json()

    def resources(self, type_: str) -> dict[str, Any]:
        return self.template.find_resources(type_)


def synth(build: Callable[[cdk.Stack], Any], *, nag: bool = True, env: cdk.Environment | None = None) -> Synth:
    """Build constructs into a fresh stack and synthesize it once, with every rules pack."""
    def one_stack(app: cdk.App) -> dict[str, cdk.Stack]:
        stack = cdk.Stack(app, "TestStack", env=env)
        build(stack)
        return {"TestStack": stack}
    return synth_stacks(one_stack, nag=nag)["TestStack"]


def synth_stacks(build: Callable[[cdk.App], dict[str, cdk.Stack]], *, nag: bool = True) -> dict[str, Synth]:
    """Build stacks into a fresh app (``build`` returns them by name) and synthesize it once, with every rules
    pack; each stack's Synth holds the findings of the whole app."""
    outdir = tempfile.mkdtemp(prefix="cdk-payments-test-")
    app = cdk.App(analytics_reporting=False, outdir=outdir)
    stacks = build(app)
    if nag:
        rules_packs().add_rules_packs(app)
    findings: list[Finding] = []
    try:
        app.synth()
    except RuntimeError:  # cdk-nag fails synthesis after writing the templates and its report
        report = Path(outdir, "validation-report.json")
        if not report.exists():
            raise
        findings = read_findings(report)
    return {name: Synth(stack=stack, outdir=Path(outdir), findings=findings, template=assertions.Template.from_json(
        json.loads(Path(outdir, stack.template_file).read_text()))) for name, stack in stacks.items()}


def read_findings(report: Path) -> list[Finding]:
    data = json.loads(report.read_text())
    return [
        Finding(plugin["pluginName"], violation["ruleName"], construct["constructPath"])
        for plugin in data["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def normalize(value: Any) -> Any:
    """Replace values that change without the infrastructure changing (asset hashes)."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, str):
        return DESTINATION.sub(r"\1-<destination-hash>", HASH.sub("<asset-hash>", value))
    return value


class TemplateSnapshotExtension(JSONSnapshotExtension):
    """Templates as readable, key-sorted JSON; asset hashes and CDK metadata normalized."""

    def serialize(self, data: Any, **kwargs: Any) -> str:
        if isinstance(data, Synth):
            data = data.json
        template = normalize(data)
        if isinstance(template, dict):
            template.get("Resources", {}).pop("CDKMetadata", None)
        return json.dumps(template, indent=2, sort_keys=True) + "\n"
