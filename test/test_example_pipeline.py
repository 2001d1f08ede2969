"""The example pipeline (examples/pipeline): synthesizes offline with every rules pack, deploys dev and then
a wave of prod regions, and smoke-tests each stage as its demo merchant (docs/pipeline.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import assertions

from .example_assemblies import ROOT, synth_app
from .harness import read_findings

PIPELINE = ROOT / "examples" / "pipeline"
CONTEXT = json.loads((PIPELINE / "cdk.json").read_text())["context"]
STAGES = {"Dev": ("222222222222", "us-east-1"), "Prod-us-east-1": ("333333333333", "us-east-1"),
          "Prod-eu-west-1": ("333333333333", "eu-west-1")}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    """The pipeline app synthesized once, as `python app.py` with the rules packs (`-c nag=true`)."""
    outdir = tmp_path_factory.mktemp("pipeline")
    result = synth_app(outdir, {"nag": True}, cwd=PIPELINE)
    # The packs fail synthesis on the pipeline's own resources (below), after writing every template.
    assert result.returncode == 0 or (outdir / "validation-report.json").exists(), result.stderr
    return outdir


def stacks(assembly: Path) -> dict[str, tuple[dict, dict]]:
    """Every stage's stacks: {"<stage>/<stack id>": (manifest artifact, template)}."""
    found = {}
    for stage in STAGES:
        folder = assembly / f"assembly-{stage}"
        for artifact in json.loads((folder / "manifest.json").read_text())["artifacts"].values():
            if artifact["type"] == "aws:cloudformation:stack":
                found[artifact["displayName"]] = (artifact, json.loads(
                    (folder / artifact["properties"]["templateFile"]).read_text()))
    return found


def pipeline_template(assembly: Path) -> dict:
    return json.loads((assembly / "PaymentPlatformPipeline.template.json").read_text())


def test_snapshot(assembly, template_snapshot):
    assert pipeline_template(assembly) == template_snapshot


def test_dev_deploys_first_then_prod_regions_in_one_wave(assembly):
    [pipeline] = assertions.Template.from_json(pipeline_template(assembly)).find_resources(
        "AWS::CodePipeline::Pipeline").values()
    stages = {s["Name"]: s["Actions"] for s in pipeline["Properties"]["Stages"]}
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Prod"]
    source = stages["Source"][0]["Configuration"]
    assert (source["FullRepositoryId"], source["BranchName"], source["ConnectionArn"]) == (
        CONTEXT["repository"], CONTEXT["branch"], CONTEXT["connectionArn"])
    order = {a["Name"]: a["RunOrder"] for a in stages["Prod"]}
    for region, replica in CONTEXT["prodRegions"].items():
        # Each region's replica first (S3 replicates only into a bucket that exists), its smoke test last.
        deploys = {a["Name"]: a.get("Region") for a in stages["Prod"] if a["Name"].endswith(".Deploy")}
        assert deploys[f"Prod-{region}.PaymentPlatform-prod-audit-replica.Deploy"] == replica
        assert (order[f"Prod-{region}.PaymentPlatform-prod-audit-replica.Deploy"]
                < order[f"Prod-{region}.PaymentPlatform-prod.Deploy"] < order[f"Prod-{region}.Smoke"])
    assert [a["Name"] for a in stages["Dev"]] == ["PaymentPlatform-dev.Prepare", "PaymentPlatform-dev.Deploy", "Smoke"]


def test_each_stage_is_smoke_tested_from_its_outputs(assembly):
    template = pipeline_template(assembly)
    resources = template["Resources"]
    [pipeline] = [r for r in resources.values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    smokes = [a for s in pipeline["Properties"]["Stages"] for a in s["Actions"] if a["Name"].endswith("Smoke")]
    assert len(smokes) == len(STAGES)
    for action in smokes:
        variables = {v["name"]: v["value"] for v in json.loads(action["Configuration"]["EnvironmentVariables"])}
        # The deploy action's output variables (the stage's stack outputs), read at run time.
        assert {name: value.split(".")[-1].rstrip("}") for name, value in variables.items()} == {
            "SMOKE_ROLE_ARN": "SmokeTestRoleArn", "DEMO_MERCHANT_ROLE_ARN": "DemoMerchantRoleArn", "API_URL": "ApiUrl"}
        project = resources[action["Configuration"]["ProjectName"]["Ref"]]
        spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
        stage = action["Name"].removesuffix(".Smoke") if "." in action["Name"] else "Dev"
        account, region = STAGES[stage]
        stack = "PaymentPlatform-dev" if stage == "Dev" else "PaymentPlatform-prod"
        assert spec["phases"]["build"]["commands"][-1] == (
            f'AWS_PROFILE=smoke cdk-payments smoke --stack {stack} --region {region} --api-url "$API_URL" '
            '--role-arn "$DEMO_MERCHANT_ROLE_ARN"')
        # Its CodeBuild role may assume that stage's smoke role, and no other role.
        role = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
        assumed = [s["Resource"] for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                   and {"Ref": role} in r["Properties"]["Roles"]
                   for s in r["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sts:AssumeRole"]
        assert assumed == [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                              f":iam::{account}:role/{stack}-SmokeTestRole*"]]}]


