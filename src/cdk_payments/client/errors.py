"""One exception class per documented ``error.code`` of the payment API (docs/api.md, "Errors").

The classes are the one list: :data:`ERRORS` is derived from them, and a test checks that it
matches that table, so a code added to the API without its class (or the reverse) fails.
"""

from __future__ import annotations

from typing import Any, Optional


class PaymentsError(Exception):
    """Anything the client could not do: an error answer, or no answer at all."""


class PaymentsConnectionError(PaymentsError):
    """No HTTP answer (connection refused or reset, timeout), after the retries that were safe."""


class ApiError(PaymentsError):
    """An error answer ``{"error": {"code", "message"}}`` from the API or from API Gateway.

    An unknown code (a newer API) is raised as this class itself, so callers can always catch it.
    """

    code = ""
    status = 0

    def __init__(self, status: int, code: str, message: str, *, request_id: Optional[str] = None,
                 retry_after: Optional[float] = None, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.request_id, self.retry_after, self.body = request_id, retry_after, body


class MalformedJsonError(ApiError):
    code, status = "malformed_json", 400


class InvalidRequestError(ApiError):
    code, status = "invalid_request", 400


class CardDataRejectedError(ApiError):
    code, status = "card_data_rejected", 400


class MissingIdempotencyKeyError(ApiError):
    code, status = "missing_idempotency_key", 400


class InvalidIdempotencyKeyError(ApiError):
    code, status = "invalid_idempotency_key", 400


class InvalidQueryError(ApiError):
    code, status = "invalid_query", 400


class InvalidCursorError(ApiError):
    code, status = "invalid_cursor", 400


class MerchantNotMappedError(ApiError):
    code, status = "merchant_not_mapped", 403


class MerchantMismatchError(ApiError):
    code, status = "merchant_mismatch", 403


class ForbiddenError(ApiError):
    code, status = "forbidden", 403


class RequestRefusedError(ApiError):
    """API Gateway refused the request (credentials, unknown route, ...): its status varies."""

    code, status = "request_refused", 403


class PaymentNotFoundError(ApiError):
    code, status = "payment_not_found", 404


class NotFoundError(ApiError):
    code, status = "not_found", 404


class RequestInProgressError(ApiError):
    code, status = "request_in_progress", 409


class PaymentNotCapturableError(ApiError):
    code, status = "payment_not_capturable", 409


class PaymentNotVoidableError(ApiError):
    code, status = "payment_not_voidable", 409


class PaymentNotRefundableError(ApiError):
    code, status = "payment_not_refundable", 409


class TooManyRefundsError(ApiError):
    code, status = "too_many_refunds", 409


class PaymentBusyError(ApiError):
    code, status = "payment_busy", 409


class PayloadTooLargeError(ApiError):
    code, status = "payload_too_large", 413


class IdempotencyKeyReusedError(ApiError):
    code, status = "idempotency_key_reused", 422


class AmountExceedsAuthorizedError(ApiError):
    code, status = "amount_exceeds_authorized", 422


class AmountExceedsRefundableError(ApiError):
    code, status = "amount_exceeds_refundable", 422


class ProviderDeclinedError(ApiError):
    code, status = "provider_declined", 422


class ThrottledError(ApiError):
    code, status = "throttled", 429


class InternalError(ApiError):
    code, status = "internal_error", 500


class OperationUnsupportedError(ApiError):
    code, status = "operation_unsupported", 501


class ProviderUnavailableError(ApiError):
    code, status = "provider_unavailable", 503


ERRORS: dict[str, type[ApiError]] = {cls.code: cls for cls in ApiError.__subclasses__()}


def error_from(status: int, body: Any, *, request_id: Optional[str] = None,
               retry_after: Optional[float] = None) -> ApiError:
    """The exception for an error answer: its code's class, or :class:`ApiError` for an unknown code."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) and isinstance(error.get("code"), str) else "unknown"
    message = error.get("message") if isinstance(error, dict) and isinstance(error.get("message"), str) else (
        body if isinstance(body, str) else f"HTTP {status}")
    if status == 403 and code == "unknown" and isinstance(body, dict) and "message" in body:
        code, message = "request_refused", str(body["message"])  # API Gateway's own default 403 body
    return ERRORS.get(code, ApiError)(status, code, message, request_id=request_id, retry_after=retry_after,
                                      body=body)
