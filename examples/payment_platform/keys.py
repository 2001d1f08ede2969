"""The example's customer-managed keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def platform_key(scope: Construct, id: str, *, description: str,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN, **kwargs: Any) -> kms.Key:
    """A rotating, retained key whose use the account's IAM policies decide, on which only AWS services
    acting for a resource (Lambda, DynamoDB, EBS...) may create grants (AWS Control Tower's CT.KMS.PR.3)."""
    # The account's IAM policies decide who uses the key (KMS's default key policy), with the partition as a
    # pseudo parameter: CDK would write the literal partition of a stack whose region is pinned (the replica's).
    policy = iam.PolicyDocument(statements=[iam.PolicyStatement(
        actions=["kms:*"], resources=["*"],
        principals=[iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:root")])])
    key = kms.Key(scope, id, description=description, enable_key_rotation=True, removal_policy=removal_policy,
                  policy=policy, **kwargs)
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="DenyGrantsExceptForAwsResources",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    ))
    return key
