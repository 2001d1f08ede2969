"""How the processor knows the caller's merchant: from the IAM role, the Cognito claim or the API key,
never from the request (API keys' ids are added by the gateway, which creates the keys)."""

from __future__ import annotations

from aws_cdk import Annotations, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..choices import PaymentApiAuthorization
from .settings import PaymentApiSettings

# The request header that identifies the caller, which the prod cache keys reads on (see gateway.py).
IDENTITY_HEADER = {PaymentApiAuthorization.API_KEY: "X-Api-Key", PaymentApiAuthorization.COGNITO: "Authorization"}


def merchant_environment(scope: Construct, settings: PaymentApiSettings, key: kms.IKey) -> dict[str, str]:
    """The processor's variables that map an identity to a merchant."""
    auth = settings.authorization
    environment = {"AUTH_MODE": auth.value, "CURSOR_KEY_ARN": key.key_arn}
    if auth is PaymentApiAuthorization.IAM:
        roles = {merchant: role.role_arn for merchant, role in settings.merchant_roles.items()}
        environment["MERCHANT_ROLES"] = Stack.of(scope).to_json_string(roles)
        if not roles:
            Annotations.of(scope).add_warning_v2(
                "cdk-payments:noMerchantRoles",
                "SecurePaymentApi with IAM authorization and no merchant_roles refuses every request "
                "with 403 merchant_not_mapped: map each merchant id to the IAM role it calls with.",
            )
    return environment
