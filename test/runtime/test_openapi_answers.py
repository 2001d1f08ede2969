"""The handler's answers are what the OpenAPI document says: each status is documented for its route, each
body validates against the documented schema, each error code is one the route documents (against moto)."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cdk_payments import openapi
from cdk_payments.runtime import api

from .conftest import FakeContext, api_event, valid_body
from .test_lifecycle import settle_queue

SPEC = openapi.document()
REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(SPEC, default_specification=DRAFT202012))


def check(event: dict, route: str) -> tuple[int, dict]:
    """Send ``event`` to the handler; assert its answer is documented for ``route`` ("GET /payments/{payment_id}")."""
    method, path = route.split(" ")
    response = api.handler(event, FakeContext())
    status, body = response["statusCode"], json.loads(response["body"])
    documented = SPEC["paths"][path][method.lower()]["responses"]
    assert str(status) in documented, (route, status, body)
    answer = documented[str(status)]
    schema = answer["content"]["application/json"]["schema"]
    Draft202012Validator({"$ref": "urn:openapi" + schema["$ref"]}, registry=REGISTRY,
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    if status >= 400:
        assert body["error"]["code"] in answer["content"]["application/json"]["examples"], (route, body)
    headers = {**response.get("headers", {}), **{k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}}
    assert set(headers) >= set(answer["headers"]) - {"Retry-After"} or status >= 500, (route, headers)
    assert ("Retry-After" in headers) is (status in (429, 503)), (route, status)
    return status, body


def post(path: str, body: dict | None, key: str | None = "openapi-key-0001") -> dict:
    return api_event("POST", path, body=body, headers={"Idempotency-Key": key} if key else {})


def test_every_route_answers_as_documented(aws):
    status, created = check(post("/payments", valid_body(capture="manual")), "POST /payments")
    assert status == 202
    payment = f"/payments/{created['payment_id']}"
    settle_queue(aws)
    assert check(api_event("GET", payment), "GET /payments/{payment_id}")[1]["status"] == "AUTHORIZED"
    page = check(api_event("GET", "/payments", query={"limit": "1"}), "GET /payments")[1]
    assert len(page["payments"]) == 1
    assert check(post(f"{payment}/capture", {"amount": 1000}, "capture-key-0001"),
                 "POST /payments/{payment_id}/capture")[0] == 200
    assert check(post(f"{payment}/refunds", {"amount": 100, "reason": "duplicate"}, "refund-key-0001"),
                 "POST /payments/{payment_id}/refunds")[0] == 200
    assert len(check(api_event("GET", f"{payment}/refunds"), "GET /payments/{payment_id}/refunds")[1]["refunds"]) == 1
    other = check(post("/payments", valid_body(capture="manual"), "openapi-key-0002"), "POST /payments")[1]
    voided = check(post(f"/payments/{other['payment_id']}/void", {}, "void-key-0001"), "POST /payments/{payment_id}/void")
    assert voided[1]["status"] == "VOIDED"


def test_refusals_are_documented_for_their_routes(aws):
    missing = "/payments/6f1c0000-0000-5000-8000-000000000000"
    refusals = [
        (post("/payments", valid_body(), key=None), "POST /payments", "missing_idempotency_key"),
        (post("/payments", valid_body(amount=0)), "POST /payments", "invalid_request"),
        (api_event("POST", "/payments", raw_body="{", headers={"Idempotency-Key": "openapi-key-0003"}),
         "POST /payments", "malformed_json"),
        (post("/payments", valid_body(merchant_id="merchant-43")), "POST /payments", "merchant_mismatch"),
        (api_event("GET", "/payments", caller="unmapped"), "GET /payments", "merchant_not_mapped"),
        (api_event("GET", "/payments", query={"colour": "red"}), "GET /payments", "invalid_query"),
        (api_event("GET", "/payments", query={"cursor": "forged"}), "GET /payments", "invalid_cursor"),
        (api_event("GET", missing), "GET /payments/{payment_id}", "payment_not_found"),
        (post(f"{missing}/capture", {"amount": 1}), "POST /payments/{payment_id}/capture", "payment_not_found"),
        (post(f"{missing}/void", {"amount": 1}), "POST /payments/{payment_id}/void", "invalid_request"),
        (post(f"{missing}/refunds", {}), "POST /payments/{payment_id}/refunds", "invalid_request"),
        (api_event("GET", f"{missing}/refunds"), "GET /payments/{payment_id}/refunds", "payment_not_found"),
    ]
    for event, route, code in refusals:
        assert check(event, route)[1]["error"]["code"] == code, route
