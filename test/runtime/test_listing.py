"""GET /payments: the caller's own payments, newest first, paged with a cursor nobody can forge."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from cdk_payments.runtime import api

from .conftest import FakeContext, api_event

A, B = "merchant-42", "merchant-43"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def call(event):
    response = api.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def listing(caller=A, **query):
    return call(api_event("GET", "/payments", caller=caller, query=query))


def seed(aws, merchant, minutes, status="PROCESSED", micros=0):
    """A payment as the processor writes it, created ``minutes`` after T0."""
    created = (T0 + timedelta(minutes=minutes, microseconds=micros)).isoformat()
    item = {"payment_id": str(uuid.uuid4()), "merchant_id": merchant, "amount": 100 + minutes, "currency": "EUR",
            "status": status, "payment_method_token": "tok_visa_abcdef12", "provider_reference": "ref",
            "created_at": created, "updated_at": created}
    aws.table.put_item(Item=item)
    return item


@pytest.fixture
def payments(aws):
    """Seven of A's payments a minute apart (the middle ones FAILED), interleaved with B's."""
    mine = [seed(aws, A, m, "FAILED" if m in (2, 3) else "PROCESSED") for m in range(7)]
    for m in range(7):
        seed(aws, B, m, micros=1)
    return mine


def ids(items):
    return [p["payment_id"] for p in items]


def test_pages_newest_first_over_several_pages_with_a_cursor(mode, payments):
    pages, cursor = [], None
    while True:
        status, page = listing(limit="3", **({"cursor": cursor} if cursor else {}))
        assert status == 200
        pages.append(page["payments"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert ids(sum(pages, [])) == ids(reversed(payments))
    assert {p["merchant_id"] for p in sum(pages, [])} == {A}


def test_items_are_summaries_without_secrets(mode, payments):
    _, page = listing(limit="1")
    (item,) = page["payments"]
    assert set(item) == {"payment_id", "merchant_id", "amount", "currency", "status", "created_at"}
    assert item["amount"] == 106 and item["created_at"] == payments[-1]["created_at"]


def test_default_page_is_twenty_and_limit_is_bounded(mode, aws):
    for m in range(23):
        seed(aws, A, m)
    _, page = listing()
    assert len(page["payments"]) == 20 and page["next_cursor"]
    assert len(listing(limit="100")[1]["payments"]) == 23


def test_status_and_time_range_filters(mode, payments):
    _, page = listing(status="FAILED")
    assert ids(page["payments"]) == ids([payments[3], payments[2]])
    frm, to = payments[1]["created_at"], (T0 + timedelta(minutes=4)).isoformat().replace("+00:00", "Z")
    _, page = listing(created_from=frm, created_to=to)
    assert ids(page["payments"]) == ids(reversed(payments[1:5]))  # both bounds inclusive
    # Any offset: 13:05+01:00 is 12:05 UTC.
    _, page = listing(created_from="2026-03-01T13:05:00+01:00")
    assert ids(page["payments"]) == ids(reversed(payments[5:]))
    _, page = listing(status="FAILED", created_to=payments[2]["created_at"])
    assert ids(page["payments"]) == [payments[2]["payment_id"]]


def test_filtered_pages_follow_the_cursor_to_the_end(mode, payments):
    seen, cursor = [], None
    for _ in range(10):
        _, page = listing(status="PROCESSED", limit="2", **({"cursor": cursor} if cursor else {}))
        seen += page["payments"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids(seen) == ids(p for p in reversed(payments) if p["status"] == "PROCESSED")


def first_cursor(**query):
    status, page = listing(limit="2", **query)
    assert status == 200 and page["next_cursor"]
    return page["next_cursor"]


def flip(cursor: str, index: int) -> str:
    char = "B" if cursor[index] != "B" else "C"
    return cursor[:index] + char + cursor[index + 1 :]


def test_tampered_cursors_are_refused(mode, payments):
    cursor = first_cursor()
    for tampered in (flip(cursor, 0), flip(cursor, len(cursor) // 2), flip(cursor, len(cursor) - 2),
                     cursor[:-4], cursor + "AAAA", "e30", "not a cursor!", "é" * 8):
        status, body = listing(limit="2", cursor=tampered)
        assert body["error"] == {"code": "invalid_cursor", "message": "the cursor is not one this API issued for this "
                                 "query; start again"} and status == 400, tampered


def forged(position, merchant=A):
    """A cursor made with the cursor key and the merchant's encryption context, but not by the API."""
    import base64
    import os

    from cdk_payments.runtime import clients
    from cdk_payments.runtime.listing import _context

    blob = clients.kms().encrypt(KeyId=os.environ["CURSOR_KEY_ARN"], Plaintext=json.dumps(position).encode(),
                                 EncryptionContext=_context(merchant))["CiphertextBlob"]
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


