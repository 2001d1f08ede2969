"""The payment API's OpenAPI 3.1 document, built from what the API enforces: the route table
(``payment_api/routes.py``), the request schemas API Gateway and the handler both validate with
(``runtime/*.schema.json``), the list's query schema and the handler's answers (``runtime``), and one
exception class per error code (``client/errors.py``).

The built document ships in the wheel beside this module (``openapi.json``); :func:`document` reads
it with the standard library only. ``python -m cdk_payments.openapi --write`` rebuilds it (needs the
handler's dependencies: boto3 and Powertools, as in the project's environment), and a test fails
when the shipped copy is stale. See docs/openapi.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .payment_api.routes import Route

SPEC_FILE = Path(__file__).resolve().with_name("openapi.json")
REGENERATE = "python -m cdk_payments.openapi --write"
STAGE = "v1"  # SecurePaymentApi's stage (test/test_openapi.py checks it against the template)
GATEWAY_RETRY_AFTER = 1  # seconds, in API Gateway's 429 and 5xx answers (checked against the template)
SCHEMA_REF = "#/components/schemas/"
# JSON Schema keywords whose meaning differs between draft-04 (API Gateway's models) and 2020-12
# (OpenAPI 3.1): a request schema using one could not be copied into the document as it is.
DRAFT4_ONLY = frozenset({"exclusiveMinimum", "exclusiveMaximum", "id", "definitions", "dependencies"})

# Which refusals a route can answer: what every route can, then by what the route has (a body, an
# Idempotency-Key, a payment id in its path), then by what it does. The tests check these against
# the codes the handler raises and the gateway responses the construct sets.
EVERY_ROUTE = ("merchant_not_mapped", "forbidden", "request_refused", "throttled", "internal_error")
WITH_BODY = ("payload_too_large", "malformed_json", "card_data_rejected", "invalid_request")
WITH_IDEMPOTENCY_KEY = ("missing_idempotency_key", "invalid_idempotency_key", "card_data_rejected",
                        "request_in_progress", "idempotency_key_reused")
WITH_PAYMENT_ID = ("payment_not_found",)
PROVIDER_OPERATION = ("payment_busy", "provider_declined", "operation_unsupported", "provider_unavailable")
BY_OPERATION = {
    "create_payment": ("merchant_mismatch", "provider_unavailable"),
    "list_payments": ("invalid_query", "invalid_cursor"),
    "get_payment": (),
    "capture_payment": ("payment_not_capturable", "amount_exceeds_authorized", *PROVIDER_OPERATION),
    "void_payment": ("payment_not_voidable", *PROVIDER_OPERATION),
    "refund_payment": ("payment_not_refundable", "too_many_refunds", "amount_exceeds_refundable",
                       *PROVIDER_OPERATION),
    "list_refunds": (),
}
# Each operation's successful answers: (status, schema, when). 202: the provider's outcome is not known yet.
SUCCESS = {
    "create_payment": ((202, "CreatedPayment", "Recorded (PENDING, or FAILED when declined) and queued; "
                        "a retry with the same key and body answers the same"),),
    "list_payments": ((200, "PaymentPage", "One page of the caller's payments; follow next_cursor until null"),),
    "get_payment": ((200, "Payment", "The payment"),),
    "capture_payment": ((200, "Payment", "Captured"), (202, "Payment", "Sent to the provider; settled later")),
    "void_payment": ((200, "Payment", "Voided"), (202, "Payment", "Sent to the provider; settled later")),
    "refund_payment": ((200, "Refund", "Refunded"), (202, "Refund", "Sent to the provider; settled later")),
    "list_refunds": ((200, "RefundList", "The payment's refunds"),),
}
# Statuses API Gateway answers beside the codes' own: Cognito's 401, any other gateway refusal (4XX), and
# its own 5xx (integration failure or timeout), which carry Retry-After.
GATEWAY_STATUSES = {"request_refused": ("401", "4XX"), "internal_error": ("5XX",)}
RETRY_AFTER_STATUSES = ("429", "500", "503", "5XX")  # 500: when API Gateway answers it


def document() -> dict[str, Any]:
    """The shipped OpenAPI document (standard library only)."""
    return json.loads(SPEC_FILE.read_text())


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


def route_errors(route: Route) -> tuple[str, ...]:
    """The error codes ``route`` can answer, in a stable order, each once."""
    codes = [*EVERY_ROUTE, *(WITH_BODY if route.schema else ()),
             *(WITH_IDEMPOTENCY_KEY if route.idempotency_key else ()),
             *(WITH_PAYMENT_ID if "payment_id" in route.path_parameters else ()), *BY_OPERATION[route.operation]]
    return tuple(dict.fromkeys(codes))


def request_schema(file: str) -> dict[str, Any]:
    """A request schema as OpenAPI 3.1 reads it: the file API Gateway and the handler read, minus its
    draft-04 ``$schema`` (the keywords it uses mean the same in JSON Schema 2020-12)."""
    from .payment_api.routes import RUNTIME

    schema = json.loads((RUNTIME / file).read_text())
    assert schema.pop("$schema") == "http://json-schema.org/draft-04/schema#", file
    used = _keywords(schema) & DRAFT4_ONLY
    if used:
        raise ValueError(f"{file} uses {sorted(used)}, which mean something else in JSON Schema 2020-12")
    return schema


def build() -> dict[str, Any]:
    """The document, from the route table, the schemas and the error classes."""
    from .client.errors import ERRORS
    from .payment_api.routes import ROUTES

    undescribed = [f"{route.method} {route.path}" for route in ROUTES
                   if route.operation not in SUCCESS or route.operation not in BY_OPERATION]
    if undescribed:
        raise ValueError(f"routes without an operation in SUCCESS and BY_OPERATION: {', '.join(undescribed)}; "
                         "name each route's operation in payment_api/routes.py and describe it here")
    status_of = {code: str(cls.status) for code, cls in ERRORS.items()}
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, status_of)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cdk-payments payment API",
            "version": STAGE,
            "summary": "Idempotent card payments (authorize, capture, void, refund) for one merchant per caller",
            "description": _read("info"),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{
            "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/" + STAGE,
            "description": "A SecurePaymentApi's stage (the example's ApiUrl output)",
            "variables": {"restApiId": {"default": "abc123defg"}, "region": {"default": "eu-west-1"}},
        }],
        "security": [{"sigv4": []}, {"cognito": []}, {"api_key": []}],
        "tags": [{"name": "payments"}],
        "paths": paths,
        "components": _components(ERRORS, ROUTES),
    }


def _operation(route: Route, status_of: dict[str, str]) -> dict[str, Any]:
    parameters = [{"$ref": "#/components/parameters/PaymentId"}] if route.path_parameters else []
    if route.idempotency_key:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if route.operation == "list_payments":
        parameters += [{"$ref": f"#/components/parameters/{name}"} for name in _query_parameters()]
    operation: dict[str, Any] = {"operationId": route.operation, "summary": route.summary, "tags": ["payments"]}
    if parameters:
        operation["parameters"] = parameters
    if route.schema:
        # A body with no required field may be left out (the handler reads none as {}).
        operation["requestBody"] = {"required": bool(request_schema(route.schema).get("required")), "content": {
            "application/json": {"schema": {"$ref": SCHEMA_REF + route.model}}}}
    responses: dict[str, Any] = {}
    for status, schema, when in SUCCESS[route.operation]:
        responses[str(status)] = {"description": when, "headers": _headers(str(status)),
                                  "content": {"application/json": {"schema": {"$ref": SCHEMA_REF + schema}}}}
    by_status: dict[str, list[str]] = {}
    for code in route_errors(route):
        for status in (status_of[code], *GATEWAY_STATUSES.get(code, ())):
            by_status.setdefault(status, []).append(code)
    for status in sorted(by_status, key=lambda s: (s[0], s)):
        codes = by_status[status]
        responses[status] = {
            "description": "error.code: " + ", ".join(f"`{code}`" for code in codes),
            "headers": _headers(status),
            "content": {"application/json": {"schema": {"$ref": SCHEMA_REF + "Error"}, "examples": {
                code: {"$ref": "#/components/examples/" + code} for code in codes}}},
        }
    operation["responses"] = responses
    return operation


def _headers(status: str) -> dict[str, Any]:
    headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if status in RETRY_AFTER_STATUSES:
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    return headers


def _query_parameters() -> dict[str, dict[str, Any]]:
    """GET /payments' query string, from the schema the handler validates it with."""
    from .runtime.listing import DEFAULT_LIMIT, MAX_LIMIT, QUERY_SCHEMA

    schemas = dict(QUERY_SCHEMA["properties"])
    # The handler reads the string as a number; to a client it is one.
    schemas["limit"] = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
    schemas["created_from"] = schemas["created_to"] = {**schemas["created_from"], "format": "date-time"}
    said = {"limit": "Page size.", "status": "Only payments in this status (a page may then hold fewer than limit).",
            "created_from": "Created at or after (ISO 8601 with an offset).",
            "created_to": "Created at or before (ISO 8601 with an offset).",
            "cursor": "The previous page's next_cursor, with the same status and time range."}
    return {name.title().replace("_", ""): {"name": name, "in": "query", "required": False,
                                            "description": said[name], "schema": schema}
            for name, schema in schemas.items()}


