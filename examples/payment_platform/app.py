#!/usr/bin/env python3
"""The example PaymentPlatform app.

`python app.py` and `npx aws-cdk synth` give the same template: both read the context committed in
cdk.json (the CLI's `-c profile=prod` wins over it). The stack is environment-agnostic on purpose:
no account look-ups, so synthesis is offline and deterministic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
from platform_stacks import build_platform, settings_from_context

HERE = Path(__file__).parent
CDK_JSON = json.loads((HERE / "cdk.json").read_text())

app = cdk.App(
    # The CLI adds path and asset metadata itself (cdk.json may not: `aws:` keys are reserved there);
    # set them here too, so that `python app.py` and `npx cdk synth` write the same templates.
    context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True, **CDK_JSON["context"]},
    analytics_reporting=False,
    outdir=os.environ.get("CDK_OUTDIR", str(HERE / "cdk.out")),
)
# Every setting comes from context (cdk.json, `-c key=value`): see platform_stacks.settings_from_context.
build_platform(app, **settings_from_context(app.node))
if app.node.try_get_context("nag"):
    # What tools/compliance_report.py runs: every cdk-nag pack and the AWS Control Tower proactive
    # controls (cfn-guard), as CDK validation plugins.
    from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
    from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

    from cdk_payments.nag import PciDss401Checks

    for pack in (AwsSolutionsChecks, PCIDSS321Checks, NIST80053R5Checks, ServerlessChecks, PciDss401Checks):
        cdk.Validations.of(app).add_plugins(pack(app))
    cdk.Validations.of(app).add_plugins(CfnGuardValidator())
app.synth()
