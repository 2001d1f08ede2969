"""The upstream payment provider, behind one small interface.

This sandbox provider authorizes any token except ``tok_decline...`` and derives a reference from
the credentials; replace ``authorize`` with the real provider's client in your own handler layer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from aws_lambda_powertools.utilities import parameters


@dataclass(frozen=True)
class Authorization:
    approved: bool
    reference: str
    decline_reason: str | None = None


def _signing_key() -> bytes:
    # Powertools caches the value for five minutes, so a rotated secret is picked up soon after.
    secret = json.loads(parameters.get_secret(os.environ["PROVIDER_SECRET_ARN"], max_age=300))
    return secret["api_key"].encode()


def authorize(payment_id: str, token: str, amount: int, currency: str) -> Authorization:
    reference = hmac.new(_signing_key(), f"{payment_id}:{amount}:{currency}".encode(), hashlib.sha256)
    if token.startswith("tok_decline"):
        return Authorization(False, reference.hexdigest()[:20], "card_declined")
    return Authorization(True, reference.hexdigest()[:20])
