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
from audit_replica import AuditReplica
from payment_platform import PaymentPlatform

from cdk_payments import Profile

HERE = Path(__file__).parent
CDK_JSON = json.loads((HERE / "cdk.json").read_text())

app = cdk.App(
    context=CDK_JSON["context"],
    analytics_reporting=False,
    outdir=os.environ.get("CDK_OUTDIR", str(HERE / "cdk.out")),
)
profile = Profile.parse(app.node.try_get_context("profile"))
# Prod replicates the audit trail to another region; its stack is pinned to that region.
replica_region = app.node.try_get_context("auditReplicaRegion") if profile is Profile.PROD else None
if replica_region:
    replica = AuditReplica(app, "PaymentPlatform-audit-replica", region=replica_region,
                           env=cdk.Environment(region=replica_region),
                           description="cdk-payments example: cross-region audit replica")
    for key, value in (("application", "cdk-payments"), ("cost-center", app.node.try_get_context("costCenter")),
                       ("environment", profile.value)):
        cdk.Tags.of(replica).add(key, value)
platform = PaymentPlatform(
    app,
    f"PaymentPlatform-{profile.value}",
    profile=profile,
    replica_region=replica_region,
    cost_center=app.node.try_get_context("costCenter"),
    description=f"cdk-payments example payment platform ({profile.value} profile)",
)
if replica_region:
    # S3 refuses a replication rule whose destination bucket does not exist yet: the replica goes first,
    # also under `cdk deploy --all --concurrency N`.
    platform.add_dependency(replica)
if app.node.try_get_context("nag"):
    # What tools/compliance_report.py runs: every cdk-nag pack and the AWS Control Tower proactive
    # controls (cfn-guard), as CDK validation plugins.
    from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
    from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

    for pack in (AwsSolutionsChecks, PCIDSS321Checks, NIST80053R5Checks, ServerlessChecks):
        cdk.Validations.of(app).add_plugins(pack(app))
    cdk.Validations.of(app).add_plugins(CfnGuardValidator())
app.synth()
