"""The customer-managed KMS key a construct encrypts with: the user's, or one it creates.

AWS services that write into encrypted log groups, topics and queues (CloudWatch Logs, SNS's
publishers, EventBridge...) are not IAM principals of the account: only the key policy can let them
use the key. A construct adds those statements to a key it owns; an imported key's policy cannot be
changed from here, so each construct records the statements it needs (``key_policy_statements()``)
and warns at synthesis when it could not add them. Roles (the functions', the workers') get their
access through IAM grants, which need only the default key policy statement that lets the
account's IAM policies use the key.
"""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

IMPORTED_KEY_WARNING = "cdk-payments:importedKeyPolicy"
from ._nag import acknowledge


def key_for(scope: Construct, key: Optional[kms.IKey], *, purpose: str, logs: bool = False) -> kms.IKey:
    """Return ``key``, or a new rotating key for ``purpose``.

    With ``logs=True`` the key lets CloudWatch Logs in this region use it, which log groups encrypted
    with it need (an imported key's policy must already allow it: see :func:`key_policy_statements`).
    """
    if key is not None:
        if logs:
            allow_cloudwatch_logs(key, scope)
        return key
    created = kms.Key(
        scope,
        "Key",
        description=f"cdk-payments: {purpose}",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    if logs:
        allow_cloudwatch_logs(created, scope)
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


def allow_services(key: kms.IKey, *services: str, scope: Optional[Construct] = None) -> None:
    """Let AWS services that deliver into encrypted topics or queues (SNS, EventBridge, Budgets...)
    use ``key``: decrypt and generate data keys. ``scope`` records the statement (see :func:`record`)."""
    grant = key.grant(iam.CompositePrincipal(*(iam.ServicePrincipal(s) for s in services)), "kms:Decrypt",
                      "kms:GenerateDataKey*")
    record(scope, key, grant, f"{', '.join(services)} to use it (kms:Decrypt, kms:GenerateDataKey*)")


def allow_cloudwatch_logs(key: kms.IKey, scope: Optional[Construct] = None) -> None:
    """Let this region's CloudWatch Logs encrypt and decrypt with ``key`` (log groups need it)."""
    region = Stack.of(key).region
    grant = key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{region}.amazonaws.com"))
    record(scope, key, grant, "CloudWatch Logs of the stack's region to encrypt and decrypt with it")


def allow_log_delivery(key: kms.IKey, scope: Optional[Construct] = None) -> None:
    """Let CloudWatch Logs' delivery service (VPC flow logs to S3, vended logs) write objects that ``key``
    encrypts: its principal, not the bucket owner's, encrypts them."""
    grant = key.grant(iam.ServicePrincipal("delivery.logs.amazonaws.com"), "kms:Encrypt", "kms:Decrypt",
                      "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
    record(scope, key, grant, "delivery.logs.amazonaws.com to encrypt flow log objects")


def record(scope: Optional[Construct], key: kms.IKey, grant: iam.Grant, what: str) -> None:
    """Remember on ``scope`` the key policy statement ``grant`` needs; warn when ``key`` is imported and
    so its policy does not get it."""
    if scope is None:
        return
    statements = scope.__dict__.setdefault("_key_policy_statements", [])
    statements.append(grant.resource_statement)
    if not isinstance(key, kms.Key):
        Annotations.of(scope).add_warning_v2(
            IMPORTED_KEY_WARNING,
            f"encryption_key is imported, so its key policy cannot be changed here: it must allow {what}, "
            f"or deliveries fail at run time. {type(scope).__name__}.key_policy_statements() returns the "
            "statements to add to the key's policy where the key is defined.",
        )


def key_policy_statements(scope: Construct) -> list[iam.PolicyStatement]:
    """The key policy statements ``scope`` added, or needed and could not add (an imported key)."""
    return list(scope.__dict__.get("_key_policy_statements", []))


# The service-linked role that launches Auto Scaling instances (and creates their volumes).
AUTO_SCALING_SERVICE_LINKED_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def allow_auto_scaling_volumes(key: kms.IKey) -> None:
    """Let the Auto Scaling service-linked role launch instances whose EBS volumes ``key`` encrypts.

    The two statements of the Auto Scaling user guide ("Required AWS KMS key policy for use with
    encrypted volumes"): use of the key, and grants for AWS resources. The role is named in a
    condition rather than as the principal because KMS rejects a key policy that names a role that
    does not exist yet, and a fresh account has no Auto Scaling service-linked role until its first
    group. For an imported key nothing can be added: a warning says which statements it needs.
    """
    stack = Stack.of(key)
    role_arn = f"arn:{stack.partition}:iam::{stack.account}:{AUTO_SCALING_SERVICE_LINKED_ROLE}"
    condition = {"StringEquals": {"aws:PrincipalArn": role_arn}}
    statements = [
        iam.PolicyStatement(
            sid="AllowAutoScalingToEncryptVolumes", principals=[iam.AnyPrincipal()], resources=["*"],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            conditions=condition),
        iam.PolicyStatement(
            sid="AllowAutoScalingToGrantVolumes", principals=[iam.AnyPrincipal()], resources=["*"],
            actions=["kms:CreateGrant"],
            conditions={**condition, "Bool": {"kms:GrantIsForAWSResource": True}}),
    ]
    added = [key.add_to_resource_policy(statement).statement_added for statement in statements]
    if not all(added):
        Annotations.of(key).add_warning_v2(
            "cdk-payments:autoScalingKeyPolicy",
            "This imported key encrypts Auto Scaling root volumes: its key policy must let "
            f"{AUTO_SCALING_SERVICE_LINKED_ROLE} use it (kms:Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, "
            "DescribeKey, and CreateGrant with kms:GrantIsForAWSResource), or every launch fails.")
        return
    # The statements' principal is "*" narrowed by the condition, which checkov cannot read.
    acknowledge(key, "The Auto Scaling statements allow only the Auto Scaling service-linked role, named in an "
                     "aws:PrincipalArn condition because KMS rejects a policy naming a role that does not exist "
                     "yet (a fresh account has none until its first Auto Scaling group).", "CKV_AWS_33")


def key_statement(key: kms.IKey, actions: Sequence[str]) -> iam.PolicyStatement:
    """``actions`` on ``key`` for an identity policy, also when the key is named by its alias ARN (a key of
    another stack or region: ``Key.from_key_arn(..., "arn:...:alias/name")``, ``Alias.from_alias_name``).

    IAM matches KMS permissions against key ARNs only, so a key named by its alias is granted on the keys
    of that account and region that carry the alias (``kms:ResourceAliases``), whatever the app's
    ``@aws-cdk/aws-kms:applyImportedAliasPermissionsToPrincipal`` flag.
    """
    arn = key.key_arn
    if ":alias/" not in arn:
        return iam.PolicyStatement(actions=list(actions), resources=[arn])
    prefix, alias = arn.split(":alias/", 1)
    return iam.PolicyStatement(
        actions=list(actions), resources=[f"{prefix}:key/*"],
        conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{alias}"}},
    )
