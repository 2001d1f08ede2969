"""The example's rules packs (examples/payment_platform/rules_packs.py): its Control Tower plugin runs
each control only on templates holding a resource type the control reads, and finds what the plugin
running every control finds."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from cdk_payments import PaymentApiAuthorization, Profile

from .harness import read_findings, rules_packs
from .test_composition import compose


def guard_findings(plugin: Callable[[cdk.App], Any]) -> set[tuple[str, str]]:
    """The Control Tower findings of a consumer's app: the library's constructs and some resources of
    the user's own that break controls (a plain bucket, queue and function)."""
    outdir = tempfile.mkdtemp(prefix="cdk-payments-guard-")
    app = cdk.App(analytics_reporting=False, outdir=outdir)
    stack = cdk.Stack(app, "TestStack")
    compose(stack, profile=Profile.PROD, auth=PaymentApiAuthorization.IAM, network="own", key="own", table="new",
            fleet=True)
    s3.Bucket(stack, "OwnPlainBucket")
    sqs.Queue(stack, "OwnPlainQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    lambda_.Function(stack, "OwnFunction", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                     code=lambda_.Code.from_inline("def handler(event, context): return None"))
    cdk.Validations.of(app).add_plugins(plugin(app))
    try:
        app.synth()
    except RuntimeError:  # the findings fail synthesis after the report is written
        pass
    return {(f.rule, f.path) for f in read_findings(Path(outdir, "validation-report.json"))}


def test_control_tower_findings_are_those_of_every_control():
    every = guard_findings(lambda app: CfnGuardValidator())
    assert every, "the user's own resources break controls: the comparison must compare findings"
    assert {path.split("/")[1] for _, path in every if path} >= {"OwnPlainBucket", "OwnPlainQueue", "OwnFunction"}
    assert guard_findings(rules_packs().control_tower_controls) == every


def test_each_control_reads_resource_types():
    controls = rules_packs().control_types()
    assert len(controls) > 200 and all(controls.values()), [c for c, types in controls.items() if not types]
    assert "AWS::Lambda::Function" in controls["ct-lambda-pr-3"]


def test_the_plugin_keeps_the_name_acknowledgements_use():
    from cdk_payments._nag import GUARD_PLUGIN

    assert rules_packs().control_tower_controls(cdk.App()).name == GUARD_PLUGIN
