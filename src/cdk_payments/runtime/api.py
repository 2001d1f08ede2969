"""The payment API: POST /payments (idempotent intake), GET /payments/{payment_id} and GET /payments.

Every route acts for the merchant of the authenticated identity (``merchants.merchant_of``), which
is resolved first: an identity that maps to no merchant is refused before anything is read or
written, a body naming another merchant is refused, and another merchant's payment is "not found".

Every error is a JSON ``{"error": {"code", "message"}}`` with a 4xx or 5xx status, and a refused
request writes nothing: validation happens before any write, and a request that fails after its
claim removes the claim (``intake``).
"""

from __future__ import annotations

import gc
import json
import os
import re
from pathlib import Path
from typing import Any

# Importing a handler creates some 75,000 objects (boto3, Powertools) that live as long as the execution
# environment, so the garbage collector's passes over them free nothing: no collection while they load,
# then gc.freeze() keeps them out of later ones (about 7% of the import, and shorter collections after).
_collecting = gc.isenabled()
gc.disable()
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_lambda_powertools.utilities.validation import SchemaValidationError

from . import clients, intake, providers
from .errors import ApiError, validator
from .listing import list_payments, parse_query
from .merchants import merchant_of
from .observability import logger, metrics, tracer
from .operations import public_payment
from .pan import contains_pan

gc.freeze()
if _collecting:
    gc.enable()

SCHEMA = json.loads((Path(__file__).parent / "payment_request.schema.json").read_text())
validate_request = validator(SCHEMA)
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", "8192"))
RETRY_AFTER_SECONDS = 2
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,255}$")
# Version 5 (derived from the merchant and its Idempotency-Key, see intake.payment_id_for), or 4 (before 0.4).
PAYMENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# DynamoDB's refusal of a write that a request in another region is making to the same item at once.
WRITE_CONFLICT = "ReplicatedWriteConflictException"
app = APIGatewayRestResolver()


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    # A 503 says when a retry (with the same Idempotency-Key) may succeed, in seconds. (API Gateway answers
    # its own 429s.)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@app.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response:
    logger.info("request refused", extra={"code": error.code, "status": error.status})
    metrics.add_metric(name="PaymentRequestRefused", unit=MetricUnit.Count, value=1)
    return _error(error.status, error.code, error.message)


@app.not_found
def _not_found(_: Exception) -> Response:
    return _error(404, "not_found", "no such resource")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    if _write_conflict(error):
        # Another region wrote the same item at the same moment (a strongly consistent global table,
        # ResilienceTier.ACTIVE_ACTIVE). DynamoDB wrote nothing of this request; a retry finds the other write.
        logger.info("write conflict with another region")
        return _error(409, "request_in_progress", "a request for this payment is being written in another region; "
                                                  "retry with the same Idempotency-Key")
    logger.exception("unexpected error")
    return _error(500, "internal_error", "the payment could not be processed; retry with the same Idempotency-Key")


def _write_conflict(error: BaseException | None) -> bool:
    """Whether DynamoDB refused a write of ``error``'s chain (Powertools' idempotency wraps its own) because a
    request in another region was modifying the same item."""
    while error is not None:
        if getattr(error, "response", {}).get("Error", {}).get("Code") == WRITE_CONFLICT:
            return True
        error = error.__cause__
    return False


def parse_body(raw: str | None, validate: Any = None) -> dict[str, Any]:
    """The request body, checked in the order that keeps card data out of everything after it;
    ``validate``: another schema's validator (the lifecycle routes')."""
    raw = raw or ""
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from None
    if contains_pan(body):
        raise ApiError(400, "card_data_rejected", "card numbers must never be sent; send the provider's token")
    try:
        (validate or validate_request)(body)
    except SchemaValidationError as error:
        raise ApiError(400, "invalid_request", _schema_message(error)) from None
    return body


def caller_merchant() -> str:
    """The authenticated caller's merchant, or a 403 before anything is read or written."""
    context = app.current_event.raw_event.get("requestContext")
    merchant = merchant_of(context)
    if merchant is None:
        identity = (context or {}).get("identity") or {}
        logger.warning("identity maps to no merchant", extra={"api_key_id": identity.get("apiKeyId"),
                                                              "user_arn": identity.get("userArn")})
        raise ApiError(403, "merchant_not_mapped", "the authenticated identity is not mapped to a merchant")
    return merchant


