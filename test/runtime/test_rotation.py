"""The rotation function's four steps under moto: idempotent, and AWSCURRENT intact after any failure."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from contextlib import contextmanager
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.secretsmanager.models import secretsmanager_backends

from cdk_payments.runtime import clients, providers, rotation
from cdk_payments.runtime.providers import CredentialsRejected

from .conftest import REGION, FakeContext

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RecordingProvider(providers.PaymentProvider):
    """Issues ``key-N`` keys; fails where ``fail`` says; records calls (never the keys' use)."""

    calls: list = []
    fail: set = set()
    issued = 0

    def authorize(self, request, credentials):
        raise NotImplementedError

    def status(self, request, credentials):
        raise NotImplementedError

    def issue_credentials(self, current, *, idempotency_key):
        self.calls.append(("issue", current["api_key"], idempotency_key))
        if "issue" in self.fail:
            raise RuntimeError("provider down")
        type(self).issued += 1
        return {**current, "api_key": f"key-{type(self).issued}"}

    def test_credentials(self, credentials):
        self.calls.append(("test", credentials["api_key"]))
        if "test" in self.fail:
            raise CredentialsRejected("refused")

    def revoke_credentials(self, retired, *, current):
        self.calls.append(("revoke", retired["api_key"], current["api_key"]))
        if "revoke" in self.fail:
            raise RuntimeError("provider down")


@pytest.fixture
def secret(aws, monkeypatch):
    monkeypatch.setenv("PROVIDER_MODULE", __name__)
    monkeypatch.setenv("PROVIDER_CLASS", "RecordingProvider")
    providers.provider.cache_clear()
    RecordingProvider.calls, RecordingProvider.fail, RecordingProvider.issued = [], set(), 0
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="rotated", SecretString=json.dumps({"api_key": "key-0", "base_url": "https://p"}))[
        "ARN"]
    # Turns rotation on (moto, given no function, moves AWSCURRENT to a copy of the value).
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    yield client, arn
    providers.provider.cache_clear()


def start(client, arn):
    """What Secrets Manager does before it invokes the function: an AWSPENDING version id, no value yet.

    (moto's RotateSecret would invoke the function in Docker, or move AWSCURRENT itself without one.)
    """
    token = str(uuid.uuid4())
    secret = secretsmanager_backends["123456789012"][REGION].secrets[arn]
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}
    return token


def run(arn, token, step):
    return rotation.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, FakeContext())


def current(client, arn):  # by stage: moto answers a bare GetSecretValue with its default version
    return json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])["api_key"]


@contextmanager
def logged(logger):
    """What ``logger`` (a Powertools logger) writes inside the block, as its JSON formatter writes it."""
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)
    try:
        yield stream
    finally:
        logging.getLogger(logger.name).removeHandler(capture)


def stages(client, arn):
    return client.describe_secret(SecretId=arn)["VersionIdsToStages"]


def rotate(client, arn, twice=False):
    token = start(client, arn)
    for step in STEPS:
        run(arn, token, step)
        if twice:
            run(arn, token, step)
    return token


def test_four_steps_rotate_the_key_and_each_step_is_safe_to_rerun(secret):
    client, arn = secret
    token = rotate(client, arn, twice=True)
    assert current(client, arn) == "key-1"
    assert "AWSCURRENT" in stages(client, arn)[token]  # Secrets Manager drops AWSPENDING after finishSecret
    issues = [c for c in RecordingProvider.calls if c[0] == "issue"]
    assert issues == [("issue", "key-0", token)]  # issued once despite every step running twice
    value = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    assert value == {"api_key": "key-1", "base_url": "https://p"}  # the rest of the secret is kept
    assert ("test", "key-1") in RecordingProvider.calls
    assert not [c for c in RecordingProvider.calls if c[0] == "revoke"]  # key-0 is AWSPREVIOUS, still valid
    for step in STEPS:  # once current, a late duplicate invocation changes nothing
        run(arn, token, step)
    assert current(client, arn) == "key-1"


def test_keys_are_revoked_one_rotation_late(secret):
    client, arn = secret
    rotate(client, arn)
    rotate(client, arn)
    assert current(client, arn) == "key-2"
    revokes = [c for c in RecordingProvider.calls if c[0] == "revoke"]
    assert revokes == [("revoke", "key-0", "key-2")]


@pytest.mark.parametrize("failing_step", STEPS)
def test_a_failure_at_any_step_leaves_the_current_version_intact(secret, failing_step):
    client, arn = secret
    rotate(client, arn)  # key-1 current, key-0 previous: finishSecret will revoke key-0
    before = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    token = start(client, arn)
    failures = {"createSecret": "issue", "testSecret": "test", "finishSecret": "revoke"}
    for step in STEPS:
        if step == failing_step:
            if step == "setSecret":  # nothing provider-side; Secrets Manager itself can fail
                with mock.patch.object(rotation, "_value", side_effect=ClientError(
                        {"Error": {"Code": "InternalServiceError", "Message": "x"}}, "GetSecretValue")):
                    with pytest.raises(ClientError):
                        run(arn, token, step)
            else:
                RecordingProvider.fail = {failures[step]}
                with pytest.raises((RuntimeError, CredentialsRejected)):
                    run(arn, token, step)
            break
        run(arn, token, step)
    after = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    assert (after["VersionId"], after["SecretString"]) == (before["VersionId"], before["SecretString"])
    assert current(client, arn) == "key-1"

    # Secrets Manager retries the failed step, then the rest: the rotation completes.
    RecordingProvider.fail = set()
    for step in STEPS[STEPS.index(failing_step):]:
        run(arn, token, step)
    assert current(client, arn) == "key-2"
    assert [c for c in RecordingProvider.calls if c[0] == "issue"][-1] == ("issue", "key-1", token)


