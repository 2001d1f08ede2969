"""A typed client of the payment API for merchants' backends: ``from cdk_payments.client import PaymentsClient``.

Importable with boto3 and the standard library only (it never imports aws_cdk). See docs/client.md.
"""

from .client import PaymentsClient, new_idempotency_key
from .errors import *  # noqa: F401,F403  (one class per error code)
from .errors import ERRORS, ApiError, PaymentsConnectionError, PaymentsError
from .models import CreatedPayment, Payment, PaymentPage

__all__ = ["ERRORS", "ApiError", "CreatedPayment", "Payment", "PaymentPage", "PaymentsClient",
           "PaymentsConnectionError", "PaymentsError", "new_idempotency_key",
           *(cls.__name__ for cls in ERRORS.values())]
