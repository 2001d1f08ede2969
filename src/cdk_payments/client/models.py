"""The API's answers as typed objects. Fields a newer API adds are kept in ``raw``, never refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class CreatedPayment:
    """The answer to ``POST /payments`` (202): the payment's id and the status it was recorded with."""

    payment_id: str
    status: str
    idempotency_key: str
    decline_reason: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any], idempotency_key: str) -> "CreatedPayment":
        return cls(payment_id=body["payment_id"], status=body["status"], idempotency_key=idempotency_key,
                   decline_reason=body.get("decline_reason"), raw=body)


@dataclass(frozen=True)
class Payment:
    """A payment as ``GET /payments/{payment_id}`` returns it (a list item carries only the summary
    fields: ``description``, ``metadata``, ``updated_at`` and ``decline_reason`` are then None)."""

    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    status: str
    created_at: str
    updated_at: Optional[str] = None
    description: Optional[str] = None
    metadata: Optional[dict[str, str]] = None
    decline_reason: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Payment":
        return cls(payment_id=body["payment_id"], merchant_id=body["merchant_id"], amount=int(body["amount"]),
                   currency=body["currency"], status=body["status"], created_at=body["created_at"],
                   updated_at=body.get("updated_at"), description=body.get("description"),
                   metadata=body.get("metadata"), decline_reason=body.get("decline_reason"), raw=body)


@dataclass(frozen=True)
class PaymentPage:
    """One page of ``GET /payments``; ``next_cursor`` is None on the last page."""

    payments: list[Payment]
    next_cursor: Optional[str]
