"""The lifecycle routes: POST /payments/{payment_id}/capture, /void and /refunds, GET .../refunds.

Each acts for the caller's merchant only (another merchant's payment is not found), screens its body
for card data and validates it with the schema API Gateway also enforces, and needs an
``Idempotency-Key``: the same key, payment and body replay the first answer (Powertools, records in
the payments table keyed by merchant, payment, operation and key). A refused request writes nothing:
refusals happen before the transition is stored or undo it (``runtime.operations``).

Imported at the end of ``runtime.api``, whose resolver it adds the routes to.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from . import clients, operations
from .api import PAYMENT_ID, app, caller_merchant, idempotency_key, parse_body
from .errors import ApiError, validator
from .observability import metrics, tracer

_HERE = Path(__file__).parent
SCHEMAS = {operation: json.loads((_HERE / f"{operation}_request.schema.json").read_text())
           for operation in operations.OPERATIONS}
VALIDATORS = {operation: validator(schema) for operation, schema in SCHEMAS.items()}
# (method, path as API Gateway names it, operation or None for a read): payment_api/routes.py must agree.
ROUTES = (
    ("POST", "/payments/{payment_id}/capture", "capture"),
    ("POST", "/payments/{payment_id}/void", "void"),
    ("POST", "/payments/{payment_id}/refunds", "refund"),
    ("GET", "/payments/{payment_id}/refunds", None),
)


@cache
def _idempotency() -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    persistence = DynamoDBPersistenceLayer(table_name=os.environ["TABLE_NAME"], key_attr="payment_id",
                                           boto3_client=clients.dynamodb())
    config = IdempotencyConfig(
        event_key_jmespath="[merchant_id, payment_id, operation, idempotency_key]",
        payload_validation_jmespath="body",
        expires_after_seconds=int(os.environ.get("IDEMPOTENCY_TTL_SECONDS", "86400")),
        raise_on_no_idempotency_key=True,
    )
    return persistence, config


def _payment_id(payment_id: str) -> str:
    if not PAYMENT_ID.match(payment_id):
        raise ApiError(404, "payment_not_found", "no payment with this id")
    return payment_id


def _operate(operation: str, payment_id: str) -> Response:
    merchant = caller_merchant()
    payment_id = _payment_id(payment_id)
    raw = app.current_event.body
    body = parse_body(raw if raw and raw.strip() else "{}", VALIDATORS[operation])
    key = idempotency_key()
    persistence, config = _idempotency()
    if app.lambda_context is not None:
        config.register_lambda_context(app.lambda_context)
    run = idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)(_run)
    request = {"merchant_id": merchant, "payment_id": payment_id, "operation": operation, "idempotency_key": key,
               "body": body}
    try:
        status, result = run(request=request)
    except IdempotencyValidationError:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different body") from None
    except IdempotencyAlreadyInProgressError:
        raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key is in progress") from None
    metrics.add_metric(name=f"Payment{operation.title()}", unit=MetricUnit.Count, value=1)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(result))


def _run(request: dict[str, Any]) -> list[Any]:
    """Runs once per (merchant, payment, operation, key); a raised refusal stores no answer."""
    body = request["body"]
    op_id = operations.operation_id(request["merchant_id"], request["payment_id"], request["operation"],
                                    request["idempotency_key"])
    status, result = operations.perform(request["operation"], request["merchant_id"], request["payment_id"], op_id,
                                        amount=body.get("amount"), reason=body.get("reason"))
    return [status, result]


@app.post("/payments/<payment_id>/capture")
@tracer.capture_method
def capture_route(payment_id: str) -> Response:
    return _operate("capture", payment_id)


@app.post("/payments/<payment_id>/void")
@tracer.capture_method
def void_route(payment_id: str) -> Response:
    return _operate("void", payment_id)


@app.post("/payments/<payment_id>/refunds")
@tracer.capture_method
def refund_route(payment_id: str) -> Response:
    return _operate("refund", payment_id)


@app.get("/payments/<payment_id>/refunds")
@tracer.capture_method
def list_refunds_route(payment_id: str) -> Response:
    merchant = caller_merchant()
    payment = operations.load(merchant, _payment_id(payment_id))
    refunds = [operations.public_refund(payment, r) for r in payment.get("refunds") or []]
    body = {"refunds": refunds, "captured_amount": operations.states.captured_amount(payment),
            "refunded_amount": operations.states.refunded_amount(payment)}
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))
