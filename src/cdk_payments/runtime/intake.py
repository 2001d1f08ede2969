"""POST /payments' write path: two sequential AWS round trips, and one provider key per request.

1. **Claim** (one conditional ``PutItem``). The payment id is derived from the merchant and its
   ``Idempotency-Key`` (``payment_id_for``), so every attempt of one request writes the same item and
   presents the same idempotency key to the provider: a retry after the provider approved (a failed
   enqueue, a Lambda timeout) cannot authorize the card twice. The claim is the payment itself,
   recorded ``UNKNOWN`` (the truth while the provider is being asked) with the request's hash and a
   ``claim`` that lapses with the function's deadline. If the item exists, its old image comes back
   with the refusal (``ReturnValuesOnConditionCheckFailure``): a replay gets the stored answer, another
   body a 422, a live claim a 409, all without asking the provider again. A lapsed claim (the function
   timed out) is taken over by the retry, and the provider dedupes on the same key.
2. The provider (not AWS).
3. **Outcome and message at once**: the ``UpdateItem`` that records the provider's answer and the
   ``SendMessage`` run in parallel, one round trip deep. The event handler leaves a payment that is
   still claimed to a later delivery (``events.settle``), so the message may overtake the update.

A request that fails after its claim deletes the payment (one more call, on that path only), so the
client's retry with the same key starts afresh; a message already sent for it then finds no payment
and ends in the DLQ. What a killed function leaves (a lapsed claim) is taken over by the retry.

Why not Powertools' idempotency utility (it did this before, in 4 sequential calls): it writes its
own record before the function (``save_inprogress``) and updates it after (``save_success``), both
fixed in ``BasePersistenceLayer``; a persistence layer can change how a record is stored, not merge
those writes with the payment's. Why not ``TransactWriteItems`` (payment + record): with the derived
id the payment *is* the record, and one conditional write costs half a transaction's capacity.

Idempotency stays per merchant (the merchant is part of the derived id) with a 24 h window
(``IDEMPOTENCY_TTL_SECONDS``): a replay after it is refused, since the id, hence the key, is taken.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from . import clients, providers
from .errors import ApiError

# Fixed for ever: changing it changes the payment id, hence the provider key, of every retry in flight.
NAMESPACE = uuid.UUID("0b5d8a3e-5c1f-4e7a-9d2b-6a4f1c8e3b70")
# The status a payment is recorded with, by the provider's answer (RETRYABLE records nothing).
RECORDED_STATUS = {providers.Outcome.APPROVED: "PENDING", providers.Outcome.DECLINED: "FAILED",
                   providers.Outcome.UNKNOWN: "UNKNOWN"}
_serialize = TypeSerializer().serialize
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enqueue")  # threads start on first use

Authorize = Callable[[str, dict[str, Any]], providers.Authorization]


def payment_id_for(merchant: str, key: str) -> str:
    """The payment id (and the provider's idempotency key) of ``key`` for ``merchant``: a name-based
    UUID (version 5), so no raw key reaches the provider and two merchants' keys never meet."""
    return str(uuid.uuid5(NAMESPACE, json.dumps([merchant, key])))


def create(merchant: str, key: str, body: dict[str, Any], *, authorize: Authorize, remaining_ms: int) -> dict:
    """Claim, authorize, record and enqueue one payment; the answer, or the stored one for a replay."""
    payment_id = payment_id_for(merchant, key)
    request_hash = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).isoformat()
    claim = uuid.uuid4().hex
    item = {**body, "payment_id": payment_id, "status": "UNKNOWN", "authorized": False, "created_at": stamp,
            "updated_at": stamp, "request_hash": request_hash, "claim": claim,
            "claimed_until": int(now * 1000) + remaining_ms,
            "replayable_until": int(now) + int(os.environ.get("IDEMPOTENCY_TTL_SECONDS", "86400"))}
    table = os.environ["TABLE_NAME"]
    try:
        clients.dynamodb().put_item(
            TableName=table, Item={name: _serialize(value) for name, value in item.items()},
            # A new key, or the lapsed claim of a function that timed out on the same request.
            ConditionExpression="attribute_not_exists(payment_id) OR (claimed_until < :now AND request_hash = :hash)",
            ExpressionAttributeValues={":now": {"N": str(int(now * 1000))}, ":hash": {"S": request_hash}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return _replay(error.response.get("Item") or {}, request_hash, now)
    try:
        authorization = authorize(payment_id, body)
        answer, changes = _outcome(payment_id, authorization)
        changes["updated_at"] = datetime.now(timezone.utc).isoformat()
        sent = _sender.submit(clients.sqs().send_message, QueueUrl=os.environ["QUEUE_URL"],
                              MessageBody=json.dumps({"payment_id": payment_id}))
        try:
            names = {f"#f{i}": name for i, name in enumerate(changes)}
            values = {f":v{i}": _serialize(value) for i, value in enumerate(changes.values())}
            clients.dynamodb().update_item(
                TableName=table, Key={"payment_id": {"S": payment_id}},
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
                + " REMOVE claim, claimed_until",
                ConditionExpression="claim = :claim",
                ExpressionAttributeNames=names, ExpressionAttributeValues={**values, ":claim": {"S": claim}},
            )
        finally:
            sent.result()
    except Exception:
        # Nothing half-written: the retry with the same key claims afresh, under the same provider key.
        clients.dynamodb().delete_item(TableName=table, Key={"payment_id": {"S": payment_id}})
        raise
    return answer


def _outcome(payment_id: str, authorization: providers.Authorization) -> tuple[dict, dict]:
    """The client's answer and the fields the provider's answer sets on the payment."""
    status = RECORDED_STATUS[authorization.outcome]
    answer: dict[str, Any] = {"payment_id": payment_id, "status": status}
    changes: dict[str, Any] = {"status": status, "authorized": authorization.approved}
    if authorization.reference:
        changes["provider_reference"] = authorization.reference
    if authorization.decline_reason:
        answer["decline_reason"] = changes["decline_reason"] = authorization.decline_reason
    if status == "FAILED":
        changes["announced"] = False  # the event handler still publishes its Payment Failed event
    changes["answer"] = json.dumps(answer)
    return answer, changes


def _replay(item: dict[str, Any], request_hash: str, now: float) -> dict:
    """The stored answer of the same request, or why there is none (the existing item's old image)."""
    if item.get("request_hash", {}).get("S") != request_hash:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different body")
    if "answer" not in item:
        raise ApiError(409, "request_in_progress", "a request with this Idempotency-Key is in progress")
    if int(item["replayable_until"]["N"]) < now:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was used more than 24 hours ago; send a new key")
    return json.loads(item["answer"]["S"])
