"""POST /payments' decisions without AWS (runtime/intake.py): what each provider answer records and
answers, and what a second request with the same key gets, from the stored item's old image.
test_intake.py runs the same paths end to end against moto."""

from __future__ import annotations

import json

import pytest

from cdk_payments.runtime import intake
from cdk_payments.runtime.errors import ApiError
from cdk_payments.runtime.providers import Authorization, Outcome


def test_the_payment_id_is_fixed_for_ever():
    # A retry in flight across a deployment must present the same provider key.
    assert intake.payment_id_for("merchant-42", "order-1") == "db9a75cc-caef-534e-a165-0e82d5d8c43d"
    assert intake.payment_id_for("merchant-4", "2order-1") != intake.payment_id_for("merchant-42", "order-1")


@pytest.mark.parametrize("authorization,answer,changes", [
    (Authorization.approve("auth_1"), {"payment_id": "p-1", "status": "PENDING"},
     {"status": "PENDING", "authorized": True, "provider_reference": "auth_1"}),
    (Authorization.decline("card_declined", "auth_2"),
     {"payment_id": "p-1", "status": "FAILED", "decline_reason": "card_declined"},
     {"status": "FAILED", "authorized": False, "provider_reference": "auth_2", "decline_reason": "card_declined",
      "announced": False}),
    (Authorization.decline("card_declined"),
     {"payment_id": "p-1", "status": "FAILED", "decline_reason": "card_declined"},
     {"status": "FAILED", "authorized": False, "decline_reason": "card_declined", "announced": False}),
    (Authorization.unknown("timeout"), {"payment_id": "p-1", "status": "UNKNOWN"},
     {"status": "UNKNOWN", "authorized": False}),
    (Authorization(Outcome.APPROVED, "", ""), {"payment_id": "p-1", "status": "PENDING"},
     {"status": "PENDING", "authorized": True}),
], ids=["approved", "declined", "declined-without-reference", "unknown", "empty-fields"])
def test_what_each_answer_records(authorization, answer, changes):
    got_answer, got_changes = intake._outcome("p-1", authorization)
    assert got_answer == answer
    assert got_changes == {**changes, "answer": json.dumps(answer)}


def stored(**fields):
    item = {"request_hash": {"S": "h1"}, "answer": {"S": json.dumps({"payment_id": "p-1", "status": "PENDING"})},
            "replayable_until": {"N": "1000"}}
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def refusal(item, request_hash="h1", now=999.0):
    with pytest.raises(ApiError) as refused:
        intake._replay(item, request_hash, now)
    return refused.value.status, refused.value.code, refused.value.message


def test_the_same_request_replays_the_stored_answer_until_the_window_ends():
    assert intake._replay(stored(), "h1", 999.0) == {"payment_id": "p-1", "status": "PENDING"}
    assert intake._replay(stored(), "h1", 1000.0) == {"payment_id": "p-1", "status": "PENDING"}
    assert refusal(stored(), now=1000.5) == (
        422, "idempotency_key_reused", "this Idempotency-Key was used more than 24 hours ago; send a new key")


def test_another_body_or_a_request_in_progress_is_refused():
    reused = (422, "idempotency_key_reused", "this Idempotency-Key was used with a different body")
    assert refusal(stored(), request_hash="h2") == reused
    assert refusal({}) == reused  # an item without a hash (not a payment's claim) never replays
    assert refusal(stored(answer=None)) == (
        409, "request_in_progress", "a request with this Idempotency-Key is in progress")
