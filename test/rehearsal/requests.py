"""The requests the rehearsal sends, built in one place: API Gateway's REST proxy event for a caller.

API Gateway, not the emulator, builds this event in AWS; here it is built as API Gateway would for the
deployed method (its resource path and HTTP method come from what was deployed). The caller is an
IAM-authenticated merchant (the example's API uses IAM authorization): when the handlers take the
merchant from the authenticated identity instead of the body, adapt ``CALLER`` and ``payment_body``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .emulator import ACCOUNT

MERCHANT = "merchant-42"
# requestContext.identity as API Gateway fills it for a SigV4-signed (AWS_IAM) request.
CALLER = {
    "accountId": ACCOUNT,
    "caller": f"AROAREHEARSAL00000001:{MERCHANT}",
    "user": f"AROAREHEARSAL00000001:{MERCHANT}",
    "userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{MERCHANT}/{MERCHANT}",
    "accessKey": "ASIAREHEARSAL0000001",
    "sourceIp": "198.51.100.7",
    "userAgent": "cdk-payments-rehearsal",
    "cognitoIdentityId": None,
    "cognitoAuthenticationType": None,
}


def payment_body(**overrides: Any) -> dict[str, Any]:
    return {"amount": 1250, "currency": "EUR", "merchant_id": MERCHANT,
            "payment_method_token": "tok_visa_rehearsal", "description": "Order 1001",
            "metadata": {"order": "1001"}, **overrides}


def proxy_event(
    method: str,
    resource: str,
    path: str,
    *,
    rest_api_id: str,
    stage: str = "prod",
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What an AWS_PROXY integration passes to its function for one request."""
    headers = {"Content-Type": "application/json", "Host": f"{rest_api_id}.execute-api.us-east-1.amazonaws.com",
               **(headers or {})}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": rest_api_id,
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "protocol": "HTTP/1.1",
            "identity": dict(CALLER if identity is None else identity),
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
