"""The example PaymentPlatform app: synthesizes offline, identically on every run, in each profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .example_assemblies import EXAMPLE, EXAMPLE_CONTEXT, ROOT, synth_app

__all__ = ["EXAMPLE", "ROOT", "synth_example"]


def synth_example(outdir: Path, profile: str, python: str = sys.executable, cwd: Path = EXAMPLE) -> dict:
    # No credentials and no region: synthesis must not need them.
    result = synth_app(outdir, {"profile": profile, **EXAMPLE_CONTEXT}, python=python, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "Node.js" not in result.stderr, "jsii warned about the Node.js version"
    return json.loads((outdir / f"PaymentPlatform-{profile}.template.json").read_text())


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_synthesizes_identically_twice(tmp_path, profile, example_assemblies):
    """Once in this test, once for the session (with the validation plugins on, which must not change
    a template either)."""
    first = example_assemblies.template(profile)
    second = synth_example(tmp_path / "b", profile)
    assert first == second
    assert first["Resources"]


def test_prod_spreads_over_two_azs_each_with_its_nat_gateway(example_assemblies):
    """NetworkLayout.TWO_AZ (issue 28): multi-AZ, the Secrets Manager endpoint only (docs/network-costs.md)."""
    resources = example_assemblies.template("prod")["Resources"].values()
    assert len([r for r in resources if r["Type"] == "AWS::EC2::NatGateway"]) == 2
    functions = [r for r in resources if r["Type"] == "AWS::Lambda::Function" and "VpcConfig" in r["Properties"]]
    assert functions and all(len(f["Properties"]["VpcConfig"]["SubnetIds"]) == 2 for f in functions)
    endpoints = [r for r in resources if r["Type"] == "AWS::EC2::VPCEndpoint"
                 and r["Properties"]["VpcEndpointType"] == "Interface"]
    assert [e["Properties"]["ServiceName"]["Fn::Join"][1][-1] for e in endpoints] == [".secretsmanager"]


def test_an_unknown_network_layout_is_refused(tmp_path):
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path),
           "CDK_CONTEXT_JSON": json.dumps({"profile": "prod", "networkLayout": "four-az"})}
    result = subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "networkLayout: unknown layout 'four-az'; allowed: nat-instance, two-az" in result.stderr


@pytest.mark.slow
def test_pinned_cdk_cli_synthesizes_the_same_template(tmp_path, example_assemblies):
    """`npx cdk synth` (the CLI pinned in package.json) and `python app.py` agree, offline."""
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    env.pop("CDK_CONTEXT_JSON", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "npx"), "--no-install", "cdk", "synth", "--no-notices", "-q", "-o", str(tmp_path / "cli"),
         *(arg for key, value in EXAMPLE_CONTEXT.items() for arg in ("-c", f"{key}={str(value).lower() if value is True else value}"))],
        cwd=EXAMPLE, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    from_cli = json.loads((tmp_path / "cli" / "PaymentPlatform-dev.template.json").read_text())
    assert from_cli == example_assemblies.template("dev")


def test_the_provider_adapter_is_chosen_by_context(tmp_path):
    def variables(provider):
        env = {**os.environ, "CDK_OUTDIR": str(tmp_path / provider),
               "CDK_CONTEXT_JSON": json.dumps({"profile": "dev", "provider": provider})}
        result = subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True)
        if result.returncode:
            return result.stderr
        template = json.loads((tmp_path / provider / "PaymentPlatform-dev.template.json").read_text())
        return {r["Properties"]["Environment"]["Variables"]["PROVIDER_MODULE"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").startswith("runtime.")
                and not r["Properties"]["Handler"].startswith("runtime.webhook")}  # webhooks call no provider

    assert variables("http") == {"runtime.providers.http"}
    assert "provider: unknown provider 'acme'; allowed: sandbox, http" in variables("acme")


def test_prod_refuses_the_sandbox_adapter_unless_opted_in_by_name(tmp_path):
    result = synth_app(tmp_path / "refused", {"profile": "prod"})
    assert result.returncode != 0
    assert "the prod profile refuses the sandbox adapter" in result.stderr
    assert "-c allowSandboxInProd=true" in result.stderr


OUTPUT_KEYS = {"ApiUrl", "DemoMerchantRoleArn", "SecondMerchantRoleArn", "ProviderSecretArn", "AuditBucketName",
               "AuditEventsPrefix", "EventBusName"}


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_stacks_output_what_the_readme_commands_read(example_assemblies, profile):
    """`cdk-payments smoke` reads these output keys: renaming one breaks it."""
    assert OUTPUT_KEYS <= set(example_assemblies.template(profile)["Outputs"])


def test_each_merchant_role_may_invoke_this_api_only_and_is_mapped_to_its_merchant(example_assemblies):
    template = example_assemblies.template("dev")
    resources = template["Resources"]
    [api] = [k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]
    [stage] = [k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage"]
    processor = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
                     and r["Properties"].get("Handler") == "runtime.api.handler")
    mapping = json.dumps(processor["Properties"]["Environment"]["Variables"]["MERCHANT_ROLES"])
    for output, merchant in (("DemoMerchantRoleArn", "demo-merchant"), ("SecondMerchantRoleArn", "second-merchant")):
        role = template["Outputs"][output]["Value"]["Fn::GetAtt"][0]
        assert merchant in mapping and role in mapping
        invokes = [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                   and {"Ref": role} in r["Properties"]["Roles"]
                   for s in r["Properties"]["PolicyDocument"]["Statement"]]
        assert [s["Action"] for s in invokes] == ["execute-api:Invoke"]
        assert invokes[0]["Resource"]["Fn::Join"][1][-4:] == [{"Ref": api}, "/", {"Ref": stage}, "/*/*"]


def test_every_topic_has_a_subscriber_with_alert_context(example_assemblies):
    """The tests' assemblies pass alertEmail: each topic (cost, security, operations, which the API's
    alarms use) gets that address."""
    resources = example_assemblies.template("dev")["Resources"]
    topics = {k for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"}
    subscribed = {r["Properties"]["TopicArn"]["Ref"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
                  and r["Properties"]["Endpoint"] == "payments-alerts@example.com"}
    assert len(topics) == 3 and subscribed == topics


SINGLETONS = {"AWS::GuardDuty::Detector", "AWS::SecurityHub::Hub", "AWS::Config::ConfigurationRecorder",
              "AWS::Config::DeliveryChannel"}


@pytest.fixture(scope="module")
def without_day_one_context(tmp_path_factory):
    """The example as a Control Tower account deploys it (findingSources=existing), with no alert address."""
    outdir = tmp_path_factory.mktemp("existing")
    result = synth_app(outdir, {"profile": "dev", "findingSources": "existing", "accountTrail": "existing"})
    assert result.returncode == 0, result.stderr
    return outdir


def test_synthesis_warns_about_each_topic_nobody_subscribes_to(without_day_one_context):
    metadata = json.loads((without_day_one_context / "PaymentPlatform-dev.metadata.json").read_text())
    warned = [path for path, entries in metadata.items()
              for entry in entries if entry["type"] == "aws:cdk:warning"
              and "cdk-payments:topicWithoutSubscriber" in str(entry["data"])]
    assert sorted(warned) == [f"/PaymentPlatform-dev/Alerts/{name}" for name in ("Cost", "Operations", "Security")]


def test_finding_sources_are_created_in_a_fresh_account_and_used_where_they_exist(example_assemblies,
                                                                                   without_day_one_context):
    def types(template):
        return [r["Type"] for r in template["Resources"].values()]

    created = types(example_assemblies.template("dev"))
    assert SINGLETONS <= set(created) and created.count("AWS::Config::ConfigRule") >= 18
    assert created.count("AWS::CloudTrail::Trail") == 1
    existing = types(json.loads((without_day_one_context / "PaymentPlatform-dev.template.json").read_text()))
    assert not SINGLETONS & set(existing) and "AWS::CloudTrail::Trail" not in existing
    assert existing.count("AWS::Config::ConfigRule") == created.count("AWS::Config::ConfigRule")


def test_finding_sources_context_is_checked(tmp_path):
    result = synth_app(tmp_path, {"profile": "dev", "findingSources": "maybe"})
    assert "finding_sources: expected one of create, existing, got 'maybe'" in result.stderr


@pytest.mark.parametrize("profile", ("dev", "prod"))
def test_config_delivers_to_a_bucket_without_object_lock(example_assemblies, profile):
    """AWS Config refuses a delivery channel to an Object Lock bucket: the example's goes to the audit
    bucket's access-log bucket, never to the locked audit bucket itself."""
    resources = example_assemblies.template(profile)["Resources"]
    [channel] = [r for r in resources.values() if r["Type"] == "AWS::Config::DeliveryChannel"]
    bucket = resources[channel["Properties"]["S3BucketName"]["Ref"]]
    assert bucket["Type"] == "AWS::S3::Bucket" and not bucket["Properties"].get("ObjectLockEnabled")
