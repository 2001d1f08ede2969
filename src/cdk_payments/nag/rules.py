"""The pack's own rules: only those the PCI DSS 4.0 conformance pack has and cdk-nag does not.

Each reads the resource's properties as cdk-nag's rules do (resolved, with CDK's camelCase keys) and
returns a :class:`cdk_nag.NagRuleCompliance`.
"""

from __future__ import annotations

from typing import Any, Callable

from aws_cdk import CfnResource, Stack
from cdk_nag import NagRuleCompliance

COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE = (NagRuleCompliance.COMPLIANT, NagRuleCompliance.NON_COMPLIANT,
                                            NagRuleCompliance.NOT_APPLICABLE)


def _properties(node: CfnResource) -> dict[str, Any]:
    return Stack.of(node).resolve(node._cfn_properties) or {}


def ec2_launch_template_public_ip_disabled(node: CfnResource) -> NagRuleCompliance:
    """Config ec2-launch-template-public-ip-disabled: no network interface asks for a public IP."""
    data = _properties(node).get("launchTemplateData") or {}
    interfaces = data.get("networkInterfaces") or []
    if any(interface.get("associatePublicIpAddress") in (True, "true") for interface in interfaces):
        return NON_COMPLIANT
    return COMPLIANT


def ec2_launch_template_imdsv2(node: CfnResource) -> NagRuleCompliance:
    """Security Hub EC2.170: the launch template requires IMDSv2 tokens."""
    data = _properties(node).get("launchTemplateData") or {}
    options = data.get("metadataOptions") or {}
    return COMPLIANT if options.get("httpTokens") == "required" else NON_COMPLIANT


def dynamodb_table_encrypted_kms(node: CfnResource) -> NagRuleCompliance:
    """Config dynamodb-table-encrypted-kms: SSE is enabled with a KMS key (AWS or customer managed)."""
    sse = _properties(node).get("sseSpecification") or {}
    enabled = sse.get("sseEnabled") in (True, "true")
    if node.cfn_resource_type == "AWS::DynamoDB::GlobalTable":
        return COMPLIANT if enabled and sse.get("sseType") == "KMS" else NON_COMPLIANT
    return COMPLIANT if enabled and sse.get("sseType", "KMS") == "KMS" else NON_COMPLIANT


def wafv2_web_acl_not_empty(node: CfnResource) -> NagRuleCompliance:
    """Config wafv2-webacl-not-empty: the web ACL holds at least one rule or rule group."""
    return COMPLIANT if _properties(node).get("rules") else NON_COMPLIANT


OWN_RULES: dict[str, tuple[tuple[str, ...], Callable[[CfnResource], NagRuleCompliance]]] = {
    "EC2LaunchTemplatePublicIpDisabled": (("AWS::EC2::LaunchTemplate",), ec2_launch_template_public_ip_disabled),
    "EC2LaunchTemplateIMDSv2": (("AWS::EC2::LaunchTemplate",), ec2_launch_template_imdsv2),
    "DynamoDBTableEncryptedKMS": (("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
                                  dynamodb_table_encrypted_kms),
    "WAFv2WebACLNotEmpty": (("AWS::WAFv2::WebACL",), wafv2_web_acl_not_empty),
}
