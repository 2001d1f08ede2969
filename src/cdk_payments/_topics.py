"""Encrypted, TLS-only SNS topics that the AWS services publishing to them can actually publish to."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


def service_topic(scope: Construct, id: str, key: kms.IKey, *, publishers: Sequence[str],
                  display_name: str) -> sns.Topic:
    """A topic encrypted with ``key`` whose policy lets ``publishers`` (service principals) publish.

    A topic policy replaces SNS's default one, so a service principal needs its own Allow there as
    well as on the key (``_kms.allow_services``, the caller's): without both, CloudWatch alarms,
    EventBridge or Budgets fail to publish, silently.
    """
    topic = sns.Topic(scope, id, display_name=display_name, master_key=key, enforce_ssl=True)
    topic.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowPublishingServices",
        actions=["sns:Publish"],
        principals=[iam.ServicePrincipal(s) for s in publishers],
        resources=[topic.topic_arn],
        conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
    ))
    return topic