def _components(errors: dict[str, Any], routes: tuple[Route, ...]) -> dict[str, Any]:
    from .runtime.api import IDEMPOTENCY_KEY, RETRY_AFTER_SECONDS
    from .runtime.listing import SUMMARY_FIELDS
    from .runtime.operations import PUBLIC_FIELDS
    from .runtime.states import STATUSES

    create = request_schema("payment_request.schema.json")
    integer = {"type": "integer", "minimum": 0}
    stamp = {"type": "string", "format": "date-time"}
    settled = {"type": "string", "enum": ["PENDING", "SUCCEEDED"]}
    # Answers are described less strictly than requests (a currency added later is still a currency).
    fields = {
        "payment_id": {"type": "string", "format": "uuid"}, "merchant_id": {"type": "string"}, "amount": integer,
        "currency": {"type": "string", "description": "ISO 4217"}, "status": {"$ref": SCHEMA_REF + "PaymentStatus"},
        "description": {"type": "string"}, "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "created_at": stamp, "updated_at": stamp,
        "decline_reason": {"type": "string", "description": "The provider's code, such as card_declined."},
        "capture": create["properties"]["capture"], "captured_amount": integer, "capture_status": settled,
        "void_status": settled, "refunded_amount": integer,
    }

    def obj(names: tuple[str, ...], required: tuple[str, ...], description: str) -> dict[str, Any]:
        return {"type": "object", "description": description, "required": list(required),
                "properties": {name: fields[name] for name in names}}

    payment = (*PUBLIC_FIELDS, "refunded_amount")
    schemas: dict[str, Any] = {
        **{route.model: request_schema(route.schema) for route in routes if route.schema},
        "PaymentStatus": {"type": "string", "enum": list(STATUSES)},
        "CreatedPayment": obj(("payment_id", "status", "decline_reason"), ("payment_id", "status"),
                              "The answer to POST /payments."),
        "Payment": obj(payment, ("payment_id", "merchant_id", "amount", "currency", "status", "created_at",
                                 "updated_at", "capture", "captured_amount", "refunded_amount"),
                       "A payment (never its token or the provider's reference)."),
        "PaymentSummary": obj(SUMMARY_FIELDS, SUMMARY_FIELDS, "A list item; GET /payments/{payment_id} has the rest."),
        "PaymentPage": {"type": "object", "required": ["payments", "next_cursor"], "properties": {
            "payments": {"type": "array", "items": {"$ref": SCHEMA_REF + "PaymentSummary"}},
            "next_cursor": {"type": ["string", "null"], "description": "Opaque; null on the last page."}}},
        "Refund": {"type": "object", "required": ["refund_id", "payment_id", "amount", "currency", "status",
                                                  "created_at"], "properties": {
            "refund_id": {"type": "string", "format": "uuid"}, "payment_id": fields["payment_id"],
            "amount": fields["amount"], "currency": fields["currency"], "status": settled, "created_at": stamp,
            "reason": request_schema("refund_request.schema.json")["properties"]["reason"]}},
        "RefundList": {"type": "object", "required": ["refunds", "captured_amount", "refunded_amount"],
                       "properties": {"refunds": {"type": "array", "items": {"$ref": SCHEMA_REF + "Refund"}},
                                      "captured_amount": integer, "refunded_amount": integer}},
        "ErrorCode": {"type": "string", "enum": list(errors), "description": "Each code's usual status: " + ", ".join(
            f"{code} {cls.status}" for code, cls in errors.items()) + ". not_found is the handler's answer to a route "
            "it does not have, which API Gateway never forwards. An unknown code may be added: treat it by its "
            "HTTP status."},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"$ref": SCHEMA_REF + "ErrorCode"}, "message": {"type": "string"}}}}},
    }
    return {
        "schemas": schemas,
        "examples": {code: {"summary": f"{cls.status} {code}", "value": {"error": {"code": code, "message": "..."}}}
                     for code, cls in errors.items()},
        "parameters": {
            "PaymentId": {"name": "payment_id", "in": "path", "required": True, "schema": fields["payment_id"],
                          "description": "Another merchant's payment is not found (404), as one that does not exist."},
            "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": True, "description": _read(
                "idempotency"), "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern}},
            **_query_parameters(),
        },
        "headers": {
            "X-Request-Id": {"description": "API Gateway's request id, as in the access log and the handler's "
                             "logs: quote it when asking for support.", "schema": {"type": "string"}},
            "Retry-After": {"description": f"Seconds to wait before retrying with the same Idempotency-Key: "
                            f"{GATEWAY_RETRY_AFTER} from API Gateway (429, 5xx), {RETRY_AFTER_SECONDS} from the "
                            "handler (503).", "schema": {"type": "integer", "minimum": 0}},
        },
        "securitySchemes": {
            "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype":
                      "awsSigv4", "description": _read("sigv4")},
            "cognito": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype":
                        "cognito_user_pools", "description": _read("cognito")},
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header", "description": _read("api_key")},
        },
    }


