"""SecurePaymentApi: the construct, its WAF, its alarms and its functions.

The construct is imported on first use, so that the route table (``payment_api.routes``) loads
without aws_cdk: ``cdk_payments.openapi`` builds the API's OpenAPI document from it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..choices import PaymentApiAuthorization

if TYPE_CHECKING:
    from .adapter import ProviderAdapter
    from .construct import SecurePaymentApi

_EXPORTS = {"ProviderAdapter": "adapter", "SecurePaymentApi": "construct"}
__all__ = ["PaymentApiAuthorization", "ProviderAdapter", "SecurePaymentApi"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
