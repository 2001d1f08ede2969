"""The example PaymentPlatform app: synthesizes offline, identically on every run, in each profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .example_assemblies import EXAMPLE, EXAMPLE_CONTEXT, ROOT, synth_app, synth_apps

__all__ = ["EXAMPLE", "ROOT", "synth_example"]


def synth_example(outdir: Path, profile: str, python: str = sys.executable, cwd: Path = EXAMPLE) -> dict:
    # No credentials and no region: synthesis must not need them.
    result = synth_app(outdir, {"profile": profile, **EXAMPLE_CONTEXT}, python=python, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "Node.js" not in result.stderr, "jsii warned about the Node.js version"
    return json.loads((outdir / f"PaymentPlatform-{profile}.template.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The example's other runs of this module, in one process (see synth_apps): a context each."""
    return synth_apps(tmp_path_factory.mktemp("runs"), {
        "prod": {"profile": "prod", **EXAMPLE_CONTEXT},
        # As a Control Tower account deploys it, with no alert address, through the HTTPS adapter.
        "existing": {"profile": "dev", "findingSources": "existing", "accountTrail": "existing", "provider": "http"},
        "acme": {"profile": "dev", "provider": "acme"},
        "prod-four-az": {"profile": "prod", "networkLayout": "four-az"},
        "maybe": {"profile": "dev", "findingSources": "maybe"},
    })


def test_synthesizes_identically_twice(runs, example_assemblies):
    """prod once here, once for the session (in another process, with the validation plugins on, which
    must not change a template either). dev's second synthesis is the packaging test's (from the wheel)
    and the pinned CLI's, each compared with the session's."""
    assert not runs["prod"].error, runs["prod"].error
    assert "Node.js" not in runs["prod"].warnings, "jsii warned about the Node.js version"
    first = example_assemblies.template("prod")
    assert first == runs["prod"].template("PaymentPlatform-prod")
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


def test_an_unknown_network_layout_is_refused(runs):
    assert "networkLayout: unknown layout 'four-az'; allowed: nat-instance, two-az" in runs["prod-four-az"].error


def test_app_py_refuses_arguments_it_would_ignore(tmp_path):
    """`python app.py -c profile=prod` used to synthesize dev: context only comes in through the CLI."""
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "app.py", "-c", "profile=prod"], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0 and not list(tmp_path.iterdir())
    assert "app.py takes no arguments (got -c profile=prod)" in result.stderr and "CDK_CONTEXT_JSON" in result.stderr


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


def test_the_provider_adapter_is_chosen_by_context(runs, example_assemblies):
    def variables(template):
        return {r["Properties"]["Environment"]["Variables"]["PROVIDER_MODULE"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").startswith("runtime.")
                and not r["Properties"]["Handler"].startswith(("runtime.webhook", "runtime.audit_copy"))}  # no provider

    assert variables(runs["existing"].template("PaymentPlatform-dev")) == {"runtime.providers.http"}
    assert variables(example_assemblies.template("dev")) == {"runtime.providers.sandbox"}
    assert "provider: unknown provider 'acme'; allowed: sandbox, http" in runs["acme"].error


def test_prod_refuses_the_sandbox_adapter_unless_opted_in_by_name(runs):
    """Reported together with the unknown layout of the same run: every bad context value at once."""
    assert "the prod profile refuses the sandbox adapter" in runs["prod-four-az"].error
    assert "-c allowSandboxInProd=true" in runs["prod-four-az"].error


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
def without_day_one_context(runs):
    """The example as a Control Tower account deploys it (findingSources=existing), with no alert address."""
    assert not runs["existing"].error, runs["existing"].error
    return runs["existing"].outdir


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
    assert SINGLETONS <= set(created) and created.count("AWS::Config::ConfigRule") >= 17
    assert created.count("AWS::CloudTrail::Trail") == 1
    existing = types(json.loads((without_day_one_context / "PaymentPlatform-dev.template.json").read_text()))
    assert not SINGLETONS & set(existing) and "AWS::CloudTrail::Trail" not in existing
    assert existing.count("AWS::Config::ConfigRule") == created.count("AWS::Config::ConfigRule")


def test_finding_sources_context_is_checked(runs):
    assert "finding_sources: expected one of create, existing, got 'maybe'" in runs["maybe"].error


@pytest.mark.parametrize("profile", ("dev", "prod"))
def test_config_delivers_to_a_bucket_without_object_lock(example_assemblies, profile):
    """AWS Config refuses a delivery channel to an Object Lock bucket: the example's goes to the audit
    bucket's access-log bucket, never to the locked audit bucket itself."""
    resources = example_assemblies.template(profile)["Resources"]
    [channel] = [r for r in resources.values() if r["Type"] == "AWS::Config::DeliveryChannel"]
    bucket = resources[channel["Properties"]["S3BucketName"]["Ref"]]
    assert bucket["Type"] == "AWS::S3::Bucket" and not bucket["Properties"].get("ObjectLockEnabled")
