"""The idempotency rule across regions (docs/regions.md): a payment's id, which is also the provider's
idempotency key, is derived from the merchant and the Idempotency-Key alone, never from the region or
the table. So a retry that reaches another region (a table restored from a backup that predates the
payment, or a replica that has not received it yet) reaches the provider under the same key, and the
provider, bound to act at most once per key, authorizes once.

moto serves one table per name and region; the second region's table is a second, empty table here,
which is what a restore from an older backup holds (the handler reads the table from TABLE_NAME only).
"""

from __future__ import annotations

import boto3

from .conftest import REGION
from .test_http_end_to_end import provider_at  # noqa: F401 (the fake HTTP provider, as a fixture)
from .test_intake import authorizations, post

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

