"""The idempotency rule across regions (docs/regions.md), and active-active's write conflicts (the end): a payment's id, which is also the provider's
idempotency key, is derived from the merchant and the Idempotency-Key alone, never from the region or
the table. So a retry that reaches another region (a table restored from a backup that predates the
payment, or a replica that has not received it yet) reaches the provider under the same key, and the
provider, bound to act at most once per key, authorizes once.

moto serves one table per name and region; the second region's table is a second, empty table here,
which is what a restore from an older backup holds (the handler reads the table from TABLE_NAME only).
"""

from __future__ import annotations

from unittest import mock

import boto3
from botocore.exceptions import ClientError

from cdk_payments.runtime import api, clients

from .conftest import REGION
from .test_http_end_to_end import provider_at  # noqa: F401 (the fake HTTP provider, as a fixture)
from .test_intake import authorizations, post
from .test_lifecycle import create, op, settle_queue, stored

KEY = "order-two-regions-0001"


def restored_table(name: str) -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name, KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def test_a_retry_in_the_second_region_reaches_the_provider_under_the_same_key(aws, provider_at, monkeypatch):  # noqa: F811
    status, primary = post(KEY)
    assert status == 202
    restored_table("payments-second-region")
    monkeypatch.setenv("TABLE_NAME", "payments-second-region")
    status, second = post(KEY)
    assert status == 202 and second["payment_id"] == primary["payment_id"]
    # Two records, one in each region's table, but one idempotency key at the provider: one authorization.
    assert authorizations(provider_at) == [primary["payment_id"]] * 2



# With ResilienceTier.ACTIVE_ACTIVE the table is strongly consistent across regions: the same key sent to two
# regions at once reaches one item, and DynamoDB refuses the write that loses the race with
# ReplicatedWriteConflictException, having written nothing of it (moto cannot race regions, so it is raised here).
WRITE_CONFLICT = ClientError({"Error": {"Code": "ReplicatedWriteConflictException",
                                        "Message": "modified by a request in another Region"}}, "PutItem")


def test_a_write_conflict_with_another_region_is_in_progress_and_writes_nothing(aws):
    with mock.patch.object(clients.dynamodb(), "put_item", side_effect=WRITE_CONFLICT):
        status, body = post(KEY)
    assert (status, body["error"]["code"]) == (409, "request_in_progress")
    assert "another region" in body["error"]["message"]
    assert aws.payments() == [] and aws.messages() == []
    # The retry the answer asks for: the other region's payment, once written, is replayed here.
    status, body = post(KEY)
    assert status == 202 and [p["payment_id"] for p in aws.payments()] == [body["payment_id"]]


def test_a_lifecycle_write_conflict_is_in_progress_through_the_idempotency_layer(aws):
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    before = stored(aws, payment_id)
    # Powertools' idempotency layer makes the first write of a capture, and wraps DynamoDB's refusal in its own error.
    with mock.patch.object(clients.dynamodb(), "put_item", side_effect=WRITE_CONFLICT):
        status, body = op("POST", payment_id, "capture", {"amount": 100}, key="capture-conflict-0001")
    assert (status, body["error"]["code"]) == (409, "request_in_progress")
    assert stored(aws, payment_id) == before


def test_other_errors_are_not_taken_for_a_conflict():
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem")
    wrapped = RuntimeError("idempotency store")
    wrapped.__cause__ = WRITE_CONFLICT
    assert api._write_conflict(wrapped) and api._write_conflict(WRITE_CONFLICT)
    assert not api._write_conflict(throttled) and not api._write_conflict(RuntimeError("no response"))
