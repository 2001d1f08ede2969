"""The payment state machine as pure functions: each transition's guard, its boundaries and its result."""

from __future__ import annotations

import pytest

from cdk_payments.runtime import states
from cdk_payments.runtime.errors import ApiError


def payment(status, amount=1250, capture="manual", **fields):
    return {"status": status, "amount": amount, "capture": capture, **fields}


def refused(call, *args):
    with pytest.raises(ApiError) as raised:
        call(*args)
    assert str(raised.value) == raised.value.message  # what logs and tracebacks show
    return raised.value.status, raised.value.code, raised.value.message


def test_capture_mode_is_manual_only_when_asked():
    assert states.capture_mode({"capture": "manual"}) == "manual"
    assert states.capture_mode({"capture": "automatic"}) == "automatic"
    assert states.capture_mode({}) == "automatic"  # stored before 0.2


@pytest.mark.parametrize("stored,settled", [
    ({"authorized": True, "capture": "manual"}, "AUTHORIZED"),
    ({"authorized": True, "capture": "automatic"}, "PROCESSED"),
    ({"authorized": True}, "PROCESSED"),
    ({"authorized": False, "capture": "manual"}, "FAILED"),
    ({}, "FAILED"),
])
def test_settlement(stored, settled):
    assert states.settled_status(stored) == settled


@pytest.mark.parametrize("stored,captured", [
    ({"status": "CAPTURED", "amount": 1250, "captured_amount": 1000}, 1000),
    ({"status": "PROCESSED", "amount": 1250}, 1250),  # 0.1: captured in full, no captured_amount
    ({"status": "PARTIALLY_REFUNDED", "amount": 1250}, 1250),
    ({"status": "REFUNDED", "amount": 1250}, 1250),
    ({"status": "AUTHORIZED", "amount": 1250}, 0),
    ({"status": "PENDING", "amount": 1250}, 0),
])
def test_captured_amount(stored, captured):
    assert states.captured_amount(stored) == captured


def test_refunded_amount_counts_approved_and_pending_refunds_not_failed_ones():
    refunds = [{"amount": 100, "status": "APPROVED"}, {"amount": 200, "status": "PENDING"},
               {"amount": 400, "status": "FAILED"}, {"amount": 8}]
    assert states.refunded_amount({"refunds": refunds}) == 308
    assert states.refunded_amount({"refunds": None}) == 0
    assert states.refunded_amount({}) == 0


@pytest.mark.parametrize("fields,pending", [
    ({}, False), ({"capture_status": "PENDING"}, True), ({"void_status": "PENDING"}, True),
    ({"capture_status": "APPROVED", "void_status": "FAILED"}, False),
])
def test_pending_operation(fields, pending):
    assert states.pending_operation(fields) is pending


@pytest.mark.parametrize("status", ["PENDING", "AUTHORIZED"])
def test_capture_up_to_the_authorized_amount(status):
    assert states.capture(payment(status), None) == {"status": "CAPTURED", "captured_amount": 1250}
    assert states.capture(payment(status), 1250) == {"status": "CAPTURED", "captured_amount": 1250}
    assert states.capture(payment(status), 1) == {"status": "CAPTURED", "captured_amount": 1}
    assert refused(states.capture, payment(status), 1251) == (
        422, "amount_exceeds_authorized", "amount must be at most the authorized 1250")


@pytest.mark.parametrize("stored", [
    payment("PENDING", capture="automatic"), payment("AUTHORIZED", capture="automatic"),
    payment("PENDING", capture=None), payment("CAPTURED"), payment("VOIDED"), payment("FAILED"),
    payment("PROCESSED"), payment("UNKNOWN"),
])
def test_capture_and_void_need_a_manual_capture_payment_not_yet_captured(stored):
    status = stored["status"]
    assert refused(states.capture, stored, 100) == (
        409, "payment_not_capturable", f"a payment in status {status} cannot be captured (only manual-capture "
        "payments that are PENDING or AUTHORIZED)")
    assert refused(states.void, stored) == (
        409, "payment_not_voidable", f"a payment in status {status} cannot be voided (only manual-capture "
        "payments that are PENDING or AUTHORIZED; refund a captured one)")


