"""The customer-managed KMS key a construct encrypts with: the user's, or one it creates."""

from __future__ import annotations

from typing import Optional

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def key_for(scope: Construct, key: Optional[kms.IKey], *, purpose: str, logs: bool = False) -> kms.IKey:
    """Return ``key``, or a new rotating key for ``purpose``.

    With ``logs=True`` the key lets CloudWatch Logs in this region use it, which log groups encrypted
    with it need (a no-op for an imported key, whose policy must already allow it).
    """
    if key is not None:
        if logs:
            allow_cloudwatch_logs(key)
        return key
    created = kms.Key(
        scope,
        "Key",
        description=f"cdk-payments: {purpose}",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    if logs:
        allow_cloudwatch_logs(created)
    deny_grants_except_for_aws_resources(created)
    return created


def deny_grants_except_for_aws_resources(key: kms.Key) -> None:
    """Only AWS services acting for a resource (Lambda, DynamoDB, EBS...) may create grants on ``key``
    (Control Tower's CT.KMS.PR.3): a principal allowed kms:CreateGrant cannot hand the key to others."""
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="DenyGrantsExceptForAwsResources",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    ))


def allow_services(key: kms.IKey, *services: str) -> None:
    """Let AWS services that deliver into encrypted topics or queues (SNS, EventBridge, Budgets...)
    use ``key``: decrypt and generate data keys. A no-op for an imported key."""
    key.grant(iam.CompositePrincipal(*(iam.ServicePrincipal(s) for s in services)), "kms:Decrypt",
              "kms:GenerateDataKey*")


def allow_cloudwatch_logs(key: kms.IKey) -> None:
    """Let this region's CloudWatch Logs encrypt and decrypt with ``key`` (log groups need it)."""
    region = Stack.of(key).region
    key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{region}.amazonaws.com"))