def test_every_stack_is_explicitly_placed(assembly):
    placed = {name: artifact["environment"] for name, (artifact, _) in stacks(assembly).items()}
    replicas = CONTEXT["prodRegions"]
    assert placed == {
        "Dev/PaymentPlatform-dev": "aws://222222222222/us-east-1",
        **{f"Prod-{region}/PaymentPlatform-prod": f"aws://333333333333/{region}" for region in replicas},
        **{f"Prod-{region}/PaymentPlatform-prod-audit-replica": f"aws://333333333333/{replica}"
           for region, replica in replicas.items()},
    }
    assert {artifact["properties"]["stackName"] for artifact, _ in stacks(assembly).values()} == {
        "PaymentPlatform-dev", "PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"}


def test_the_smoke_role_may_do_what_the_smoke_test_does_and_nothing_more(assembly):
    """cloudformation:DescribeStacks (outputs), sts:AssumeRole (both merchants), the audit records and their key."""
    for name, (_, template) in stacks(assembly).items():
        if name.endswith("replica"):
            continue
        resources = template["Resources"]
        [(role_id, role)] = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"
                             and k.startswith("SmokeTestRole")]
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert json.dumps(trust["Principal"]).count(":iam::111111111111:root") == 1
        statements = [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                      and {"Ref": role_id} in r["Properties"]["Roles"] for s in r["Properties"]["PolicyDocument"]["Statement"]]
        actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert {"cloudformation:DescribeStacks", "sts:AssumeRole", "s3:GetObject*", "s3:List*", "kms:Decrypt"} <= actions
        assert not {a for a in actions if a.startswith(("s3:Put", "s3:Delete", "kms:Encrypt", "iam:"))}
        [describe] = [s for s in statements if s["Action"] == "cloudformation:DescribeStacks"]
        assert describe["Resource"] == {"Ref": "AWS::StackId"}
        [assume] = [s for s in statements if s["Action"] == "sts:AssumeRole"]
        merchants = {template["Outputs"][o]["Value"]["Fn::GetAtt"][0] for o in ("DemoMerchantRoleArn",
                                                                                 "SecondMerchantRoleArn")}
        assert {r["Fn::GetAtt"][0] for r in assume["Resource"]} == merchants
        assert template["Outputs"]["SmokeTestRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_every_stage_passes_the_rules_packs(assembly):
    """The platform's stacks, placed in accounts and regions, have no open finding in any pack (as the example)."""
    findings = read_findings(assembly / "validation-report.json")
    assert [str(f) for f in findings if f.path.startswith(tuple(f"{stage}/" for stage in STAGES))] == []


def test_open_findings_are_cdk_pipelines_own_resources(assembly):
    """What is left open (docs/pipeline.md): the artifact buckets, which CDK Pipelines makes without access logs
    or versioning, and its roles' grant wildcards; nothing of the platform."""
    findings = read_findings(assembly / "validation-report.json")
    assert findings and all(f.path.startswith(("PaymentPlatformPipeline/Pipeline/", "cross-region-stack-"))
                            for f in findings)
    assert not [f for f in findings if "KMSBackingKeyRotation" in f.rule or f.rule.endswith("KMS5")]


def test_bad_context_is_refused_all_at_once(tmp_path):
    result = synth_app(tmp_path, {"prodAccount": "prod", "prodRegions": {"us-east-1": "us-west-2",
                                                                          "eu-west-1": "us-west-2"},
                                  "prodProvider": "sandbox"}, cwd=PIPELINE)
    assert result.returncode != 0
    for message in ("prodAccount: expected a 12-digit account ID, got 'prod'",
                    "prodRegions: each prod region needs an audit replica region of its own",
                    "prodProvider: expected http (or sandbox with allowSandboxInProd=true"):
        assert message in result.stderr
