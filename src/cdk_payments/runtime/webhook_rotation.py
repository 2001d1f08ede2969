"""Rotation of a merchant's webhook signing secret, with a grace period.

Standard Webhooks lets a delivery carry several signatures (``v1,<a> v1,<b>``). The new version keeps
the old secret as ``previous`` until ``previous_until`` (``GRACE_SECONDS`` after the rotation): until
then every delivery is signed with both, so the merchant's endpoint verifies with either secret and
can switch to the new one at its own pace.

* ``createSecret``: the pending version: a new ``whsec_`` secret, the endpoint unchanged, the current
  secret as ``previous``.
* ``setSecret``: nothing to set elsewhere (the merchant reads the new secret from you).
* ``testSecret``: the pending version is a well-formed signing secret.
* ``finishSecret``: AWSCURRENT moves to the new version.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from . import clients
from .observability import logger
from .rotation import CURRENT, PENDING, RotationError, _value, _version_with, run
from .webhooks import SECRET_PREFIX, new_secret

GRACE_SECONDS = 24 * 3600


def create_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    if _value(arn, stage=PENDING, version=token) is not None:
        return
    current = _value(arn, stage=CURRENT) or {}
    if not current.get("url"):
        raise RotationError("the current version names no endpoint url")
    new = {"url": current["url"], "secret": new_secret(), "previous": current.get("secret"),
           "previous_until": int(time.time()) + GRACE_SECONDS}
    clients.secretsmanager().put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(new),
                                              VersionStages=[PENDING])
    logger.info("pending webhook secret created", extra={"version": token})


def set_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    """The merchant fetches the new secret; the old one keeps verifying until ``previous_until``."""


def test_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    """The version has an endpoint and a signing key of 24 to 64 bytes (Standard Webhooks): a ``whsec_``
    secret, or the 44 base64 characters CloudFormation generates (Secrets Manager also asks this of the
    current version when a schedule is set)."""
    version = _value(arn, stage=PENDING, version=token) or {}
    if not version.get("url") or not _signing_key(str(version.get("secret", ""))):
        raise RotationError(f"version {token} is not a webhook endpoint with a signing secret")


def _signing_key(secret: str) -> bool:
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return 24 <= len(base64.b64decode(encoded, validate=True)) <= 64
    except ValueError:
        return False


def finish_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    clients.secretsmanager().update_secret_version_stage(
        SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=_version_with(versions, CURRENT))
    logger.info("webhook secret rotated", extra={"version": token})


STEPS = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret,
         "finishSecret": finish_secret}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> None:
    run(event, STEPS)
