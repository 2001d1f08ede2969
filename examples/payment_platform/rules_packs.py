"""What tools/compliance_report.py runs (`-c nag=true`): every cdk-nag pack and the AWS Control Tower
proactive controls (cfn-guard), as CDK validation plugins of an app or of one Stage (its stacks only)."""

from __future__ import annotations

import functools
import re
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def packs() -> tuple[Any, ...]:
    """The cdk-nag packs: cdk-nag's four and cdk_payments.nag.PciDss401Checks."""
    from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

    from cdk_payments.nag import PciDss401Checks

    return AwsSolutionsChecks, PCIDSS321Checks, NIST80053R5Checks, ServerlessChecks, PciDss401Checks


def add_rules_packs(stage: cdk.Stage) -> None:
    """Once the stage's constructs are built (the Control Tower controls are chosen by what it holds)."""
    for pack in packs():
        cdk.Validations.of(stage).add_plugins(pack(stage))
    cdk.Validations.of(stage).add_plugins(control_tower_controls(stage))


def control_tower_controls(scope: IConstruct) -> Any:
    """cdklabs.cdk-validator-cfnguard's Control Tower controls, less those that read no resource type
    ``scope`` holds: a control reads resources of its types only, so on the others it can only skip,
    and cfn-guard spends most of its time on those (about 7 s of a payment API's synthesis, 2 s
    without). The same findings, under the same plugin name. Call it once ``scope`` is built."""
    from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

    present = resource_types(scope)
    return CfnGuardValidator(disabled_rules=sorted(
        control for control, types in control_types().items() if types and not types & present))


def resource_types(scope: IConstruct) -> set[str]:
    return {c.cfn_resource_type for c in scope.node.find_all() if isinstance(c, cdk.CfnResource)}


@functools.cache
def control_types() -> dict[str, frozenset[str]]:
    """Each Control Tower control's rule name (``ct-lambda-pr-2``) and the resource types it reads,
    from the rule files the plugin's package ships."""
    import cdklabs.cdk_validator_cfnguard._jsii as bundle

    archive_path = next(Path(bundle.__file__).parent.glob("*.jsii.tgz"))
    types = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
    with tarfile.open(archive_path) as archive:
        return {Path(member.name).stem: frozenset(types.findall(archive.extractfile(member).read().decode()))
                for member in archive if member.isfile() and member.name.endswith(".guard")
                and "/rules/control-tower/" in member.name}
