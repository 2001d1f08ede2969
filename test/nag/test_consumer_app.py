"""A consumer's app under PciDss401Checks: its deliberately non-compliant resources get findings, the
library's constructs none (their acknowledgements carry over from the cdk-nag rules the pack reuses)."""

from __future__ import annotations

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from cdk_payments import PaymentApiAuthorization, Profile

from ..harness import synth
from ..test_composition import compose


@pytest.fixture(scope="module")
def app():
    def build(stack):
        compose(stack, profile=Profile.PROD, auth=PaymentApiAuthorization.IAM, network="own", key="own",
                table="new", fleet=True)
        sns.Topic(stack, "OwnPlainTopic")  # not encrypted: 3.5.1
        s3.Bucket(stack, "OwnPlainBucket")  # no TLS-only policy, no KMS, no access logs: 4.2.1, 3.5.1, 10.2.1

    return synth(build)


def test_the_users_non_compliant_resources_get_findings(app):
    ours = {(f.rule, f.path.split("/")[1]) for f in app.findings if f.pack == "PCI.DSS.401"}
    assert {("PCI.DSS.401-SNSEncryptedKMS", "OwnPlainTopic"), ("PCI.DSS.401-S3BucketSSLRequestsOnly", "OwnPlainBucket"),
            ("PCI.DSS.401-S3DefaultEncryptionKMS", "OwnPlainBucket"),
            ("PCI.DSS.401-S3BucketLoggingEnabled", "OwnPlainBucket")} <= ours


def test_the_library_constructs_get_none(app):
    assert [str(f) for f in app.findings if f.pack == "PCI.DSS.401" and not f.path.split("/")[1].startswith("Own")] == []
