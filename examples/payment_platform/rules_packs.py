"""What tools/compliance_report.py runs (`-c nag=true`): every cdk-nag pack and the AWS Control Tower
proactive controls (cfn-guard), as CDK validation plugins of an app or of one Stage (its stacks only)."""

from __future__ import annotations

import aws_cdk as cdk


def add_rules_packs(stage: cdk.Stage) -> None:
    from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
    from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

    from cdk_payments.nag import PciDss401Checks

    for pack in (AwsSolutionsChecks, PCIDSS321Checks, NIST80053R5Checks, ServerlessChecks, PciDss401Checks):
        cdk.Validations.of(stage).add_plugins(pack(stage))
    cdk.Validations.of(stage).add_plugins(CfnGuardValidator())
