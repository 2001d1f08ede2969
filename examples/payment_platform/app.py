#!/usr/bin/env python3
"""The example PaymentPlatform app.

`python app.py` and `npx aws-cdk synth` give the same template: both read the context committed in
cdk.json (the CLI's `-c profile=prod` wins over it). The stack is environment-agnostic on purpose:
no account look-ups, so synthesis is offline and deterministic.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from platform_stacks import build_platform, settings_from_context
from rules_packs import add_rules_packs

# Context comes from cdk.json and the CDK CLI (`npx cdk synth -c profile=prod`, which passes it in
# CDK_CONTEXT_JSON); `python app.py -c ...` would otherwise synthesize dev and quietly ignore the flags.
if sys.argv[1:]:
    sys.exit(f"app.py takes no arguments (got {' '.join(sys.argv[1:])}): pass context through the CDK CLI, "
             "`npx cdk synth -c profile=prod`, or as JSON in CDK_CONTEXT_JSON")
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
    add_rules_packs(app)  # every cdk-nag pack and the Control Tower controls, as validation plugins
app.synth()
