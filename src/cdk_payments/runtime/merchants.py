"""The caller's merchant, from the authenticated identity API Gateway puts in the request context.

Never from the request: each authorization mode maps its identity through data the construct wrote
into the function's environment (``AUTH_MODE`` and the mode's map), and anything unexpected maps to
no merchant, which the API refuses before it reads or writes anything.

- ``api-key``: ``identity.apiKeyId`` through ``MERCHANT_API_KEYS`` ({merchant: API key id}).
- ``cognito``: the token's ``custom:merchant_id`` claim (``authorizer.claims``).
- ``iam``: ``identity.userArn``, a role session, through ``MERCHANT_ROLES`` ({merchant: role ARN}).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Optional

MERCHANT_CLAIM = "custom:merchant_id"
# The same limits as merchant_id in payment_request.schema.json.
MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # always fullmatch: "$" would let a trailing newline in
# A role session (what SigV4 callers using a role are), and a role: an assumed-role ARN names the
# role without its path, and role names are unique within an account, so (partition, account, name)
# identifies the role.
_SESSION = re.compile(r"arn:([a-z-]+):sts::(\d{12}):assumed-role/([\w+=,.@-]{1,64})/[\w+=,.@-]{2,64}", re.ASCII)
_ROLE = re.compile(r"arn:([a-z-]+):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})", re.ASCII)


def merchant_of(request_context: Optional[dict[str, Any]]) -> Optional[str]:
    """The merchant the authenticated caller acts for, or None when it maps to none."""
    context = request_context if isinstance(request_context, dict) else {}
    identity = context.get("identity") if isinstance(context.get("identity"), dict) else {}
    mode = os.environ.get("AUTH_MODE")
    if mode == "api-key":
        merchant = _inverse(_mapping("MERCHANT_API_KEYS")).get(identity.get("apiKeyId"))
    elif mode == "cognito":
        authorizer = context.get("authorizer") if isinstance(context.get("authorizer"), dict) else {}
        claims = authorizer.get("claims") if isinstance(authorizer.get("claims"), dict) else {}
        merchant = claims.get(MERCHANT_CLAIM)
    elif mode == "iam":
        merchant = _role_merchant(identity.get("userArn"))
    else:
        merchant = None  # fail closed on a missing or unknown mode
    return merchant if isinstance(merchant, str) and MERCHANT_ID.fullmatch(merchant) else None


def _mapping(variable: str) -> dict[str, str]:
    try:
        mapping = json.loads(os.environ.get(variable) or "{}")
    except json.JSONDecodeError:
        return {}
    return {k: v for k, v in mapping.items() if isinstance(v, str)} if isinstance(mapping, dict) else {}


def _inverse(mapping: dict[str, Any]) -> dict[Any, str]:
    """{value: merchant}, leaving out any value two merchants share (it identifies neither)."""
    counts: dict[Any, int] = {}
    for value in mapping.values():
        counts[value] = counts.get(value, 0) + 1
    return {value: merchant for merchant, value in mapping.items() if counts[value] == 1}


def _role_merchant(user_arn: Any) -> Optional[str]:
    session = _SESSION.fullmatch(user_arn) if isinstance(user_arn, str) else None
    if session is None:
        return None  # IAM users, root and anything else are not mapped
    by_role = {}
    for merchant, role_arn in _mapping("MERCHANT_ROLES").items():
        role = _ROLE.fullmatch(role_arn)
        if role:
            by_role[merchant] = role.groups()
    return _inverse(by_role).get(session.groups())
