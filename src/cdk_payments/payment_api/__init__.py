"""SecurePaymentApi: the construct, its WAF, its alarms and its functions."""

from ..choices import PaymentApiAuthorization
from .adapter import ProviderAdapter
from .construct import SecurePaymentApi

__all__ = ["PaymentApiAuthorization", "ProviderAdapter", "SecurePaymentApi"]
