"""The payment state machine, in one place: which status a payment is in, which transitions each
status allows, and the amounts they may move.

    POST /payments ──► PENDING ──(event handler)──► PROCESSED ─┐   capture "automatic" (default)
          │                                                     │
          │  capture "manual"                                   ▼
          └──────────► PENDING ──(event handler)──► AUTHORIZED ──capture──► CAPTURED ──refund──► PARTIALLY_REFUNDED
                          │                            │                                         │   │
                          └────────────void────────────┴──► VOIDED                refund (all) ──┘   └──► REFUNDED
    declined: FAILED   ·   answer lost: UNKNOWN (resolved by the event handler to PENDING's successors or FAILED)

PENDING, PROCESSED, FAILED and UNKNOWN keep their 0.1 meaning: PROCESSED is a payment captured in full
automatically. A manual-capture payment may be captured or voided while still PENDING (its
authorization is already approved). Refunds need a captured payment (PROCESSED, CAPTURED or already
partially refunded) and together never exceed the captured amount.

Every function here is pure: it reads a stored payment and returns the attributes a transition sets,
or raises :class:`~.errors.ApiError` (409 for a transition the status does not allow, 422 for an
amount it does not allow). ``runtime.lifecycle`` writes the result with a condition on the version it
read, so a concurrent transition makes the write fail and the decision is taken again.
"""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ApiError

PENDING, AUTHORIZED, PROCESSED, CAPTURED = "PENDING", "AUTHORIZED", "PROCESSED", "CAPTURED"
PARTIALLY_REFUNDED, REFUNDED, VOIDED, FAILED, UNKNOWN = "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "FAILED", "UNKNOWN"
STATUSES = (PENDING, AUTHORIZED, PROCESSED, CAPTURED, PARTIALLY_REFUNDED, REFUNDED, VOIDED, FAILED, UNKNOWN)
AUTOMATIC, MANUAL = "automatic", "manual"

CAPTURABLE = frozenset({PENDING, AUTHORIZED})  # manual capture only
CAPTURED_STATES = frozenset({PROCESSED, CAPTURED, PARTIALLY_REFUNDED})  # refundable (REFUNDED has nothing left)
FINAL = frozenset({PROCESSED, FAILED, VOIDED, REFUNDED, CAPTURED, PARTIALLY_REFUNDED, AUTHORIZED})
"""Statuses the event handler's settlement never overwrites."""
# Each transition's (operation, from, to) for the README diagram's test and for the events.
TRANSITIONS = (
    ("settle", PENDING, PROCESSED), ("settle", PENDING, AUTHORIZED), ("settle", PENDING, FAILED),
    ("settle", UNKNOWN, PROCESSED), ("settle", UNKNOWN, AUTHORIZED), ("settle", UNKNOWN, FAILED),
    ("capture", PENDING, CAPTURED), ("capture", AUTHORIZED, CAPTURED),
    ("void", PENDING, VOIDED), ("void", AUTHORIZED, VOIDED),
    ("refund", PROCESSED, PARTIALLY_REFUNDED), ("refund", PROCESSED, REFUNDED),
    ("refund", CAPTURED, PARTIALLY_REFUNDED), ("refund", CAPTURED, REFUNDED),
    ("refund", PARTIALLY_REFUNDED, PARTIALLY_REFUNDED), ("refund", PARTIALLY_REFUNDED, REFUNDED),
)
MAX_REFUNDS = 100  # per payment: the refunds live in the payment's item (at most 400 KB)


def capture_mode(payment: Mapping[str, Any]) -> str:
    """Payments stored before 0.2 have no ``capture`` field: they were captured automatically."""
    return MANUAL if payment.get("capture") == MANUAL else AUTOMATIC


def settled_status(payment: Mapping[str, Any]) -> str:
    """What the event handler settles an authorized (or declined) payment as."""
    if not payment.get("authorized"):
        return FAILED
    return AUTHORIZED if capture_mode(payment) == MANUAL else PROCESSED


def captured_amount(payment: Mapping[str, Any]) -> int:
    """What was captured: the whole amount for PROCESSED (0.1 payments have no ``captured_amount``)."""
    if "captured_amount" in payment:
        return int(payment["captured_amount"])
    return int(payment["amount"]) if payment.get("status") in (PROCESSED, PARTIALLY_REFUNDED, REFUNDED) else 0


def refunded_amount(payment: Mapping[str, Any]) -> int:
    """Refunds approved or still pending at the provider (a pending refund holds its amount)."""
    return sum(int(r["amount"]) for r in payment.get("refunds") or () if r.get("status") != "FAILED")


def pending_operation(payment: Mapping[str, Any]) -> bool:
    return (payment.get("capture_status") == "PENDING" or payment.get("void_status") == "PENDING")


def capture(payment: Mapping[str, Any], amount: int | None) -> dict[str, Any]:
    status = payment["status"]
    if capture_mode(payment) != MANUAL or status not in CAPTURABLE:
        raise ApiError(409, "payment_not_capturable",
                       f"a payment in status {status} cannot be captured (only manual-capture payments "
                       "that are PENDING or AUTHORIZED)")
    authorized = int(payment["amount"])
    amount = authorized if amount is None else amount
    if amount > authorized:
        raise ApiError(422, "amount_exceeds_authorized", f"amount must be at most the authorized {authorized}")
    return {"status": CAPTURED, "captured_amount": amount}


def void(payment: Mapping[str, Any]) -> dict[str, Any]:
    status = payment["status"]
    if capture_mode(payment) != MANUAL or status not in CAPTURABLE:
        raise ApiError(409, "payment_not_voidable",
                       f"a payment in status {status} cannot be voided (only manual-capture payments that are "
                       "PENDING or AUTHORIZED; refund a captured one)")
    return {"status": VOIDED}


def refund(payment: Mapping[str, Any], amount: int) -> dict[str, Any]:
    """The status after a refund of ``amount`` is recorded (pending or approved)."""
    status = payment["status"]
    if status not in CAPTURED_STATES or pending_operation(payment):
        raise ApiError(409, "payment_not_refundable",
                       f"a payment in status {status} cannot be refunded (only PROCESSED, CAPTURED or "
                       "PARTIALLY_REFUNDED ones, once their capture is settled)")
    if len(payment.get("refunds") or ()) >= MAX_REFUNDS:
        raise ApiError(409, "too_many_refunds", f"a payment takes at most {MAX_REFUNDS} refunds")
    captured, refunded = captured_amount(payment), refunded_amount(payment)
    if refunded + amount > captured:
        raise ApiError(422, "amount_exceeds_refundable",
                       f"amount must be at most {captured - refunded} (captured {captured}, refunded {refunded})")
    return {"status": REFUNDED if refunded + amount == captured else PARTIALLY_REFUNDED,
            "captured_amount": captured}


def after_refunds(payment: Mapping[str, Any]) -> str:
    """The status a captured payment has given its refunds (after one failed, for instance)."""
    refunded = refunded_amount(payment)
    if refunded == 0:
        return PROCESSED if capture_mode(payment) == AUTOMATIC else CAPTURED
    return REFUNDED if refunded >= captured_amount(payment) else PARTIALLY_REFUNDED
