"""The audit copier, against moto: a staged Firehose object is put into the Object Lock bucket under the
same key, with the Content-MD5 S3 requires there (moto applies no default retention: AWS's lock is not
rehearsed here)."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from moto import mock_aws

from cdk_payments.runtime import audit_copy, clients

STAGING, AUDIT, PREFIX = "staging-bucket", "audit-bucket", "payment-events/"
KEY = f"{PREFIX}2026/12/03/11/PaymentPlatform-dev-AuditTrailDeliveryStream-1-2026-12-03-11-42-07-0f3e6a2c"
RECORDS = b'{"detail-type": "Payment Processed", "detail": {"payment_id": "p-1"}}\n'


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("STAGING_BUCKET", STAGING)
    monkeypatch.setenv("AUDIT_BUCKET", AUDIT)
    monkeypatch.setenv("AUDIT_PREFIX", PREFIX)
    with mock_aws():
        clients.reset()
        client = boto3.client("s3")
        client.create_bucket(Bucket=STAGING)
        client.create_bucket(Bucket=AUDIT, ObjectLockEnabledForBucket=True)
        client.put_object_lock_configuration(Bucket=AUDIT, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}})
        client.put_object(Bucket=STAGING, Key=KEY, Body=RECORDS)
        yield client
        clients.reset()


def _created(bucket: str, key: str) -> dict:
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(RECORDS)}}}


def test_the_staged_object_lands_locked_under_the_same_key_with_its_md5(s3):
    sent = []
    clients.s3().meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(request.headers))
    result = audit_copy.handler(_created(STAGING, KEY), None)
    assert result["key"] == KEY and result["bytes"] == len(RECORDS) and result["version_id"]
    copy = s3.get_object(Bucket=AUDIT, Key=KEY)
    assert copy["Body"].read() == RECORDS
    # Newline-delimited JSON, as Firehose wrote it: what a reader of the audit trail (Athena, a download) is told.
    assert copy["ContentType"] == "application/x-ndjson"
    # What S3 demands of an upload to a bucket with default retention: the body's MD5, base64.
    (headers,) = sent
    assert headers["Content-MD5"].decode() == base64.b64encode(hashlib.md5(RECORDS).digest()).decode()


@pytest.mark.parametrize("bucket, key", [("someone-elses-bucket", KEY), (STAGING, "other/object"), (STAGING, None)])
def test_it_copies_nothing_but_the_staging_buckets_audit_objects(s3, bucket, key):
    with pytest.raises(audit_copy.NotAnAuditDelivery) as refused:
        audit_copy.handler(_created(bucket, key), None)
    # The refusal names the object, for whoever reads the dead-letter queue or the log.
    assert str(refused.value) == f"not an audit delivery: s3://{bucket}/{key}"
    assert s3.list_objects_v2(Bucket=AUDIT).get("KeyCount") == 0
