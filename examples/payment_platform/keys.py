"""The example's customer-managed keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def platform_key(scope: Construct, id: str, *, description: str,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN, **kwargs: Any) -> kms.Key:
    """A rotating, retained key on which only AWS services acting for a resource (Lambda, DynamoDB,
    EBS...) may create grants (AWS Control Tower's CT.KMS.PR.3)."""
    key = kms.Key(scope, id, description=description, enable_key_rotation=True, removal_policy=removal_policy,
                  **kwargs)
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="DenyGrantsExceptForAwsResources",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    ))
    return key
