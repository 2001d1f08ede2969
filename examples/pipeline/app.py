#!/usr/bin/env python3
"""The example pipeline: CDK Pipelines deploys the example platform to dev, then to prod region by region.

Offline and deterministic like the example app: every account, region and the source connection come
from context (cdk.json, `-c key=value`), never from a look-up. `python app.py` writes cdk.out.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk

HERE = Path(__file__).resolve().parent
PLATFORM = HERE.parent / "payment_platform"
# The stages deploy the example platform's stacks: its modules and its feature flags (the same flags give
# the same templates, so the stacks keep every name they have when deployed with `cdk deploy`).
sys.path.insert(0, str(PLATFORM))
from payment_pipeline import PaymentPipeline, PipelineSettings  # noqa: E402
from rules_packs import add_rules_packs  # noqa: E402

FLAGS = json.loads((PLATFORM / "cdk.json").read_text())["context"]
OWN = json.loads((HERE / "cdk.json").read_text())["context"]

app = cdk.App(
    context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True, **FLAGS, **OWN},
    analytics_reporting=False,
    outdir=os.environ.get("CDK_OUTDIR", str(HERE / "cdk.out")),
)
PaymentPipeline(app, "PaymentPlatformPipeline", settings=PipelineSettings.from_context(app.node))
if app.node.try_get_context("nag"):
    add_rules_packs(app)  # as the example app: every stage's stacks, and the pipeline's own (docs/pipeline.md)
app.synth()