def idempotency_key() -> str:
    """The request's Idempotency-Key header, or a 400."""
    key = app.current_event.headers.get("Idempotency-Key")  # Powertools' headers ignore case
    if not key:
        raise ApiError(400, "missing_idempotency_key", "the Idempotency-Key header is required")
    if not IDEMPOTENCY_KEY.match(key):
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 8 to 255 of [A-Za-z0-9_.:-]")
    if contains_pan(key):  # the one header the API reads and stores (hashed) must not carry card data
        raise ApiError(400, "card_data_rejected", "card numbers must never be sent; send the provider's token")
    return key


def _schema_message(error: SchemaValidationError) -> str:
    field = ".".join(str(p) for p in (error.path or []) if p != "data") or "body"
    return f"{field}: {error.validation_message}"


@app.post("/payments")
@tracer.capture_method
def create_payment_route() -> Response:
    merchant = caller_merchant()
    body = parse_body(app.current_event.body)
    # Omitted means the caller's; set it so a retry with or without it is the same request.
    if body.setdefault("merchant_id", merchant) != merchant:
        raise ApiError(403, "merchant_mismatch", "merchant_id is not the authenticated caller's merchant")
    key = idempotency_key()
    result = intake.create(merchant, key, body, authorize=_authorize,
                           remaining_ms=app.lambda_context.get_remaining_time_in_millis())
    logger.info("payment accepted", extra={"payment_id": result["payment_id"], "merchant_id": merchant,
                                           "status": result["status"]})
    metrics.add_metric(name="PaymentAccepted", unit=MetricUnit.Count, value=1)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=json.dumps(result))


def _authorize(payment_id: str, body: dict[str, Any]) -> providers.Authorization:
    """The provider's answer; RETRYABLE raises a 503 (``intake`` then removes its claim)."""
    request = providers.AuthorizationRequest(
        payment_id=payment_id, payment_method_token=body["payment_method_token"], amount=body["amount"],
        currency=body["currency"], merchant_id=body["merchant_id"],
    )
    authorization = providers.provider().authorize(request, providers.credentials())
    metrics.add_metric(name=f"Provider{authorization.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    if authorization.outcome is providers.Outcome.RETRYABLE:
        logger.warning("provider unavailable", extra={"payment_id": payment_id, "detail": authorization.detail})
        raise ApiError(503, "provider_unavailable",
                       "the payment provider is unavailable; retry with the same Idempotency-Key")
    if authorization.outcome is providers.Outcome.UNKNOWN:
        logger.warning("provider outcome unknown", extra={"payment_id": payment_id, "detail": authorization.detail})
    return authorization


@app.get("/payments/<payment_id>")
@tracer.capture_method
def get_payment(payment_id: str) -> Response:
    merchant = caller_merchant()
    if not PAYMENT_ID.match(payment_id):
        raise ApiError(404, "payment_not_found", "no payment with this id")
    item = clients.table().get_item(Key={"payment_id": payment_id}).get("Item")
    if not item or item.get("merchant_id") != merchant:  # another merchant's payment does not exist for you
        raise ApiError(404, "payment_not_found", "no payment with this id")
    public = public_payment(item)
    metrics.add_metric(name="PaymentRead", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(public))


@app.get("/payments")
@tracer.capture_method
def list_payments_route() -> Response:
    merchant = caller_merchant()
    event = app.current_event
    query = parse_query(event.query_string_parameters, event.multi_value_query_string_parameters)
    page = list_payments(merchant, query)
    metrics.add_metric(name="PaymentsListed", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(page, default=int))


from . import lifecycle  # noqa: E402,F401  (its routes: capture, void, refunds)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    # API Gateway's request id (its gateway responses and access log carry the same one), so a
    # merchant's support request can be matched with the logs; Lambda's own id outside API Gateway.
    request_id = (event.get("requestContext") or {}).get("requestId") or context.aws_request_id
    response.setdefault("multiValueHeaders", {})["X-Request-Id"] = [request_id]
    return response
