"""What the payment functions need from a payment provider, as one small typed interface.

An adapter is a class with a no-argument constructor that subclasses :class:`PaymentProvider`. One
instance lives per Lambda execution environment (connection pools and circuit breakers with it);
credentials are passed on every call, because the secret rotates under a warm function.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Optional

Credentials = Mapping[str, Any]
"""The provider secret's JSON object (``api_key`` and whatever else the adapter needs)."""


class Outcome(str, enum.Enum):
    APPROVED = "APPROVED"
    """The provider authorized the payment."""
    DECLINED = "DECLINED"
    """A definite decline: retrying the same request gives the same answer."""
    RETRYABLE = "RETRYABLE"
    """The provider did not act on the request (it was never sent, or refused as overloaded)."""
    UNKNOWN = "UNKNOWN"
    """The request may have reached the provider but no answer came back (a timeout after sending)."""


@dataclass(frozen=True)
class AuthorizationRequest:
    payment_id: str
    """Also the provider-side idempotency key: sending it twice must authorize at most once."""
    payment_method_token: str
    amount: int
    """In the currency's minor unit."""
    currency: str
    merchant_id: str


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    reference: Optional[str] = None
    """The provider's id for the authorization, when it gave one."""
    decline_reason: Optional[str] = None
    detail: Optional[str] = None
    """Why a call was retryable or unknown, for logs; never card data or credentials."""

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED

    @classmethod
    def approve(cls, reference: str) -> "Authorization":
        return cls(Outcome.APPROVED, reference)

    @classmethod
    def decline(cls, reason: str, reference: Optional[str] = None) -> "Authorization":
        return cls(Outcome.DECLINED, reference, decline_reason=reason)

    @classmethod
    def retryable(cls, detail: str) -> "Authorization":
        return cls(Outcome.RETRYABLE, detail=detail)

    @classmethod
    def unknown(cls, detail: str) -> "Authorization":
        return cls(Outcome.UNKNOWN, detail=detail)


@dataclass(frozen=True)
class OperationRequest:
    """A capture, void or refund of an authorized payment."""

    operation_id: str
    """The provider-side idempotency key: sending it twice must act at most once."""
    payment_id: str
    provider_reference: Optional[str]
    """The provider's id for the authorization (``Authorization.reference``)."""
    amount: int
    """In minor units: what to capture or refund (for a void, the authorized amount)."""
    currency: str
    merchant_id: str
    reason: Optional[str] = None
    """A refund's reason, as the merchant gave it."""


class UnsupportedOperation(Exception):
    """Raised by an adapter that does not implement capture, void or refund (the API answers 501)."""


class CredentialsRejected(Exception):
    """Raised by :meth:`PaymentProvider.test_credentials` when the provider refuses new credentials."""


class PaymentProvider(ABC):
    """A payment provider, as the processor, the event handler and the rotation function use it.

    Return outcomes rather than raising: an exception from ``authorize`` or ``status`` is treated
    as UNKNOWN by the event handler and as a 500 by the processor (nothing is written then).
    """

    @abstractmethod
    def authorize(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        """Authorize one payment, using ``request.payment_id`` as the idempotency key."""

    @abstractmethod
    def status(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        """The outcome of an earlier ``authorize`` whose answer was lost (UNKNOWN).

        Called by the event handler until it returns APPROVED or DECLINED; look the payment up by
        its id, or re-send the authorization with the same idempotency key.
        """

    # -- lifecycle (since 0.2; adapters written before keep working and answer "unsupported") ---------
    # Each returns the same outcomes as ``authorize``: APPROVED, DECLINED (definite), RETRYABLE (not
    # acted on: the API writes nothing and answers 503) or UNKNOWN (the event handler calls the method
    # again with the same ``operation_id`` until it is APPROVED or DECLINED).
    def capture(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        """Capture ``request.amount`` (at most the authorized amount) of an authorization."""
        raise UnsupportedOperation(f"{type(self).__name__} does not implement capture")

    def void(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        """Release an authorization that was not captured."""
        raise UnsupportedOperation(f"{type(self).__name__} does not implement void")

    def refund(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        """Refund ``request.amount`` of a captured payment (one of possibly several refunds)."""
        raise UnsupportedOperation(f"{type(self).__name__} does not implement refund")

    # -- credential rotation (Secrets Manager's rotation function calls these) ----------------------
    @abstractmethod
    def issue_credentials(self, current: Credentials, *, idempotency_key: str) -> dict[str, Any]:
        """New credentials (the whole secret object), issued with ``current``.

        ``idempotency_key`` is the rotation's token: the same for every retry of one rotation.
        """

    @abstractmethod
    def test_credentials(self, credentials: Credentials) -> None:
        """Raise :class:`CredentialsRejected` unless ``credentials`` work (a read-only call)."""

    @abstractmethod
    def revoke_credentials(self, retired: Credentials, *, current: Credentials) -> None:
        """Revoke ``retired`` using ``current``; revoking twice (or an unknown key) is not an error."""