def test_refuses_what_is_not_a_rotation_in_progress(secret):
    client, arn = secret
    unrotated = client.create_secret(Name="unrotated", SecretString="{}")["ARN"]
    with pytest.raises(rotation.RotationError, match="^rotation is not enabled on this secret$"):
        run(unrotated, str(uuid.uuid4()), "createSecret")
    token = start(client, arn)
    with pytest.raises(rotation.RotationError, match="not a version"):
        run(arn, str(uuid.uuid4()), "createSecret")
    with pytest.raises(rotation.RotationError, match="unknown step"):
        run(arn, token, "dropSecret")
    with pytest.raises(rotation.RotationError, match="createSecret has not completed"):
        run(arn, token, "setSecret")
    for step in ("testSecret", "finishSecret"):  # before createSecret: nothing to test or to make current
        with pytest.raises(rotation.RotationError, match=f"^version {token} has no pending credentials$"):
            run(arn, token, step)


def test_refuses_a_version_that_is_neither_pending_nor_current_and_a_value_that_is_not_an_object(secret):
    client, arn = secret
    first = rotate(client, arn)
    rotate(client, arn)  # the first rotation's version is now AWSPREVIOUS
    with pytest.raises(rotation.RotationError, match=f"^version {first} is not pending rotation$"):
        run(arn, first, "createSecret")
    listed = client.create_secret(Name="listed", SecretString="[]")
    client.rotate_secret(SecretId=listed["ARN"], RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    token = start(client, listed["ARN"])
    [listed_current] = [v for v, labels in stages(client, listed["ARN"]).items() if "AWSCURRENT" in labels]
    with pytest.raises(rotation.RotationError, match=f"^version {listed_current} is not a JSON object$"):
        run(listed["ARN"], token, "createSecret")


def test_each_step_logs_what_it_did_with_its_version(secret):
    client, arn = secret
    with logged(rotation.logger) as stream:
        first = rotate(client, arn, twice=True)
        second = rotate(client, arn)
        run(arn, second, "finishSecret")  # a late duplicate, once current
    said = [(line["message"], {k: line[k] for k in ("version", "step", "retired_version") if k in line})
            for line in map(json.loads, stream.getvalue().splitlines())]
    for step in STEPS:
        assert ("rotation step", {"version": first, "step": step}) in said
    for message in ("pending version created", "pending version already created",
                    "pending credentials active at the provider since issued", "pending credentials work"):
        assert (message, {"version": first}) in said
    assert ("rotation finished", {"version": second, "retired_version": first}) in said
    assert ("retired credentials revoked", {"version": said_previous(said, first)}) in said
    assert ("already current", {"version": second, "step": "finishSecret"}) in said


def said_previous(said, first):
    """The version the second rotation retired: the one that was AWSCURRENT before ``first``."""
    return next(extra["retired_version"] for message, extra in said
                if message == "rotation finished" and extra["version"] == first)


def test_the_sandbox_rotates_with_a_random_key(aws, secret, monkeypatch):
    client, arn = secret
    monkeypatch.delenv("PROVIDER_MODULE")
    monkeypatch.delenv("PROVIDER_CLASS")
    providers.provider.cache_clear()
    rotate(client, arn)
    new = current(client, arn)
    assert new != "key-0" and len(new) >= 32


def test_no_secret_value_in_any_log_line(secret):
    client, arn = secret
    with logged(rotation.logger) as stream:
        rotate(client, arn)
        rotate(client, arn)
    lines = stream.getvalue()
    assert "rotation finished" in lines and "retired credentials revoked" in lines
    for key in ("key-0", "key-1", "key-2"):
        assert key not in lines
    assert clients.secretsmanager() is not None


def test_the_first_rotation_has_no_previous_version_to_revoke(secret):
    """A secret rotated for the first time in AWS has AWSCURRENT only (moto's RotateSecret made an AWSPREVIOUS)."""
    client, arn = secret
    for version in secretsmanager_backends["123456789012"][REGION].secrets[arn].versions.values():
        version["version_stages"] = [s for s in version["version_stages"] if s != "AWSPREVIOUS"]
    assert not [v for v in stages(client, arn).values() if "AWSPREVIOUS" in v]
    rotate(client, arn)
    assert current(client, arn) == "key-1"
    assert not [c for c in RecordingProvider.calls if c[0] == "revoke"]


def test_a_retired_key_the_provider_issued_again_is_not_revoked(secret):
    """Were the pending key the one being retired (a provider handing back an earlier key), revoking it
    would cut off the key just made current."""
    client, arn = secret
    rotate(client, arn)  # key-1 current, key-0 previous
    RecordingProvider.issued = -1  # the next key issued is key-0 again
    rotate(client, arn)
    assert current(client, arn) == "key-0"
    assert not [c for c in RecordingProvider.calls if c[0] == "revoke"]
