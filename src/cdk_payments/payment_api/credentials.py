"""The provider credentials: a Secrets Manager secret and the function that rotates it (the built-in
one, which delegates to the provider adapter, or the user's ``rotation_function``)."""

from __future__ import annotations

import json
from typing import Optional

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .._nag import acknowledge
from .adapter import ProviderAdapter
from .functions import HANDLER_TIMEOUT, FunctionDefaults, PaymentFunction


def provider_secret(scope: Construct, key: kms.IKey) -> secretsmanager.Secret:
    return secretsmanager.Secret(
        scope,
        "ProviderSecret",
        description="Payment provider credentials (set api_key after deployment)",
        encryption_key=key,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({"provider": "sandbox"}),
            generate_string_key="api_key",
            exclude_punctuation=True,
        ),
    )


def rotate(scope: Construct, secret: secretsmanager.Secret, *, given: Optional[lambda_.IFunction],
           adapter: ProviderAdapter, defaults: FunctionDefaults, days: int) -> lambda_.IFunction:
    """Rotate ``secret`` every ``days`` with ``given``, or with a built-in function; returns the rotator."""
    function = given or _create_rotation_function(scope, adapter, defaults)
    # Not at deployment: the generated api_key is a placeholder until you store the provider's key.
    secret.add_rotation_schedule(
        "Rotation", rotation_lambda=function, rotate_immediately_on_update=False,
        automatically_after=Duration.days(days),
    )
    if given is None:
        # CDK lets secretsmanager.amazonaws.com invoke the function for any secret; only this one may.
        for child in function.node.children:
            if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                child.source_arn = secret.secret_arn
    return function


def _create_rotation_function(scope: Construct, adapter: ProviderAdapter,
                              defaults: FunctionDefaults) -> lambda_.Function:
    # In the same subnets as the processor (the provider sees one egress), reaching Secrets Manager
    # through the NAT or the VPC's interface endpoint. One rotation at a time is all it ever runs.
    rotation = PaymentFunction(
        scope, "SecretRotation", handler="runtime.rotation.handler", description="cdk-payments secret rotation",
        timeout=HANDLER_TIMEOUT, environment=adapter.environment,
        defaults=defaults.with_reserved_concurrency(1 if defaults.reserved_concurrency else None),
    )
    defaults.key.grant_encrypt_decrypt(rotation.function)
    acknowledge(
        rotation.role,
        "Besides X-Ray and the VPC ENI actions, secretsmanager:GetRandomPassword, which CDK's rotation "
        "schedule grants and which supports no resource-level scoping; the secret actions name the secret.",
        "AwsSolutions-IAM5[Resource::*]",
    )
    return rotation.function
