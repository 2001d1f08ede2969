"""The audit copier: puts each batch of payment events Firehose delivered to the staging bucket into the
Object Lock audit bucket, under the same key, with a Content-MD5 header.

Why a copier: S3 requires a Content-MD5 or x-amz-checksum-* header on every upload to a bucket with
Object Lock default retention, and Firehose documents no such header on its writes; this function
sends one (computed here, so it does not depend on the SDK's default checksums). The bucket's default
retention then locks the copy as it lands. The staging object is left to the staging bucket's expiry.

Invoked by EventBridge (S3 "Object Created" events of the staging bucket), asynchronously: a failure is
retried by Lambda, then by EventBridge for 24 hours, then lands in the audit dead-letter queue.
At least once: a retried copy writes a second version of the same key (same content).
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from . import clients


class NotAnAuditDelivery(ValueError):
    """The event names an object this copier must not copy (another bucket, or outside the prefix)."""


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    # Firehose's keys are prefix, date, stream name, UUID: no character S3 would URL-encode in an event.
    if bucket != os.environ["STAGING_BUCKET"] or not isinstance(key, str) or not key.startswith(
            os.environ["AUDIT_PREFIX"]):
        raise NotAnAuditDelivery(f"not an audit delivery: s3://{bucket}/{key}")
    s3 = clients.s3()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # at most Firehose's 5 MB buffer
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    put = s3.put_object(Bucket=os.environ["AUDIT_BUCKET"], Key=key, Body=body, ContentMD5=md5,
                        ContentType="application/x-ndjson")
    return {"key": key, "bytes": len(body), "version_id": put.get("VersionId")}
