"""A merchant's webhook secret rotates through Secrets Manager's four steps, keeping the old one as
``previous`` for the grace period, so deliveries carry both signatures until the merchant switches."""

from __future__ import annotations

import base64
import json
import time

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from cdk_payments.runtime import webhook_rotation, webhooks

from .conftest import REGION, FakeContext
from .test_rotation import STEPS, logged, stages, start

OLD = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def secret(aws):
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="webhooks-merchant-42",
                               SecretString=json.dumps({"url": "https://hooks.shop.example/p", "secret": OLD}))["ARN"]
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 90}, RotateImmediately=False)
    return client, arn


def run(arn, token, step):
    webhook_rotation.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, FakeContext())


def value(client, arn):
    return json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])


def test_rotation_keeps_the_old_secret_verifying_for_the_grace_period(secret):
    client, arn = secret
    token = start(client, arn)
    for step in STEPS:
        run(arn, token, step)
        run(arn, token, step)  # each step is safe to run again
    rotated = value(client, arn)
    assert "AWSCURRENT" in stages(client, arn)[token]
    assert rotated["url"] == "https://hooks.shop.example/p" and rotated["previous"] == OLD
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != OLD
    assert 0 < rotated["previous_until"] - time.time() <= webhook_rotation.GRACE_SECONDS
    body, stamp = '{"type":"payment.captured"}', int(time.time())
    header = webhooks.signatures(webhooks.signing_secrets(rotated, stamp), "msg-1", stamp, body)
    for merchant_secret in (OLD, rotated["secret"]):  # the merchant verifies with either
        headers = {"webhook-id": "msg-1", "webhook-timestamp": str(stamp), "webhook-signature": header}
        assert Webhook(merchant_secret).verify(body, headers) == {"type": "payment.captured"}


def test_until_finish_secret_deliveries_keep_signing_with_the_current_secret_alone(secret):
    """createSecret stores the new version as AWSPENDING only: were it AWSCURRENT (Secrets Manager's default
    label for a new value), deliveries would sign with a secret the merchant has not fetched yet, with no
    grace period for the old one."""
    client, arn = secret
    token = start(client, arn)
    run(arn, token, "createSecret")
    assert value(client, arn) == {"url": "https://hooks.shop.example/p", "secret": OLD}
    assert stages(client, arn)[token] == ["AWSPENDING"]
    pending = json.loads(client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
    assert pending["previous"] == OLD and pending["secret"] != OLD


def test_a_secret_without_an_endpoint_is_not_rotated(aws):
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="webhooks-broken", SecretString=json.dumps({"secret": OLD}))["ARN"]
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 90}, RotateImmediately=False)
    token = start(client, arn)
    with pytest.raises(webhook_rotation.RotationError, match="^the current version names no endpoint url$"):
        run(arn, token, "createSecret")
    assert value(client, arn) == {"secret": OLD}


def key(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


@pytest.mark.parametrize(("secret", "valid"), [
    (OLD, True), ("A1b2" * 11, True),  # the 44 base64 characters CloudFormation generates
    ("whsec_short", False), ("not base64!" * 4, False),
    (key(24), True), (key(23), False), (key(64), True), (key(65), False)])  # Standard Webhooks: 24 to 64 bytes
def test_test_secret_accepts_a_generated_or_whsec_key_only(aws, secret, valid):
    """Secrets Manager asks testSecret of the current, generated version when the schedule is set."""
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="webhooks-generated",
                               SecretString=json.dumps({"url": "https://h.example/p", "secret": secret}))["ARN"]
    version = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (token,) = version
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING", MoveToVersionId=token)
    if valid:
        webhook_rotation.test_secret(arn, token, version)
    else:
        with pytest.raises(webhook_rotation.RotationError,
                           match=f"^version {token} is not a webhook endpoint with a signing secret$"):
            webhook_rotation.test_secret(arn, token, version)


def test_each_step_that_changes_the_secret_logs_its_version_and_never_a_secret(secret):
    client, arn = secret
    with logged(webhook_rotation.logger) as stream:
        token = start(client, arn)
        for step in STEPS:
            run(arn, token, step)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    said = [(line["message"], line.get("version")) for line in lines if line.get("version") == token]
    assert ("pending webhook secret created", token) in said and ("webhook secret rotated", token) in said
    rotated = value(client, arn)["secret"]
    assert OLD not in stream.getvalue() and rotated not in stream.getvalue()
