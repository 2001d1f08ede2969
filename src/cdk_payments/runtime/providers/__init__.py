"""Payment provider adapters: the interface, the sandbox (default) and a generic HTTP adapter.

The functions load the adapter named by ``PROVIDER_MODULE`` and ``PROVIDER_CLASS`` (set by
SecurePaymentApi's ``provider_adapter`` prop) once per execution environment.
"""

from __future__ import annotations

import importlib
import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

from .. import clients
from .base import (
    Authorization,
    AuthorizationRequest,
    Credentials,
    CredentialsRejected,
    OperationRequest,
    Outcome,
    PaymentProvider,
    UnsupportedOperation,
)

__all__ = ["Authorization", "AuthorizationRequest", "Credentials", "CredentialsRejected", "OperationRequest", "Outcome",
           "PaymentProvider", "UnsupportedOperation", "credentials", "provider"]

BUILTIN = "runtime.providers."
SECRET_MAX_AGE_SECONDS = 300


@cache
def provider() -> PaymentProvider:
    """The configured adapter (default: the sandbox), one instance per execution environment."""
    module_name = os.environ.get("PROVIDER_MODULE", f"{BUILTIN}sandbox")
    class_name = os.environ.get("PROVIDER_CLASS", "SandboxProvider")
    if module_name.startswith(BUILTIN):  # ours, wherever this package is imported from
        module = importlib.import_module(f".{module_name[len(BUILTIN):]}", __package__)
    else:
        module = importlib.import_module(module_name)
    adapter = getattr(module, class_name)()
    if not isinstance(adapter, PaymentProvider):
        raise TypeError(f"{module_name}.{class_name} is not a runtime.providers.PaymentProvider")
    return adapter


def credentials() -> dict[str, Any]:
    """The provider secret's current value; cached five minutes, so a rotation is picked up soon.

    Read through Powertools' default secrets provider (``parameters.clear_caches()`` resets it) on
    the client from ``clients``: the one Powertools creates would start a boto3 session of its own,
    a second load of endpoint rules and models on the first request (about 50 ms of CPU)."""
    if "secrets" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=clients.secretsmanager())
    return json.loads(parameters.get_secret(os.environ["PROVIDER_SECRET_ARN"], max_age=SECRET_MAX_AGE_SECONDS))
