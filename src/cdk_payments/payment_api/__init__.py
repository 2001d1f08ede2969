"""SecurePaymentApi: the construct, its WAF, its alarms and its functions."""

from .construct import PaymentApiAuthorization, SecurePaymentApi

__all__ = ["PaymentApiAuthorization", "SecurePaymentApi"]
