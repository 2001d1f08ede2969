"""GET /payments: the caller's own payments, newest first, a page at a time, through the
``by-merchant`` index (partition: the authenticated merchant, never a request value).

The cursor is the index position the next page starts from, encrypted with the function's KMS key
under an encryption context that names the merchant: it is opaque, any change to it fails
decryption, and it decrypts only for the merchant it was issued to, with the same filters.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from aws_lambda_powertools.utilities.validation import SchemaValidationError
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from . import clients, states
from .errors import ApiError, validator

MERCHANT_INDEX = "by-merchant"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
STATUSES = states.STATUSES  # every status a payment can have (runtime/states.py)
# What a list item holds: the index's keys and projected attributes; GET /payments/{id} has the rest.
SUMMARY_FIELDS = ("payment_id", "merchant_id", "amount", "currency", "status", "created_at")
# SigV4 query-string authentication (presigned URLs) and what presigners add beside it
# (X-Amz-Content-Sha256, X-Amz-User-Agent...): API Gateway has consumed them; every X-Amz-* is ignored.
SIGV4_PREFIX = "x-amz-"
QUERY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limit": {"type": "string", "pattern": f"^([1-9][0-9]?|{MAX_LIMIT})$"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "created_from": {"type": "string", "minLength": 1, "maxLength": 40},
        "created_to": {"type": "string", "minLength": 1, "maxLength": 40},
        "cursor": {"type": "string", "minLength": 1, "maxLength": 2048},  # its content: invalid_cursor
    },
}
validate_query = validator(QUERY_SCHEMA)
CURSOR_PURPOSE = "cdk-payments list cursor"
# KMS's answers to a ciphertext that was altered, forged, or issued for another merchant or key
# (one naming a key this function may not use is denied; the function's own key it may decrypt with).
REFUSED_CIPHERTEXT = frozenset({"InvalidCiphertextException", "IncorrectKeyException", "ValidationException",
                                "AccessDeniedException"})


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT
    status: Optional[str] = None
    created_from: Optional[str] = None
    created_to: Optional[str] = None
    cursor: Optional[str] = None

    @property
    def filters(self) -> list[Optional[str]]:
        return [self.status, self.created_from, self.created_to]


def parse_query(single: Optional[dict[str, str]], multi: Optional[dict[str, list[str]]]) -> ListQuery:
    """The validated query string; anything unknown, repeated or malformed is a 400."""
    params = {k: v for k, v in (single or {}).items() if not k.lower().startswith(SIGV4_PREFIX)}
    unknown = sorted(set(params) - set(QUERY_SCHEMA["properties"]))
    if unknown:
        allowed = ", ".join(QUERY_SCHEMA["properties"])
        raise ApiError(400, "invalid_query", f"unknown query parameter {', '.join(unknown)}; allowed: {allowed}")
    repeated = sorted(k for k, v in (multi or {}).items() if k in params and len(v) > 1)
    if repeated:
        raise ApiError(400, "invalid_query", f"{', '.join(repeated)}: give each query parameter once")
    try:
        validate_query(params)
    except SchemaValidationError as error:
        field = next((str(p) for p in (error.path or []) if p != "data"), "query")
        raise ApiError(400, "invalid_query", f"{field}: {error.validation_message}") from None
    query = ListQuery(
        limit=int(params.get("limit", DEFAULT_LIMIT)),
        status=params.get("status"),
        created_from=_timestamp("created_from", params.get("created_from")),
        created_to=_timestamp("created_to", params.get("created_to")),
        cursor=params.get("cursor"),
    )
    if query.created_from and query.created_to and query.created_from > query.created_to:
        raise ApiError(400, "invalid_query", "created_from must not be later than created_to")
    return query


def _timestamp(name: str, value: Optional[str]) -> Optional[str]:
    """UTC in the stored ``created_at`` format, so that string order is time order."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(400, "invalid_query", f"{name}: an ISO 8601 date-time with an offset, e.g. 2026-01-31T09:00:00Z")
    return moment.astimezone(timezone.utc).isoformat()


def list_payments(merchant: str, query: ListQuery) -> dict[str, Any]:
    """One page of ``merchant``'s payments, newest first, and the cursor of the next (or None)."""
    condition = Key("merchant_id").eq(merchant)
    if query.created_from and query.created_to:
        condition &= Key("created_at").between(query.created_from, query.created_to)
    elif query.created_from:
        condition &= Key("created_at").gte(query.created_from)
    elif query.created_to:
        condition &= Key("created_at").lte(query.created_to)
    request: dict[str, Any] = dict(IndexName=MERCHANT_INDEX, KeyConditionExpression=condition,
                                   ScanIndexForward=False, Limit=query.limit)
    if query.status:
        request["FilterExpression"] = Attr("status").eq(query.status)
    if query.cursor:
        request["ExclusiveStartKey"] = _start_key(query.cursor, merchant, query.filters)
    page = clients.table().query(**request)
    last = page.get("LastEvaluatedKey")
    return {
        "payments": [{f: item[f] for f in SUMMARY_FIELDS if f in item} for item in page["Items"]],
        "next_cursor": _cursor(last, merchant, query.filters) if last else None,
    }


def _context(merchant: str) -> dict[str, str]:
    return {"purpose": CURSOR_PURPOSE, "merchant_id": merchant}


def _cursor(last_key: dict[str, Any], merchant: str, filters: list[Optional[str]]) -> str:
    position = {"m": merchant, "c": last_key["created_at"], "p": last_key["payment_id"], "f": filters}
    blob = clients.kms().encrypt(
        KeyId=os.environ["CURSOR_KEY_ARN"], Plaintext=json.dumps(position, separators=(",", ":")).encode(),
        EncryptionContext=_context(merchant),
    )["CiphertextBlob"]
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


def _start_key(cursor: str, merchant: str, filters: list[Optional[str]]) -> dict[str, str]:
    refused = ApiError(400, "invalid_cursor", "the cursor is not one this API issued for this query; start again")
    try:
        blob = base64.urlsafe_b64decode(cursor + "==")  # the padding _cursor strips; any beyond it is ignored
        plaintext = clients.kms().decrypt(
            KeyId=os.environ["CURSOR_KEY_ARN"], CiphertextBlob=blob, EncryptionContext=_context(merchant)
        )["Plaintext"]
        position = json.loads(plaintext)
    except (binascii.Error, ValueError):
        raise refused from None
    except ClientError as error:
        if error.response["Error"]["Code"] not in REFUSED_CIPHERTEXT:
            raise  # KMS unavailable or throttled: a 500, retry
        raise refused from None
    if (not isinstance(position, dict) or position.get("m") != merchant or position.get("f") != filters
            or not isinstance(position.get("c"), str) or not isinstance(position.get("p"), str)):
        raise refused
    # The partition is the caller's, whatever the cursor held.
    return {"merchant_id": merchant, "created_at": position["c"], "payment_id": position["p"]}
