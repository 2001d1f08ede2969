"""The one function that puts payment events (runtime/bus.py): the entry EventBridge receives."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from cdk_payments.runtime import bus, clients

PAYMENT = {"payment_id": "p-1", "merchant_id": "merchant-42", "amount": 1250, "currency": "EUR"}


def put(payment=PAYMENT, answer=None, **kwargs):
    events = mock.Mock()
    events.put_events.return_value = answer or {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}
    with mock.patch.object(clients, "events", return_value=events):
        bus.put("Payment Captured", payment, "CAPTURED", event="capture:op-1", **kwargs)
    ((_, call),) = [(c.args, c.kwargs) for c in events.put_events.call_args_list]
    (entry,) = call["Entries"]
    return entry


def test_the_entry_on_the_configured_bus(monkeypatch):
    monkeypatch.setenv("EVENT_BUS_NAME", "payments")
    monkeypatch.setenv("EVENT_SOURCE", "acme.payments")
    entry = put(extra={"operation": "capture", "captured_amount": 1000})
    assert {k: v for k, v in entry.items() if k != "Detail"} == {
        "Source": "acme.payments", "DetailType": "Payment Captured", "EventBusName": "payments"}
    assert json.loads(entry["Detail"]) == {
        "version": "1", "event_id": bus.event_id("p-1", "capture:op-1"), "payment_id": "p-1",
        "merchant_id": "merchant-42", "amount": 1250, "currency": "EUR", "status": "CAPTURED",
        "operation": "capture", "captured_amount": 1000}


def test_defaults_decline_reason_and_stored_numbers(monkeypatch):
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    monkeypatch.delenv("EVENT_SOURCE", raising=False)
    from decimal import Decimal

    entry = put({**PAYMENT, "amount": Decimal("1250"), "decline_reason": "card_declined"},
                extra={"refunded_amount": Decimal("300")})
    assert (entry["Source"], entry["EventBusName"]) == ("cdk-payments", "default")
    detail = json.loads(entry["Detail"])
    assert detail["amount"] == 1250 and detail["refunded_amount"] == 300  # DynamoDB's Decimals as integers
    assert detail["decline_reason"] == "card_declined"
    assert "decline_reason" not in json.loads(put({**PAYMENT, "decline_reason": ""})["Detail"])


def test_event_ids_are_stable_per_transition():
    assert bus.event_id("p-1", "capture:op-1") == bus.event_id("p-1", "capture:op-1")
    assert bus.event_id("p-1", "capture:op-1") != bus.event_id("p-1", "capture:op-2")
    assert bus.event_id("p-1", "ab") != bus.event_id("p-1a", "b")  # the parts are separated
    assert bus.event_id("p-1", "capture:op-1") == "a83001a4-cbae-5352-986b-4a5fd532b686"


def test_a_refused_entry_raises_for_a_retry():
    with pytest.raises(RuntimeError, match="^EventBridge refused the event for p-1$"):
        put(answer={"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]})