def test_a_cursor_made_with_the_key_is_still_checked_field_by_field(aws, payments):
    """Whoever could encrypt with the cursor key could not page from another merchant's position or send
    the query a key of the wrong type (a 500 from DynamoDB): each field is checked."""
    issued = {"m": A, "c": payments[3]["created_at"], "p": payments[3]["payment_id"], "f": [None, None, None]}
    status, page = listing(limit="2", cursor=forged(issued))
    assert status == 200 and ids(page["payments"]) == ids(payments[2::-1][:2])
    for wrong in ({"m": B}, {"c": 5}, {"p": 5}, {"f": ["PROCESSED", None, None]}):
        status, body = listing(limit="2", cursor=forged({**issued, **wrong}))
        assert (status, body["error"]["code"]) == (400, "invalid_cursor"), wrong
    assert listing(limit="2", cursor=forged([issued]))[1]["error"]["code"] == "invalid_cursor"


def test_another_merchants_cursor_is_refused(mode, payments):
    cursor = first_cursor()
    status, body = listing(caller=B, limit="2", cursor=cursor)
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_a_cursor_is_valid_only_for_its_own_filters(mode, payments):
    cursor = first_cursor(status="PROCESSED")
    assert listing(limit="2", status="PROCESSED", cursor=cursor)[0] == 200
    assert listing(limit="5", status="PROCESSED", cursor=cursor)[0] == 200  # page size may change
    for other in ({"status": "FAILED"}, {}, {"status": "PROCESSED", "created_from": "2026-03-01T12:00:00Z"}):
        status, body = listing(limit="2", cursor=cursor, **other)
        assert (status, body["error"]["code"]) == (400, "invalid_cursor"), other


BAD_QUERIES = [
    ({"merchant_id": B}, "merchant_id"),
    ({"page": "2"}, "page"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "05"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"status": "processed"}, "status"),
    ({"status": "SETTLED"}, "status"),
    ({"created_from": "yesterday"}, "created_from"),
    ({"created_from": "2026-03-01T12:00:00"}, "created_from"),  # no offset: ambiguous
    ({"created_to": "2026-03-01"}, "created_to"),
    ({"created_to": "2026-03-01T12:00:00Z" + "0" * 40}, "created_to"),
    ({"created_from": "2026-03-02T00:00:00Z", "created_to": "2026-03-01T00:00:00Z"}, "created_from"),
    ({"status": ["PROCESSED", "FAILED"]}, "status"),
    ({"cursor": "x" * 2049}, "cursor"),
]


@pytest.mark.parametrize("query,named", BAD_QUERIES, ids=[json.dumps(q) for q, _ in BAD_QUERIES])
def test_every_query_parameter_is_validated_and_unknown_ones_refused(aws, query, named):
    status, body = listing(**query)
    assert (status, body["error"]["code"]) == (400, "invalid_query")
    assert named in body["error"]["message"]


@pytest.mark.parametrize("name", ["X-Amz-Algorithm", "X-Amz-Signature", "X-Amz-Content-Sha256",
                                  "X-Amz-User-Agent", "x-amz-anything-a-presigner-adds"])
def test_every_x_amz_query_parameter_is_ignored(aws, payments, name):
    status, page = listing(**{name: "AWS4-HMAC-SHA256", "X-Amz-Signature": "ab12", "limit": "1"})
    assert status == 200 and len(page["payments"]) == 1


def test_the_status_filter_selects_unknown_outcomes(mode, aws):
    unknown = seed(aws, A, 1, "UNKNOWN")
    seed(aws, A, 2, "PROCESSED")
    _, page = listing(status="UNKNOWN")
    assert ids(page["payments"]) == [unknown["payment_id"]]


def test_an_empty_list(mode, aws):
    assert listing() == (200, {"payments": [], "next_cursor": None})


@pytest.mark.parametrize("ciphertext", ["AAAAAAAX", "AAAAAAAAAAE", "AAAAAAAAAA", "_-_-_-_-"])
def test_every_ciphertext_survives_the_cursors_encoding(monkeypatch, ciphertext):
    """Whatever bytes KMS returns (here: ending in the base64 digit X, with one, two or no padding
    characters stripped), the cursor decodes to them and is decrypted with the cursor key only. The
    plaintext and the encryption context are pinned: a cursor issued before a deploy still reads after it."""
    import base64

    from cdk_payments.runtime import clients
    from cdk_payments.runtime.listing import _cursor, _start_key

    blob = base64.urlsafe_b64decode(ciphertext + "==")
    position = b'{"m":"merchant-42","c":"2026-03-01T12:03:00+00:00","p":"p-3","f":[null,null,null]}'
    key = "arn:aws:kms:us-east-1:123456789012:key/cursor"
    context = {"purpose": "cdk-payments list cursor", "merchant_id": A}  # binds the cursor to its merchant

    class Kms:
        def encrypt(self, KeyId, Plaintext, EncryptionContext):
            assert (KeyId, Plaintext, EncryptionContext) == (key, position, context)
            return {"CiphertextBlob": blob}

        def decrypt(self, KeyId, CiphertextBlob, EncryptionContext):
            assert (KeyId, CiphertextBlob, EncryptionContext) == (key, blob, context)
            return {"Plaintext": position}

    monkeypatch.setenv("CURSOR_KEY_ARN", key)
    monkeypatch.setattr(clients, "kms", Kms)
    cursor = _cursor({"created_at": "2026-03-01T12:03:00+00:00", "payment_id": "p-3"}, A, [None, None, None])
    assert "=" not in cursor
    assert _start_key(cursor, A, [None, None, None]) == {
        "merchant_id": A, "created_at": "2026-03-01T12:03:00+00:00", "payment_id": "p-3"}
