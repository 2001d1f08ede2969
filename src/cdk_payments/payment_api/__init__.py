"""SecurePaymentApi: the construct, its WAF, its alarms and its functions.

The construct is imported on first use, so that the route table (``payment_api.routes``) loads
without aws_cdk: ``cdk_payments.openapi`` builds the API's OpenAPI document from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..choices import PaymentApiAuthorization

if TYPE_CHECKING:
    from .adapter import ProviderAdapter
    from .construct import SecurePaymentApi

_EXPORTS = {"ProviderAdapter": "adapter", "SecurePaymentApi": "construct"}
__all__ = ["PaymentApiAuthorization", "ProviderAdapter", "SecurePaymentApi"]


__getattr__ = lazy_exports(__name__, _EXPORTS)