@pytest.mark.parametrize("status", ["PENDING", "AUTHORIZED"])
def test_void(status):
    assert states.void(payment(status)) == {"status": "VOIDED"}


@pytest.mark.parametrize("stored", [
    payment("PROCESSED", capture="automatic"), payment("CAPTURED", captured_amount=1250),
    payment("PARTIALLY_REFUNDED", captured_amount=1250, refunds=[{"amount": 250, "status": "APPROVED"}]),
])
def test_refund_in_part_then_in_full(stored):
    left = 1250 - states.refunded_amount(stored)
    assert states.refund(stored, 1) == {"status": "PARTIALLY_REFUNDED", "captured_amount": 1250}
    assert states.refund(stored, left - 1) == {"status": "PARTIALLY_REFUNDED", "captured_amount": 1250}
    assert states.refund(stored, left) == {"status": "REFUNDED", "captured_amount": 1250}
    refunded = 1250 - left
    assert refused(states.refund, stored, left + 1) == (
        422, "amount_exceeds_refundable", f"amount must be at most {left} (captured 1250, refunded {refunded})")


def test_a_partial_capture_is_refundable_up_to_what_was_captured():
    stored = payment("CAPTURED", captured_amount=1000)
    assert states.refund(stored, 1000) == {"status": "REFUNDED", "captured_amount": 1000}
    assert refused(states.refund, stored, 1001)[1] == "amount_exceeds_refundable"


@pytest.mark.parametrize("stored", [
    payment("PENDING"), payment("AUTHORIZED"), payment("VOIDED"), payment("FAILED"), payment("UNKNOWN"),
    payment("REFUNDED", captured_amount=1250),
    payment("CAPTURED", captured_amount=1250, capture_status="PENDING"),  # the capture is not settled
    payment("CAPTURED", captured_amount=1250, void_status="PENDING"),
])
def test_refund_needs_a_settled_capture(stored):
    assert refused(states.refund, stored, 1) == (
        409, "payment_not_refundable", f"a payment in status {stored['status']} cannot be refunded (only "
        "PROCESSED, CAPTURED or PARTIALLY_REFUNDED ones, once their capture is settled)")


def test_at_most_max_refunds_per_payment():
    refunds = [{"amount": 1, "status": "APPROVED"}] * (states.MAX_REFUNDS - 1)
    stored = payment("PARTIALLY_REFUNDED", captured_amount=1250, refunds=refunds)
    assert states.refund(stored, 1)["status"] == "PARTIALLY_REFUNDED"  # the 100th
    stored["refunds"] = [*refunds, {"amount": 1, "status": "FAILED"}]  # failed ones count too (they are stored)
    assert refused(states.refund, stored, 1) == (409, "too_many_refunds", "a payment takes at most 100 refunds")


@pytest.mark.parametrize("stored,status", [
    (payment("PARTIALLY_REFUNDED", capture="automatic", refunds=[{"amount": 250, "status": "FAILED"}]), "PROCESSED"),
    (payment("PARTIALLY_REFUNDED", captured_amount=1000, refunds=[{"amount": 250, "status": "FAILED"}]), "CAPTURED"),
    (payment("PARTIALLY_REFUNDED", captured_amount=1000, refunds=[{"amount": 999, "status": "APPROVED"}]),
     "PARTIALLY_REFUNDED"),
    (payment("PARTIALLY_REFUNDED", captured_amount=1000, refunds=[{"amount": 1000, "status": "APPROVED"}]),
     "REFUNDED"),
])
def test_after_refunds(stored, status):
    assert states.after_refunds(stored) == status
