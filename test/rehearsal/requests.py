"""The requests the rehearsal sends, built in one place: API Gateway's REST proxy event for a caller.

API Gateway, not the emulator, builds this event in AWS; here it is built as API Gateway would for the
deployed method (its resource path and HTTP method come from what was deployed). The caller is an
IAM-authenticated merchant (the example's API uses IAM authorization): a session of the role the
example maps to its demo merchant (``merchant_roles``), as :func:`caller` builds it.
"""

from __future__ import annotations

import json
from typing import Any

from cdk_payments.local import gateway
from cdk_payments.local.emulator import ACCOUNT

MERCHANT = "demo-merchant"  # the merchant the example maps its DemoMerchantRole to


def caller(role_name: str, session: str = "rehearsal") -> dict[str, Any]:
    """requestContext.identity as API Gateway fills it for a request SigV4-signed by a role session."""
    return gateway.session_identity(f"AROAREHEARSAL00000001:{session}",
                                    f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session}",
                                    "ASIAREHEARSAL0000001", source_ip="198.51.100.7",
                                    user_agent="cdk-payments-rehearsal")


def payment_body(**overrides: Any) -> dict[str, Any]:
    return {"amount": 1250, "currency": "EUR", "merchant_id": MERCHANT,
            "payment_method_token": "tok_visa_rehearsal", "description": "Order 1001",
            "metadata": {"order": "1001"}, **overrides}


def proxy_event(method: str, resource: str, path: str, *, body: dict[str, Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """What an AWS_PROXY integration passes to its function (the local gateway's event, a dict body)."""
    return gateway.proxy_event(method, resource, path, body=None if body is None else json.dumps(body), **kwargs)
