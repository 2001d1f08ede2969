"""Payment events on EventBridge: one function puts them, in the shape ``payment_event.schema.json``
publishes (version ``1``).

Delivery is at least once: an event is put before the change it announces is stored, so a retry
after a failure in between puts it again. ``detail.event_id`` is the same on every such retry
(derived from the payment and the transition, never random): consumers dedupe on it, not on
EventBridge's own ``id``, which differs between retries.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Mapping

from . import clients

SCHEMA_VERSION = "1"
SOURCE_DEFAULT = "cdk-payments"
_NAMESPACE = uuid.UUID("0f1c3c8e-5b7a-4d38-9a51-3f3f3c1b2a64")


def event_id(*parts: str) -> str:
    """A stable id for the event that announces one transition (the same on every retry)."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(parts)))


def put(detail_type: str, payment: Mapping[str, Any], status: str, *, event: str,
        extra: Mapping[str, Any] | None = None) -> None:
    """Put one ``Payment ...`` event; ``event`` names the transition (for its id)."""
    detail = {
        "version": SCHEMA_VERSION,
        "event_id": event_id(str(payment["payment_id"]), event),
        "payment_id": payment["payment_id"],
        "merchant_id": payment["merchant_id"],
        "amount": int(payment["amount"]),
        "currency": payment["currency"],
        "status": status,
        **(extra or {}),
    }
    if payment.get("decline_reason"):
        detail["decline_reason"] = payment["decline_reason"]
    response = clients.events().put_events(
        Entries=[
            {
                "Source": os.environ.get("EVENT_SOURCE", SOURCE_DEFAULT),
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=int),
                "EventBusName": os.environ.get("EVENT_BUS_NAME", "default"),
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the event for {payment['payment_id']}")  # transient
