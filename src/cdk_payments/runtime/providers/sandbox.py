"""The default adapter: a sandbox that needs no provider account, for development and tests.

Tokens choose the outcome: ``tok_decline...`` is declined (``card_declined``), ``tok_unavailable...``
is a retryable failure, ``tok_timeout...`` an unknown outcome that ``status`` later resolves as
approved; any other token is approved. Captures, voids and refunds are approved, each with a
reference derived from its operation id. References are derived from the credentials, so a rotated
key changes them. Rotation issues a new random ``api_key`` and revokes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from .base import (
    Authorization,
    AuthorizationRequest,
    Credentials,
    CredentialsRejected,
    OperationRequest,
    PaymentProvider,
)


class SandboxProvider(PaymentProvider):
    def authorize(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        token = request.payment_method_token
        if token.startswith("tok_unavailable"):
            return Authorization.retryable("sandbox: provider unavailable")
        if token.startswith("tok_timeout"):
            return Authorization.unknown("sandbox: timed out after sending")
        return self.status(request, credentials)

    def status(self, request: AuthorizationRequest, credentials: Credentials) -> Authorization:
        message = f"{request.payment_id}:{request.amount}:{request.currency}".encode()
        reference = hmac.new(str(credentials["api_key"]).encode(), message, hashlib.sha256).hexdigest()[:20]
        if request.payment_method_token.startswith("tok_decline"):
            return Authorization.decline("card_declined", reference)
        return Authorization.approve(reference)

    def capture(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation(request, credentials)

    def void(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation(request, credentials)

    def refund(self, request: OperationRequest, credentials: Credentials) -> Authorization:
        return self._operation(request, credentials)

    @staticmethod
    def _operation(request: OperationRequest, credentials: Credentials) -> Authorization:
        message = f"{request.operation_id}:{request.amount}".encode()
        return Authorization.approve(hmac.new(str(credentials["api_key"]).encode(), message, hashlib.sha256).hexdigest()[:20])

    def issue_credentials(self, current: Credentials, *, idempotency_key: str) -> dict[str, Any]:
        return {**current, "api_key": secrets.token_urlsafe(32)}

    def test_credentials(self, credentials: Credentials) -> None:
        if not str(credentials.get("api_key", "")):
            raise CredentialsRejected("the secret has no api_key")

    def revoke_credentials(self, retired: Credentials, *, current: Credentials) -> None:
        return None  # sandbox keys are not registered anywhere
