"""Encrypted, SSL-only SQS queues, and the dead-letter queues the constructs keep for operators."""

from __future__ import annotations

from typing import Any, Optional

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._alarms import alarm
from ._kms import allow_services
from ._nag import acknowledge, guard


def encrypted_queue(scope: Construct, id: str, key: kms.IKey, **props: Any) -> sqs.Queue:
    """A queue encrypted with ``key`` (data keys reused for a day: fewer KMS calls) and SSL-only."""
    return sqs.Queue(scope, id, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
                     data_key_reuse=Duration.hours(24), enforce_ssl=True, **props)


def dead_letter_queue(scope: Construct, id: str, key: kms.IKey, *, holds: str, redrive_queue: bool) -> sqs.Queue:
    """A 14-day dead-letter queue for ``holds`` (what lands in it), read and redriven by an operator.

    ``redrive_queue``: it is an SQS queue's redrive target (else an EventBridge or SNS DLQ, which
    AwsSolutions-SQS3 cannot see and flags as a queue with no DLQ of its own).
    """
    queue = encrypted_queue(scope, id, key, retention_period=Duration.days(14))
    rules = ["Serverless-SQSRedrivePolicy", guard("sqs_dlq_check")] + ([] if redrive_queue else ["AwsSolutions-SQS3"])
    acknowledge(queue, f"This is a dead-letter queue itself, for {holds}; an operator inspects and redrives "
                       "its messages, never automatically.", *rules)
    return queue


def dead_letter_alarm(scope: Construct, id: str, queue: sqs.IQueue, *, topic: Optional[sns.ITopic],
                      what: str) -> cloudwatch.Alarm:
    """An alarm as soon as one message waits in ``queue`` (``what`` it holds), sent to ``topic``: a
    dead-letter queue nobody watches loses what lands in it after its 14 days."""
    return alarm(scope, id, queue.metric_approximate_number_of_messages_visible(
        period=Duration.minutes(5), statistic="Maximum"), threshold=1, topic=topic,
        description=f"{what} wait in a dead-letter queue: inspect them, then redrive")


def topic_target(scope: Construct, id: str, key: kms.IKey, topic: sns.ITopic, *, holds: str,
                 what: str) -> tuple[targets.SnsTopic, cloudwatch.Alarm]:
    """An EventBridge target that publishes to ``topic``: EventBridge may use the topic's key and
    ``key``, which encrypts the dead-letter queue ``id`` for what SNS refuses (``holds``); an alarm
    on that queue (``what`` waits there) goes to ``topic`` too. Several rules may share the target."""
    allow_services(key, "events.amazonaws.com", scope=scope)
    if topic.master_key is not None:
        allow_services(topic.master_key, "events.amazonaws.com")
    undelivered = dead_letter_queue(scope, id, key, holds=holds, redrive_queue=False)
    waiting = dead_letter_alarm(scope, f"{id}Waiting", undelivered, topic=topic, what=what)
    return targets.SnsTopic(topic, dead_letter_queue=undelivered), waiting
