"""The example app deploys in order, with the flags a new CDK app gets, and synthesizes silently
(issue 11 items 3 and 4 in the example; issue 14 section 6)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ..test_example import EXAMPLE, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from cdk_feature_flags import recommended_flags  # noqa: E402

CDK_JSON = json.loads((EXAMPLE / "cdk.json").read_text())


@pytest.fixture(scope="module")
def prod(example_assemblies):
    return example_assemblies.output("prod"), example_assemblies.get("prod")


@pytest.fixture(scope="module")
def dev(example_assemblies):
    return example_assemblies.output("dev"), example_assemblies.get("dev")


def _stacks(outdir: Path) -> dict[str, dict]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: artifact for name, artifact in manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"}


def _template(outdir: Path, stack: str) -> dict:
    return json.loads((outdir / f"{stack}.template.json").read_text())


def _of_type(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_synth_prints_nothing(profile, request):
    """No deprecation warning (StepScalingActionProps#cooldown, Stack#addDependency) and no other noise,
    even with every validation plugin on (the session's synthesis runs them)."""
    output, _ = request.getfixturevalue(profile)
    assert output == ("", "")


def test_prod_deploys_after_its_audit_replica(prod):
    _, outdir = prod
    stacks = _stacks(outdir)
    assert set(stacks) == {"PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"}
    # The CLI deploys a stack's dependencies first (also for `cdk deploy PaymentPlatform-prod`);
    # S3 refuses a replication configuration whose destination bucket does not exist yet.
    assert "PaymentPlatform-prod-audit-replica" in stacks["PaymentPlatform-prod"]["dependencies"]
    region = CDK_JSON["context"]["auditReplicaRegion"]
    assert stacks["PaymentPlatform-prod-audit-replica"]["environment"] == f"aws://unknown-account/{region}"


def test_replication_names_what_the_replica_stack_creates(prod):
    _, outdir = prod
    primary = _template(outdir, "PaymentPlatform-prod")
    replica = _template(outdir, "PaymentPlatform-prod-audit-replica")
    (bucket,) = [b["Properties"] for b in _of_type(primary, "AWS::S3::Bucket").values()
                 if "ReplicationConfiguration" in b["Properties"]]
    (rule,) = bucket["ReplicationConfiguration"]["Rules"]
    (replica_bucket,) = [b["Properties"]["BucketName"] for b in _of_type(replica, "AWS::S3::Bucket").values()
                         if "BucketName" in b["Properties"]]
    # The same name in both stacks (AWS::AccountId resolves to the same account in both).
    destination = json.dumps(rule["Destination"]["Bucket"])
    for part in replica_bucket["Fn::Join"][1]:
        assert json.dumps(part).strip('"') in destination
    (alias,) = [a["Properties"]["AliasName"] for a in _of_type(replica, "AWS::KMS::Alias").values()]
    region = CDK_JSON["context"]["auditReplicaRegion"]
    assert f":kms:{region}:" in json.dumps(rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"])
    assert json.dumps(rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]).endswith(f':{alias}"]]}}')
    conditions = [s.get("Condition") for p in _of_type(primary, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"] if "kms:Encrypt" in s["Action"]]
    assert {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}} in conditions


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_no_fixed_names_from_feature_flags(profile, request):
    """Names CDK fixes when a flag is off (NatInstanceLaunchTemplate, CDKReplicationRole) stay off."""
    _, outdir = request.getfixturevalue(profile)
    for stack in _stacks(outdir):
        template = _template(outdir, stack)
        assert [k for k, v in _of_type(template, "AWS::IAM::Role").items() if "RoleName" in v["Properties"]] == []
        assert [k for k, v in _of_type(template, "AWS::EC2::LaunchTemplate").items()
                if "LaunchTemplateName" in v["Properties"]] == []


def test_cdk_json_has_the_recommended_flags_of_the_installed_cdk():
    context = CDK_JSON["context"]
    assert {k: v for k, v in context.items() if k.startswith("@aws-cdk")} == recommended_flags()


def test_cdk_json_has_no_reserved_aws_keys():
    """`cdk synth` warns about (and ignores) context keys starting with `aws:` in cdk.json."""
    assert [key for key in CDK_JSON["context"] if key.startswith("aws:")] == []


def test_failed_first_deploy_of_the_replica_leaves_nothing_behind(prod):
    """The replica bucket has a fixed name: if a rolled-back first deploy retained it, every retry
    would fail on that name (and a retained key would cost $1/month)."""
    _, outdir = prod
    replica = _template(outdir, "PaymentPlatform-prod-audit-replica")
    named = [k for k, v in _of_type(replica, "AWS::S3::Bucket").items() if "BucketName" in v["Properties"]]
    keys = list(_of_type(replica, "AWS::KMS::Key"))
    assert named and keys
    for logical_id in named + keys:
        assert replica["Resources"][logical_id]["DeletionPolicy"] == "RetainExceptOnCreate", logical_id
