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
from payment_platform import PaymentPlatform

from cdk_payments import AccountTrailMode, NetworkLayout, Profile, ProviderAdapter

HERE = Path(__file__).parent
CDK_JSON = json.loads((HERE / "cdk.json").read_text())

app = cdk.App(
    # The CLI adds path and asset metadata itself (cdk.json may not: `aws:` keys are reserved there);
    # set them here too, so that `python app.py` and `npx cdk synth` write the same templates.
    context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True, **CDK_JSON["context"]},
    analytics_reporting=False,
    outdir=os.environ.get("CDK_OUTDIR", str(HERE / "cdk.out")),
)
profile = Profile.parse(app.node.try_get_context("profile"))
# `-c provider=http` authorizes through the generic HTTPS adapter (set base_url and api_key in the secret).
PROVIDERS = {"sandbox": ProviderAdapter.sandbox, "http": ProviderAdapter.http}
provider = app.node.try_get_context("provider") or "sandbox"
# `-c networkLayout=three-az` (or two-az-no-endpoints, locked-down...) instead of the profile's network.
layout = app.node.try_get_context("networkLayout")
# The sandbox approves any token: a prod stack with it would take "payments" that no provider saw.
sandbox_allowed = str(app.node.try_get_context("allowSandboxInProd")).lower() == "true"
errors = []  # every bad context value at once
if provider not in PROVIDERS:
    errors.append(f"provider: unknown provider {provider!r}; allowed: {', '.join(PROVIDERS)}")
elif profile is Profile.PROD and provider == "sandbox" and not sandbox_allowed:
    errors.append("provider: the prod profile refuses the sandbox adapter, which approves any token; pass "
                  "-c provider=http (and store base_url and api_key in the provider secret), or opt in to the "
                  "sandbox by name with -c allowSandboxInProd=true (a rehearsal, never real payments)")
if layout and layout not in {choice.value for choice in NetworkLayout}:
    errors.append(f"networkLayout: unknown layout {layout!r}; allowed: {', '.join(c.value for c in NetworkLayout)}")
# After `cdk destroy`, the kept replica bucket keeps its name: `-c auditReplicaGeneration=2` names a new one.
generation = app.node.try_get_context("auditReplicaGeneration")
if generation is not None and not (str(generation).isdigit() and 1 <= int(generation) <= 999):
    errors.append(f"auditReplicaGeneration: expected a whole number from 1 to 999, got {generation!r}")
if errors:
    raise ValueError("invalid context:\n  - " + "\n  - ".join(errors))
# Prod replicates the audit trail to a stack of its own in another region, deployed first.
replica_region = app.node.try_get_context("auditReplicaRegion") if profile is Profile.PROD else None
PaymentPlatform(
    app,
    f"PaymentPlatform-{profile.value}",
    profile=profile,
    replica_region=replica_region,
    replica_generation=int(generation) if generation is not None else None,
    provider_adapter=PROVIDERS[provider](),
    network_layout=NetworkLayout(layout) if layout else None,
    # `-c accountTrail=existing` (or `none`) where an organization trail already records the account.
    account_trail=AccountTrailMode(app.node.try_get_context("accountTrail") or "create"),
    # Where every alert goes: `-c alertEmail=you@example.com` (confirm the e-mail SNS sends), and/or an HTTPS endpoint.
    alert_email=app.node.try_get_context("alertEmail"),
    alert_https_endpoint=app.node.try_get_context("alertHttpsEndpoint"),
    # Create the account's finding sources (a fresh account), or `-c findingSources=existing` where they exist
    # (AWS Control Tower; or the second of dev and prod in one account and region).
    finding_sources=app.node.try_get_context("findingSources") or "create",
    cost_center=app.node.try_get_context("costCenter"),
    description=f"cdk-payments example payment platform ({profile.value} profile)",
)
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
