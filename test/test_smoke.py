"""`cdk-payments smoke`: its steps against a fake payment API on 127.0.0.1 and moto's AWS, and how it
fails (missing output, no stack, AccessDenied, another merchant's 200) with its exit codes.

(The same command against the real handlers deployed in the emulator: test/local and the rehearsal.)
"""

from __future__ import annotations

import io
import json
import re
import sys
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cdk_payments import smoke
from cdk_payments.cost.cli import main as cdk_payments

from .http_server import JsonServer

REGION = "us-east-1"


class FakeApi(JsonServer):
    """The payment API's observable behaviour, per merchant (by SigV4 access key), and a knob to break it."""

    def __init__(self, *, isolated: bool = True, deduplicates: bool = True, audit=None) -> None:
        self.payments, self.keys, self.owners = {}, {}, {}
        self.isolated, self.deduplicates, self.audit = isolated, deduplicates, audit
        super().__init__(self._serve)

    def _serve(self, method, path, headers, body):
        caller = re.search(r"Credential=([A-Z0-9]+)/", headers["Authorization"]).group(1)
        status, answer = self.answer(method, path, caller, json.loads(body) if body else None,
                                     headers.get("Idempotency-Key"))
        return status, {}, answer

    def answer(self, method, path, caller, body, key):
        if method == "POST":
            if self.deduplicates and (caller, key) in self.keys:
                return 202, self.keys[(caller, key)]
            payment_id = str(uuid.uuid4())
            self.payments[payment_id] = {**body, "payment_id": payment_id, "merchant_id": caller, "status": "PROCESSED",
                                         "created_at": "2026-01-01T00:00:00+00:00"}
            self.owners[payment_id] = caller
            if self.audit:
                self.audit(payment_id)
            self.keys[(caller, key)] = {"payment_id": payment_id, "status": "PENDING"}
            return 202, self.keys[(caller, key)]
        if path.startswith("/v1/payments/"):
            payment = self.payments.get(path.rsplit("/", 1)[1])
            if payment is None or (self.isolated and self.owners[payment["payment_id"]] != caller):
                return 404, {"error": {"code": "payment_not_found", "message": "no payment with this id"}}
            return 200, payment
        mine = [p for p in self.payments.values() if self.owners[p["payment_id"]] == caller]
        return 200, {"payments": mine, "next_cursor": None}



OUTPUT_KEYS = ("ApiUrl", "DemoMerchantRoleArn", "SecondMerchantRoleArn", "AuditBucketName", "AuditEventsPrefix")


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def deploy_stack(session, api_url, *, without=(), name="Payments"):
    """A stack that outputs what smoke reads (an S3 bucket as the audit destination)."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket="audit")
    values = {"ApiUrl": api_url, "DemoMerchantRoleArn": "arn:aws:iam::123456789012:role/Demo",
              "SecondMerchantRoleArn": "arn:aws:iam::123456789012:role/Second", "AuditBucketName": "audit",
              "AuditEventsPrefix": "payment-events/"}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in values.items() if k not in without}}
    session.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return lambda payment_id: s3.put_object(Bucket="audit", Key=f"payment-events/2026/{payment_id}",
                                            Body=json.dumps({"detail": {"payment_id": payment_id}}))


def run(session, *args):
    out = io.StringIO()
    parsed = smoke.parser().parse_args(["--stack", "Payments", "--process-timeout", "1", "--audit-timeout", "1", *args])
    code = smoke.Smoke(smoke.SmokeOptions(**vars(parsed), poll_interval=0.01), session=session, out=out).run()
    return code, out.getvalue()


@pytest.fixture
def fake_api():
    apis = []

    def start(**kwargs):
        apis.append(FakeApi(**kwargs))
        return apis[-1]

    yield start
    for api in apis:
        api.close()


def test_every_step_passes_against_a_working_stack(aws, fake_api):
    audit = None
    api = fake_api(audit=lambda payment_id: audit(payment_id))
    audit = deploy_stack(aws, api.url)
    code, out = run(aws)
    steps = re.findall(r"^\[\s*\d+\.\d\ds\] (ok|FAIL) +([^:]+):", out, re.M)
    assert code == 0, out
    assert steps == [("ok", s) for s in ("stack outputs read", "signed in as the merchant role", "payment accepted",
                                         "replay answered the same, nothing new", "payment processed",
                                         "payment listed", "second merchant gets 404", "audit record written",
                                         "smoke test passed")]
    (payment,) = api.payments.values()
    assert payment["description"] == smoke.SMOKE_DESCRIPTION and payment["metadata"]["smoke_test"] == "true"


@pytest.mark.parametrize("missing", ["DemoMerchantRoleArn", "SecondMerchantRoleArn", "AuditEventsPrefix"])
def test_a_missing_output_is_named_and_exits_2(aws, fake_api, missing):
    deploy_stack(aws, fake_api().url, without=(missing,))
    code, out = run(aws)
    assert code == 2, out
    assert "FAIL" in out and f"the stack Payments has no output {missing}" in out.splitlines()[-1]


def test_no_such_stack_exits_2_in_plain_words(aws):
    code, out = run(aws)
    assert code == 2
    assert "FAIL stack outputs read: AWS refused DescribeStacks: ValidationError: Stack with id Payments does not exist" in out


def test_access_denied_is_said_in_plain_words(aws, fake_api, monkeypatch):
    deploy_stack(aws, fake_api().url)

    def denied(*args, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::123456789012:user/ci is "
                                     "not authorized to perform: sts:AssumeRole"}}, "AssumeRole")

    monkeypatch.setattr(smoke, "PaymentsClient", denied)
    code, out = run(aws)
    assert code == 1
    assert out.splitlines()[-1].endswith(
        "FAIL signed in as the merchant role: AWS refused AssumeRole: AccessDenied: User: arn:aws:iam::123456789012:"
        "user/ci is not authorized to perform: sts:AssumeRole (the credentials in use are not allowed to do this)")


def test_another_merchants_200_fails_the_isolation_step(aws, fake_api):
    deploy_stack(aws, fake_api(isolated=False).url)
    code, out = run(aws)
    assert code == 1
    assert "FAIL second merchant gets 404: the second merchant (arn:aws:iam::123456789012:role/Second) read the " \
           "payment: 200 PROCESSED; expected 404 (tenants are not isolated)" in out


def test_a_replay_that_creates_a_second_payment_fails(aws, fake_api):
    deploy_stack(aws, fake_api(deduplicates=False).url)
    code, out = run(aws)
    assert code == 1 and "FAIL replay answered the same, nothing new: the replay answered" in out


def test_no_audit_record_fails_after_the_timeout(aws, fake_api):
    deploy_stack(aws, fake_api().url)
    code, out = run(aws)
    assert code == 1 and "FAIL audit record written: no record of the payment under s3://audit/payment-events/" in out


def test_the_cdk_payments_command_dispatches_smoke(aws, capsys):
    assert cdk_payments(["smoke", "--stack", "Nope", "--region", REGION]) == 2
    assert "AWS refused DescribeStacks" in capsys.readouterr().out


def test_without_boto3_the_command_says_which_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.delitem(sys.modules, "cdk_payments.smoke")
    assert cdk_payments(["smoke", "--stack", "Payments"]) == 2
    assert "cdk-payments smoke needs boto3: pip install 'cdk-payments[client]'" in capsys.readouterr().err
