"""The provider secret's rotation function: Secrets Manager's four steps, provider parts delegated.

* ``createSecret``: the adapter issues new credentials with the current ones (the rotation token is
  its idempotency key); they are stored as the token's AWSPENDING version.
* ``setSecret``: the provider activated the key when it issued it; this checks the pending version.
* ``testSecret``: the adapter tests the pending credentials with a read-only call.
* ``finishSecret``: the adapter revokes the AWSPREVIOUS credentials (a key one rotation old, which no
  function has cached for longer than five minutes), then AWSCURRENT moves to the new version.

Every step can run again after a failure or a duplicate invocation: each checks whether its work is
done first, and nothing changes AWSCURRENT before the last call. No secret value is ever logged.
"""

from __future__ import annotations

import gc
import json
from typing import Any, Callable, Optional

# No garbage collection while the handler's dependencies load, none of them later: see runtime/api.py.
_collecting = gc.isenabled()
gc.disable()
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from . import clients, providers
from .observability import logger

gc.freeze()
if _collecting:
    gc.enable()

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"


class RotationError(Exception):
    """The rotation cannot go on; Secrets Manager reports it and AWSCURRENT stays as it was."""


def _value(arn: str, *, stage: str, version: Optional[str] = None) -> Optional[dict[str, Any]]:
    options = {"VersionId": version} if version else {}
    try:
        raw = clients.secretsmanager().get_secret_value(SecretId=arn, VersionStage=stage, **options)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    value = json.loads(raw.get("SecretString") or "null")
    if not isinstance(value, dict):
        raise RotationError(f"version {raw['VersionId']} is not a JSON object")
    return value


def _version_with(versions: dict[str, list[str]], stage: str) -> Optional[str]:
    return next((version for version, stages in versions.items() if stage in stages), None)


def create_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    if _value(arn, stage=PENDING, version=token) is not None:
        logger.info("pending version already created", extra={"version": token})
        return
    current = _value(arn, stage=CURRENT)
    new = providers.provider().issue_credentials(current or {}, idempotency_key=token)
    clients.secretsmanager().put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(new),
                                              VersionStages=[PENDING])
    logger.info("pending version created", extra={"version": token})


def set_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    pending = _value(arn, stage=PENDING, version=token)
    if not pending or not pending.get("api_key"):
        raise RotationError(f"version {token} has no pending credentials; createSecret has not completed")
    logger.info("pending credentials active at the provider since issued", extra={"version": token})


def test_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    pending = _value(arn, stage=PENDING, version=token)
    if pending is None:
        raise RotationError(f"version {token} has no pending credentials")
    providers.provider().test_credentials(pending)
    logger.info("pending credentials work", extra={"version": token})


def finish_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    current_version = _version_with(versions, CURRENT)
    pending = _value(arn, stage=PENDING, version=token)
    if pending is None:
        raise RotationError(f"version {token} has no pending credentials")
    previous_version = _version_with(versions, PREVIOUS)
    if previous_version and previous_version not in (current_version, token):
        retired = _value(arn, stage=PREVIOUS, version=previous_version)
        current = _value(arn, stage=CURRENT) or {}
        if retired and retired.get("api_key") not in (current.get("api_key"), pending.get("api_key")):
            providers.provider().revoke_credentials(retired, current=pending)
            logger.info("retired credentials revoked", extra={"version": previous_version})
    clients.secretsmanager().update_secret_version_stage(
        SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current_version
    )
    logger.info("rotation finished", extra={"version": token, "retired_version": current_version})


STEPS: dict[str, Callable[[str, str, dict[str, list[str]]], None]] = {
    "createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret, "finishSecret": finish_secret,
}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    run(event, STEPS)


def run(event: dict[str, Any], steps: dict[str, Callable[[str, str, dict[str, list[str]]], None]]) -> None:
    """Check the event against the secret's versions, then run its step (also for runtime/webhook_rotation.py)."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in steps:
        raise RotationError(f"unknown step {step!r}")
    metadata = clients.secretsmanager().describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError("rotation is not enabled on this secret")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} is not a version of this secret")
    if CURRENT in versions[token]:
        logger.info("already current", extra={"version": token, "step": step})
        return
    if PENDING not in versions[token]:
        raise RotationError(f"version {token} is not pending rotation")
    logger.info("rotation step", extra={"version": token, "step": step})
    steps[step](arn, token, versions)