def _read(part: str) -> str:
    """Prose of the document that no code holds."""
    return {
        "info": "A SecurePaymentApi (cdk-payments). Every request acts for the merchant of its authenticated "
                "identity, never one named in the request. Every answer, success or error, from the handler or from "
                "API Gateway, carries X-Request-Id; every error is {\"error\": {\"code\", \"message\"}}. A refused "
                "request writes nothing. GET /payments pages with next_cursor. Query parameters whose names start "
                "with X-Amz- (SigV4 query authentication) are ignored; any other unknown one is refused.",
        "idempotency": "8 to 255 of [A-Za-z0-9_.:-], never a card number. For 24 hours the same key from the same "
                       "merchant with the same body answers as the first request did and does nothing again; with "
                       "another body it is refused (422). Retry a 5xx or a lost answer with the same key and body.",
        "sigv4": "IAM authorization (the default): AWS Signature Version 4 for the execute-api service, by a role "
                 "allowed execute-api:Invoke and mapped to a merchant (merchant_roles).",
        "cognito": "PaymentApiAuthorization.COGNITO: a user pool ID token whose custom:merchant_id claim names the "
                   "merchant.",
        "api_key": "PaymentApiAuthorization.API_KEY: the merchant's own API key (one per merchant in merchants).",
    }[part]


def _keywords(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = set(schema)
        for key, value in schema.items():
            found |= set().union(*map(_keywords, value.values())) if key == "properties" else _keywords(value)
        return found
    return set().union(*map(_keywords, schema)) if isinstance(schema, list) else set()


def main(argv: list[str]) -> int:
    text = render(build())
    if argv == ["--write"]:
        SPEC_FILE.write_text(text)
    elif argv == ["--check"]:
        if SPEC_FILE.read_text() != text:
            print(f"{SPEC_FILE} is stale: run `{REGENERATE}`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
