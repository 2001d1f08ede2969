"""The payment API's route table: every endpoint's method, path, request model and parameters, in one
place that the construct builds from and that the handler's router is tested against.

The first three routes are built by ``gateway._create_api`` as in 0.1 (their logical ids,
validators and cache settings stay as deployed); the lifecycle routes are built here. The table itself
needs no aws_cdk (only the builders below import it), so ``cdk_payments.openapi`` reads it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from aws_cdk import aws_apigateway as apigw

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """As API Gateway names it: ``/payments/{payment_id}/capture``."""
    schema: Optional[str] = None
    """The request body's JSON Schema, a file in ``runtime/`` that the handler validates with too."""
    model: Optional[str] = None
    """The API Gateway model's name."""
    idempotency_key: bool = False
    """``Idempotency-Key`` is a required header."""
    built_in_construct: bool = False
    """Built by the construct itself (the 0.1 routes); False: by :func:`add_routes`."""
    operation: str = ""
    """The operation's name: its OpenAPI ``operationId`` and the ``cdk_payments.client`` method."""
    summary: str = ""
    """One line for the OpenAPI document."""

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))


ROUTES = (
    Route("POST", "/payments", "payment_request.schema.json", "CreatePaymentRequest", True, True,
          operation="create_payment", summary="Authorize a payment (idempotent)"),
    Route("GET", "/payments", built_in_construct=True,
          operation="list_payments", summary="List the caller's payments, newest first, a page at a time"),
    Route("GET", "/payments/{payment_id}", built_in_construct=True,
          operation="get_payment", summary="Read one of the caller's payments"),
    Route("POST", "/payments/{payment_id}/capture", "capture_request.schema.json", "CapturePaymentRequest", True,
          operation="capture_payment", summary="Capture a manual-capture payment, in full or in part"),
    Route("POST", "/payments/{payment_id}/void", "void_request.schema.json", "VoidPaymentRequest", True,
          operation="void_payment", summary="Void an authorization before capture"),
    Route("POST", "/payments/{payment_id}/refunds", "refund_request.schema.json", "RefundPaymentRequest", True,
          operation="refund_payment", summary="Refund a captured payment, in full or in part"),
    Route("GET", "/payments/{payment_id}/refunds",
          operation="list_refunds", summary="A payment's refunds and amounts"),
)


def never_cached() -> dict[str, apigw.MethodDeploymentOptions]:
    """Stage method options for the table's reads that the prod API cache must never serve: their
    answers depend on the caller, and their cache keys name no credential."""
    from aws_cdk import aws_apigateway as apigw

    return {f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(caching_enabled=False)
            for route in ROUTES if route.method == "GET" and not route.built_in_construct}


def add_routes(api: apigw.RestApi, integration: apigw.Integration) -> list[apigw.Method]:
    """The routes the construct does not build itself, each validated by API Gateway (its body
    against the schema the handler enforces, its required header and path parameters)."""
    from aws_cdk import aws_apigateway as apigw

    validator = api.add_request_validator("LifecycleValidator", validate_request_body=True,
                                          validate_request_parameters=True)
    methods = []
    for route in ROUTES:
        if route.built_in_construct:
            continue
        models = None
        if route.schema:
            model = api.add_model(route.model, content_type="application/json",
                                  schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4,
                                                          type=apigw.JsonSchemaType.OBJECT))
            # The exact schema the handler validates with, from the one file both read.
            model.node.default_child.add_property_override("Schema", json.loads((RUNTIME / route.schema).read_text()))
            models = {"application/json": model}
        parameters = {f"method.request.path.{name}": True for name in route.path_parameters}
        if route.idempotency_key:
            parameters["method.request.header.Idempotency-Key"] = True
        methods.append(api.root.resource_for_path(route.path).add_method(
            route.method, integration, request_validator=validator, request_models=models,
            request_parameters=parameters,
        ))
    return methods
