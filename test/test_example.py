"""The example PaymentPlatform app: synthesizes offline, identically on every run, in each profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .example_assemblies import EXAMPLE, ROOT, synth_app

__all__ = ["EXAMPLE", "ROOT", "synth_example"]


def synth_example(outdir: Path, profile: str, python: str = sys.executable, cwd: Path = EXAMPLE) -> dict:
    # No credentials and no region: synthesis must not need them.
    result = synth_app(outdir, {"profile": profile}, python=python, cwd=cwd)
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
        [str(Path(sys.executable).parent / "npx"), "--no-install", "cdk", "synth", "--no-notices", "-q", "-o", str(tmp_path / "cli")],
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
                if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").startswith("runtime.")}

    assert variables("http") == {"runtime.providers.http"}
    assert "provider: unknown provider 'acme'; allowed: sandbox, http" in variables("acme")
