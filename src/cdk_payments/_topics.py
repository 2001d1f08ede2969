"""Encrypted, TLS-only SNS topics that the AWS services publishing to them can actually publish to."""

from __future__ import annotations

from typing import Sequence

import jsii
from aws_cdk import Annotations, Aspects, Aws, IAspect, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

NO_SUBSCRIBER_WARNING = "cdk-payments:topicWithoutSubscriber"


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
    Aspects.of(topic).add(WarnWithoutSubscriber())
    return topic



IMPORTED_TOPIC_WARNING = "cdk-payments:importedTopicPolicy"


def warn_if_imported_topic(scope: Construct, topic: sns.ITopic, prop: str, publishers: Sequence[str]) -> None:
    """An imported topic's policy and key cannot be changed here: say what they must already allow
    for ``publishers`` (service principals), which otherwise drop their messages silently."""
    if topic is None or isinstance(topic, sns.Topic):
        return
    Annotations.of(scope).add_warning_v2(
        IMPORTED_TOPIC_WARNING,
        f"{prop} is imported, so its topic policy cannot be changed here: it must allow sns:Publish to "
        f"{', '.join(publishers)} (and, if the topic is encrypted with a customer managed key, so must the "
        "key's policy: kms:GenerateDataKey* and kms:Decrypt), or their messages are dropped silently.",
    )


@jsii.implements(IAspect)
class WarnWithoutSubscriber:
    """Warns at synthesis about a topic nobody subscribes to: its alerts would reach no one.

    An aspect, so that subscriptions added after the topic (``topic.add_subscription``, or an
    ``sns.Subscription`` elsewhere in the stack) count."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, sns.Topic):
            return
        if any(isinstance(child, sns.Subscription) for child in node.node.children):
            return
        stack = Stack.of(node)
        arn = stack.resolve(node.topic_arn)
        if any(isinstance(c, sns.CfnSubscription) and stack.resolve(c.topic_arn) == arn for c in stack.node.find_all()):
            return
        Annotations.of(node).add_warning_v2(
            NO_SUBSCRIBER_WARNING,
            f"Topic {node.node.path} has no subscriber, so its alerts reach no one: subscribe an e-mail address "
            "or an HTTPS endpoint (AlertTopics emails/https_endpoints, or topic.add_subscription).")
