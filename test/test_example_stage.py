"""PaymentPlatformStage: the example's stacks inside a ``cdk.Stage`` (a pipeline's unit of deployment) keep
their stack names, every physical name, output, export and SSM parameter name of the top-level app, so a
deployed app moves into CDK Pipelines as it is (docs/pipeline.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from .example_assemblies import EXAMPLE, EXAMPLE_CONTEXT

PROFILES = ("dev", "prod")
# Logical ids CDK derives from a construct's path (which a Stage prefixes): an API's Lambda permissions and
# its deployment. Both are replaced in place on the first pipeline deploy, harmlessly. Anything else (an
# SQS event source mapping, which Lambda refuses to create twice; a named resource) must keep its id.
PATH_DERIVED = {"AWS::Lambda::Permission", "AWS::ApiGateway::Deployment"}


def example_modules():
    sys.path.insert(0, str(EXAMPLE))
    try:
        import platform_stacks
    finally:
        sys.path.remove(str(EXAMPLE))
    return platform_stacks


def synth_staged(outdir: Path, profile: str) -> Path:
    """The profile's stacks in a Stage named ``Release``, from the same context as ``python app.py``."""
    platform_stacks = example_modules()
    context = json.loads((EXAMPLE / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(outdir), analytics_reporting=False,
                  context={"aws:cdk:enable-path-metadata": True, **context, **EXAMPLE_CONTEXT, "profile": profile})
    stage = platform_stacks.PaymentPlatformStage(app, "Release", **platform_stacks.settings_from_context(app.node))
    app.synth()
    return Path(stage.outdir)


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory, example_assemblies) -> dict[str, tuple[dict, dict]]:
    """For each profile: {stack name: (top-level template, staged template)}, and the staged stack names."""
    pairs = {}
    for profile in PROFILES:
        top = example_assemblies.get(profile)
        staged = synth_staged(tmp_path_factory.mktemp(f"staged-{profile}"), profile)
        manifest = json.loads((staged / "manifest.json").read_text())["artifacts"]
        by_id = {a["displayName"].split("/")[-1]: a for a in manifest.values() if a["type"] == "aws:cloudformation:stack"}
        for path in top.glob("*.template.json"):
            name = path.name.removesuffix(".template.json")
            artifact = by_id[name]
            pairs[name] = (json.loads(path.read_text()), json.loads((staged / artifact["properties"]["templateFile"])
                                                                     .read_text()), artifact)
    return pairs


def names(template: dict) -> dict[tuple[str, str], object]:
    """Every property whose key ends in ``Name`` (BucketName, AliasName, Name of an SSM parameter...), at any
    depth, by logical id and property path."""
    found = {}

    def walk(value, where, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key.endswith("Name"):
                    found[(where, f"{path}/{key}")] = inner
                walk(inner, where, f"{path}/{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, where, f"{path}[{index}]")

    for logical_id, resource in template["Resources"].items():
        walk(resource.get("Properties", {}), logical_id, "")
    return found


def test_every_stack_keeps_its_name(assemblies):
    assert sorted(assemblies) == ["PaymentPlatform-dev", "PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"]
    for name, (_, _, artifact) in assemblies.items():
        assert artifact["properties"]["stackName"] == name
        assert artifact["displayName"] == f"Release/{name}"


def test_every_physical_name_is_the_same(assemblies):
    count = 0
    for name, (top, staged, _) in assemblies.items():
        top_names, staged_names = names(top), names(staged)
        count += len(top_names)
        shared = top_names.keys() & staged_names.keys()
        assert {k: top_names[k] for k in shared} == {k: staged_names[k] for k in shared}, name
        # A name only one side has sits on a resource whose logical id moved: only path-derived ones may.
        for logical_id, _ in top_names.keys() ^ staged_names.keys():
            resource = top["Resources"].get(logical_id) or staged["Resources"][logical_id]
            assert resource["Type"] in PATH_DERIVED, (name, logical_id)
    assert count > 100  # the collector finds them: bucket, alias, vault, API, WAF, parameter, log group names...


def test_only_path_derived_stateless_resources_change_logical_id(assemblies):
    """Anything else would be replaced by the first pipeline deploy (and a named or stateful one would fail)."""
    moved = set()
    for top, staged, _ in assemblies.values():
        for logical_id in top["Resources"].keys() ^ staged["Resources"].keys():
            resource = top["Resources"].get(logical_id) or staged["Resources"][logical_id]
            moved.add(resource["Type"])
        # The same resources on both sides: as many of each type.
        assert sorted(r["Type"] for r in top["Resources"].values()) == sorted(r["Type"] for r in
                                                                              staged["Resources"].values())
    assert moved <= PATH_DERIVED


def test_outputs_exports_and_parameters_are_the_same(assemblies):
    for name, (top, staged, _) in assemblies.items():
        assert top.get("Outputs", {}).keys() == staged.get("Outputs", {}).keys()
        exports = [{k: o.get("Export") for k, o in t.get("Outputs", {}).items()} for t in (top, staged)]
        assert exports[0] == exports[1]
        # Named ones, and those CloudFormation names after their logical id (the workers' agent configuration).
        parameters = [sorted(json.dumps(r["Properties"].get("Name", k)) for k, r in t["Resources"].items()
                             if r["Type"] == "AWS::SSM::Parameter") for t in (top, staged)]
        assert parameters[0] == parameters[1]
        assert len(parameters[0]) == (0 if name.endswith("replica") else 6)


def test_a_stage_with_an_environment_places_the_replica_in_its_account(tmp_path):
    """Explicitly placed: the Stage's account and region for the platform, the replica region for the replica."""
    platform_stacks = example_modules()
    app = cdk.App(outdir=str(tmp_path), analytics_reporting=False,
                  context=json.loads((EXAMPLE / "cdk.json").read_text())["context"])
    from cdk_payments import Profile

    stage = platform_stacks.PaymentPlatformStage(
        app, "Prod", env=cdk.Environment(account="222222222222", region="eu-west-1"), profile=Profile.PROD,
        cost_center="payments", replica_region="eu-central-1")
    stacks = stage.platform_stacks
    assert (stacks.platform.account, stacks.platform.region) == ("222222222222", "eu-west-1")
    assert (stacks.audit_replica.account, stacks.audit_replica.region) == ("222222222222", "eu-central-1")
    assert [s.stack_name for s in stacks.stacks] == ["PaymentPlatform-prod-audit-replica", "PaymentPlatform-prod"]


def test_a_replica_in_the_platforms_own_region_is_refused(tmp_path):
    """Known at synthesis (the Stage names the region): a copy in the same region survives no regional outage."""
    platform_stacks = example_modules()
    app = cdk.App(outdir=str(tmp_path), analytics_reporting=False,
                  context=json.loads((EXAMPLE / "cdk.json").read_text())["context"])
    from cdk_payments import Profile

    with pytest.raises(ValueError, match=r"audit_replica: is in this stack's region \(eu-west-1\)"):
        platform_stacks.PaymentPlatformStage(
            app, "Prod", env=cdk.Environment(account="222222222222", region="eu-west-1"), profile=Profile.PROD,
            cost_center="payments", replica_region="eu-west-1")
