"""The OpenAPI document: fresh, valid OpenAPI 3.1, and the API the construct and the example deploy (routes,
authorization, required headers, request models, gateway responses), every error code, the typed client."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from aws_cdk import aws_cognito as cognito
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from cdk_payments import PaymentApiAuthorization, SecurePaymentApi, openapi
from cdk_payments.client import ERRORS, PaymentsClient
from cdk_payments.payment_api.routes import ROUTES

from .harness import synth

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "src" / "cdk_payments" / "runtime"
SPEC = openapi.document()
OPERATIONS = {(method.upper(), path): op for path, item in SPEC["paths"].items() for method, op in item.items()}
SCHEME = {"AWS_IAM": "sigv4", "COGNITO_USER_POOLS": "cognito"}


def resolve(node):
    """``node`` with its ``$ref`` (a JSON pointer into the document) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameters(op):
    return {(p["in"], p["name"]): p for p in map(resolve, op.get("parameters", []))}


def test_the_shipped_document_is_fresh():
    assert openapi.render(openapi.build()) == openapi.SPEC_FILE.read_text(), (
        f"src/cdk_payments/openapi.json is stale: run `{openapi.REGENERATE}`")


def test_it_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(SPEC).validate()


def test_the_document_and_the_route_table_load_without_aws_cdk_or_boto3():
    blocked = "aws_cdk", "constructs", "jsii", "boto3", "botocore"
    code = ("import sys\nclass Block:\n    def find_spec(self, name, path, target=None):\n"
            f"        if name.split('.')[0] in {blocked!r}: raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from cdk_payments.openapi import document\nfrom cdk_payments.payment_api.routes import ROUTES\n"
            "assert len(document()['paths']) and ROUTES\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_each_route_of_the_table_is_one_operation():
    assert set(OPERATIONS) == {(route.method, route.path) for route in ROUTES}
    assert [op["operationId"] for op in OPERATIONS.values()] == [route.operation for route in ROUTES]


def test_a_route_without_a_described_operation_is_refused(monkeypatch):
    from cdk_payments.payment_api import routes

    monkeypatch.setattr(routes, "ROUTES", (*ROUTES, routes.Route("POST", "/webhooks", operation="add_webhook")))
    with pytest.raises(ValueError, match="POST /webhooks"):
        openapi.build()


# -- the deployed API: the construct in each authorization mode, and the example ---------------------
@pytest.fixture(scope="module")
def construct_template():
    def build(stack):
        SecurePaymentApi(stack, "Iam")
        SecurePaymentApi(stack, "Cognito", authorization=PaymentApiAuthorization.COGNITO, configure_api_gateway_account=False,
                         user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_abc"))
        SecurePaymentApi(stack, "Keys", authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                         configure_api_gateway_account=False)

    return synth(build, nag=False).json


@pytest.fixture(scope="module", params=["construct", "example-dev", "example-prod"])
def template(request, construct_template, example_assemblies):
    if request.param == "construct":
        return construct_template
    return example_assemblies.template(request.param.removeprefix("example-"))


def deployed_methods(template) -> dict[str, dict[tuple[str, str], dict]]:
    """Each REST API's methods by (HTTP method, path), read from the template's resources."""
    resources = template["Resources"]

    def path_of(ref) -> str:
        if "Fn::GetAtt" in ref:  # the API's root resource
            return ""
        part = resources[ref["Ref"]]["Properties"]
        return f"{path_of(part['ParentId'])}/{part['PathPart']}"

    apis: dict[str, dict] = {name: {} for name, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"}
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGateway::Method":
            props = resource["Properties"]
            apis[props["RestApiId"]["Ref"]][(props["HttpMethod"], path_of(props["ResourceId"]) or "/")] = props
    return apis


def test_every_deployed_method_is_in_the_document_and_every_operation_is_deployed(template):
    apis = deployed_methods(template)
    assert apis
    for methods in apis.values():
        # CORS preflights (when cors_allowed_origins is set) are API Gateway's own mock answers.
        routes = {key for key, props in methods.items()
                  if not (key[0] == "OPTIONS" and props["Integration"]["Type"] == "MOCK")}
        assert routes == set(OPERATIONS)


def test_authorization_required_headers_and_path_parameters_are_as_deployed(template):
    schemes = {next(iter(s)) for s in SPEC["security"]}
    for methods in deployed_methods(template).values():
        for key, props in methods.items():
            op = OPERATIONS[key]
            scheme = "api_key" if props.get("ApiKeyRequired") else SCHEME[props["AuthorizationType"]]
            assert scheme in schemes and scheme in SPEC["components"]["securitySchemes"]
            required = {name for name, on in props.get("RequestParameters", {}).items() if on}
            documented = {f"method.request.{where.replace('query', 'querystring')}.{name}"
                          for (where, name), p in parameters(op).items() if p["required"]}
            assert required <= documented, key
            assert {r for r in documented if ".header." in r} <= required, key


def test_request_schemas_are_the_api_gateway_models(template):
    resources = template["Resources"]
    for methods in deployed_methods(template).values():
        for key, props in methods.items():
            body = OPERATIONS[key].get("requestBody")
            models = props.get("RequestModels", {})
            assert set(models) == set(body["content"] if body else ()), key
            for content_type, ref in models.items():
                model = resources[ref["Ref"]]["Properties"]["Schema"]
                assert model["$schema"] == "http://json-schema.org/draft-04/schema#"
                documented = resolve(body["content"][content_type]["schema"])
                assert documented == {k: v for k, v in model.items() if k != "$schema"}, key


def test_gateway_responses_are_documented_on_every_route_they_answer(template):
    gateway = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"]
    assert {g["ResponseType"] for g in gateway} >= {"THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX", "WAF_FILTERED"}
    for response in gateway:
        (code,) = re.findall(r'"code":"(\w+)"', response["ResponseTemplates"]["application/json"])
        statuses = ([response["StatusCode"]] if "StatusCode" in response
                    else [s for s in (str(ERRORS[code].status), *openapi.GATEWAY_STATUSES.get(code, ()))])
        headers = {h.removeprefix("gatewayresponse.header."): v for h, v in response["ResponseParameters"].items()}
        assert headers["X-Request-Id"] == "context.requestId"
        if "Retry-After" in headers:
            assert headers["Retry-After"] == f"'{openapi.GATEWAY_RETRY_AFTER}'"
        for key, op in OPERATIONS.items():
            if response["ResponseType"] == "BAD_REQUEST_BODY" and "requestBody" not in op:
                continue  # no model to fail
            if response["ResponseType"] == "BAD_REQUEST_PARAMETERS" and ("header", "Idempotency-Key") not in parameters(op):
                continue  # a path parameter is never missing
            for status in statuses:
                answer = op["responses"][status]
                assert code in answer["content"]["application/json"]["examples"], (key, status, code)
                assert set(headers) <= set(answer["headers"]), (key, status)


def test_the_stage_is_the_documented_server():
    (server,) = SPEC["servers"]
    assert urlsplit(server["url"]).path == f"/{openapi.STAGE}"


def test_the_example_publishes_the_shipped_document(example_assemblies):
    """As a file asset (content-addressed: the same document, the same object key) named by an output."""
    outdir = example_assemblies.get("dev")
    template = example_assemblies.template("dev")
    assets = json.loads((outdir / "PaymentPlatform-dev.assets.json").read_text())["files"]
    (published,) = [a for a in assets.values() if a["source"]["path"].endswith(".json")
                    and (outdir / a["source"]["path"]).read_bytes() == openapi.SPEC_FILE.read_bytes()]
    (destination,) = published["destinations"].values()
    url = json.dumps(template["Outputs"]["OpenApiUrl"]["Value"])
    assert destination["objectKey"] in url


# -- error codes --------------------------------------------------------------------------------------
def documented_codes(op) -> dict[str, set[str]]:
    """code -> the statuses it is documented with on ``op``."""
    codes: dict[str, set[str]] = {}
    for status, answer in op["responses"].items():
        for code in answer.get("content", {}).get("application/json", {}).get("examples", {}):
            codes.setdefault(code, set()).add(status)
    return codes


def test_every_error_code_is_documented_with_its_status():
    assert SPEC["components"]["schemas"]["ErrorCode"]["enum"] == list(ERRORS)
    on_routes: dict[str, set[str]] = {}
    for op in OPERATIONS.values():
        for code, statuses in documented_codes(op).items():
            on_routes.setdefault(code, set()).update(statuses)
    # not_found: the handler's answer to a route API Gateway forwards and it lacks (the route table and
    # the router are kept equal by test/runtime/test_lifecycle.py), so no route answers it.
    assert set(on_routes) == set(ERRORS) - {"not_found"}
    for code, statuses in on_routes.items():
        assert statuses == {str(ERRORS[code].status), *openapi.GATEWAY_STATUSES.get(code, ())}, code


def raised_codes() -> set[tuple[int, str]]:
    """Every (status, code) the handler code raises as ``ApiError(status, "code", ...)``."""
    found = set()
    for source in RUNTIME.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ApiError" and len(node.args) >= 2:
                status, code = node.args[:2]
                if isinstance(status, ast.Constant) and isinstance(code, ast.Constant):
                    found.add((status.value, code.value))
    return found


def test_every_code_the_handler_raises_is_documented_with_its_status():
    raised = raised_codes()
    assert len(raised) >= 20
    documented = {(int(status), code) for op in OPERATIONS.values()
                  for code, statuses in documented_codes(op).items() for status in statuses if status.isdigit()}
    assert raised <= documented


def test_retry_after_is_documented_on_429_503_and_5xx():
    for op in OPERATIONS.values():
        for status, answer in op["responses"].items():
            assert "X-Request-Id" in answer["headers"]
            assert ("Retry-After" in answer["headers"]) is (status in ("429", "500", "503", "5XX")), status


# -- the typed client ----------------------------------------------------------------------------------
class Recorder(PaymentsClient):
    """The client with its HTTP replaced by a recorder of its logical requests."""

    ANSWER = {"payment_id": "p1", "merchant_id": "m", "amount": 1, "currency": "EUR", "status": "PENDING",
              "created_at": "2026-01-01T00:00:00+00:00", "payments": [], "next_cursor": None}

    def __init__(self):
        session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1")
        super().__init__("https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1/", session=session)
        self.sent = []

    def request(self, method, path, *, body=None, query=None, headers=None):
        self.sent.append((method, "/" + path, body, dict(headers or {})))
        return self.ANSWER


PAYMENT_ID = "6f1c0000-0000-5000-8000-000000000000"
CALLS = {"create_payment": dict(amount=1250, currency="EUR", payment_method_token="tok_visa_abcdef12"),
         "refund_payment": dict(amount=100, reason="duplicate")}


@pytest.mark.parametrize("key", list(OPERATIONS), ids=lambda k: OPERATIONS[k]["operationId"])
def test_the_client_has_each_operation_and_sends_what_it_documents(key):
    op = OPERATIONS[key]
    client = Recorder()
    method = getattr(client, op["operationId"])  # the client method of the same name
    args = () if "{payment_id}" not in key[1] else (PAYMENT_ID,)
    result = method(*args, **CALLS.get(op["operationId"], {}))
    if op["operationId"] == "list_payments":
        list(result)
    ((sent_method, path, body, headers),) = client.sent
    assert (sent_method, path) == (key[0], key[1].replace("{payment_id}", PAYMENT_ID))
    assert ("Idempotency-Key" in headers) is (("header", "Idempotency-Key") in parameters(op))
    if "requestBody" in op:
        Draft202012Validator(resolve(op["requestBody"]["content"]["application/json"]["schema"])).validate(body)
    else:
        assert body is None


def test_the_clients_list_filters_are_the_documented_query_parameters():
    import inspect

    documented = {name for (where, name) in parameters(OPERATIONS[("GET", "/payments")]) if where == "query"}
    assert set(inspect.signature(PaymentsClient.list_payments_page).parameters) - {"self"} == documented
