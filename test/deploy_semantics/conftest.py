"""The example app as AWS would see it deployed beside itself: two copies of each profile (two stack
names) in one app, once with no feature flags and once with the flags a new CDK app gets."""

from __future__ import annotations

import glob
import json
import os
import sys
import tarfile
from pathlib import Path

import aws_cdk as cdk
import pytest

from ..run_cache import run_temp, shared
from .cfn import StackTemplate, load_assembly

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payment_platform"
REPLICA_REGION = "us-west-2"


def recommended_flags() -> dict:
    """The feature flags `cdk init` writes into a new app's cdk.json, from the installed aws-cdk-lib."""
    import aws_cdk

    bundle = glob.glob(os.path.join(os.path.dirname(aws_cdk.__file__), "_jsii", "aws-cdk-lib@*.jsii.tgz"))[0]
    with tarfile.open(bundle) as archive:
        return json.load(archive.extractfile("package/recommended-feature-flags.json"))


def synth_example_copies(flags: dict, outdir: Path) -> None:
    sys.path.insert(0, str(EXAMPLE))
    try:
        from platform_stacks import build_platform
    finally:
        sys.path.remove(str(EXAMPLE))
    from cdk_payments import Profile

    app = cdk.App(context=flags, analytics_reporting=False, outdir=str(outdir))
    for profile in (Profile.DEV, Profile.PROD):
        for suffix in ("", "-copy"):
            build_platform(app, stack_id=f"PaymentPlatform-{profile.value}{suffix}", profile=profile,
                           cost_center="payments", replica_region=REPLICA_REGION if profile is Profile.PROD else None,
                           alert_email="payments-alerts@example.com")
    app.synth()


@pytest.fixture(scope="session", params=["no-flags", "recommended-flags"])
def example_copies(request, tmp_path_factory) -> list[StackTemplate]:
    """Every stack of the example, each profile twice under two stack names, in one app: synthesized once
    per run and parameter (pytest sets a parametrized session fixture up again at each switch)."""
    flags = {} if request.param == "no-flags" else recommended_flags()
    folder = run_temp(tmp_path_factory) / "example-copies" / request.param
    return load_assembly(shared(folder, lambda outdir: synth_example_copies(flags, outdir)))
