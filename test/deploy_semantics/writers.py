"""Who writes into what: every service, service-linked role or role of ours that delivers into an
encrypted topic, queue, log group, bucket or volume, found in a template, with what it needs.

Each writer names the principal the service really uses (AWS documents it per integration) and the
target it writes to; the checks then ask the target's key policy and resource policy about exactly
that principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from .cfn import ACCOUNT, StackTemplate

ASG_SERVICE_LINKED_ROLE = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
                           "AWSServiceRoleForAutoScaling")
# What a publisher needs of the key of an encrypted SNS topic or SQS queue (AWS SNS and SQS docs:
# "Enable compatibility between event sources from AWS services and encrypted topics/queues").
MESSAGE_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
LOGS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
EBS_KEY_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom"]
WRITE_ACTION = {"AWS::SNS::Topic": "sns:Publish", "AWS::SQS::Queue": "sqs:SendMessage"}


@dataclass(frozen=True)
class Writer:
    source: str  # the resource whose configuration makes the service write
    target: str  # logical id of the topic, queue, log group or bucket written to
    service: Optional[str] = None  # a service principal ...
    role_arn: Optional[str] = None  # ... or a role (service-linked or ours)
    key_actions: tuple = tuple(MESSAGE_KEY_ACTIONS)
    needs_resource_policy: bool = True

    @property
    def principal(self) -> str:
        return self.service or self.role_arn


def encryption_key(stack: StackTemplate, logical_id: str) -> Optional[str]:
    """The logical id of the template's KMS key that encrypts this resource, if any."""
    props = stack.props(logical_id)
    type_ = stack.resources[logical_id]["Type"]
    value = None
    if type_ in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
        value = props.get("KmsMasterKeyId")
    elif type_ == "AWS::Logs::LogGroup":
        value = props.get("KmsKeyId")
    elif type_ == "AWS::S3::Bucket":
        for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
            value = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID") or value
    key = stack.logical_id_of(value)
    return key if key and stack.resources[key]["Type"] == "AWS::KMS::Key" else None


def _targets(stack: StackTemplate, value) -> Iterator[str]:
    logical_id = stack.logical_id_of(value)
    if logical_id and stack.resources[logical_id]["Type"] in WRITE_ACTION:
        yield logical_id


def message_writers(stack: StackTemplate) -> Iterator[Writer]:
    """Services that publish to the template's topics and queues."""
    for logical_id, resource in stack.of_type("AWS::CloudWatch::Alarm"):
        props = resource["Properties"]
        for action in props.get("AlarmActions", []) + props.get("OKActions", []) + \
                props.get("InsufficientDataActions", []):
            for target in _targets(stack, action):
                yield Writer(logical_id, target, service="cloudwatch.amazonaws.com", needs_resource_policy=False)
    for logical_id, resource in stack.of_type("AWS::Events::Rule"):
        for target in resource["Properties"].get("Targets", []):
            for value in (target.get("Arn"), target.get("DeadLetterConfig", {}).get("Arn")):
                for written in _targets(stack, value):
                    yield Writer(logical_id, written, service="events.amazonaws.com")
    for logical_id, resource in stack.of_type("AWS::Budgets::Budget"):
        for notification in resource["Properties"].get("NotificationsWithSubscribers", []):
            for subscriber in notification.get("Subscribers", []):
                for target in _targets(stack, subscriber.get("Address")):
                    yield Writer(logical_id, target, service="budgets.amazonaws.com")
    for logical_id, resource in stack.of_type("AWS::CE::AnomalySubscription"):
        for subscriber in resource["Properties"].get("Subscribers", []):
            for target in _targets(stack, subscriber.get("Address")):
                yield Writer(logical_id, target, service="costalerts.amazonaws.com")
    for logical_id, resource in stack.of_type("AWS::SNS::Subscription"):
        props = resource["Properties"]
        redrive = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        endpoint = props.get("Endpoint") if props.get("Protocol") == "sqs" else None
        for value in (redrive, endpoint):
            for target in _targets(stack, value):
                yield Writer(logical_id, target, service="sns.amazonaws.com")
    for logical_id, resource in stack.of_type("AWS::AutoScaling::AutoScalingGroup"):
        for notification in resource["Properties"].get("NotificationConfigurations", []):
            for target in _targets(stack, notification.get("TopicARN")):
                yield Writer(logical_id, target, role_arn=ASG_SERVICE_LINKED_ROLE)
    for logical_id, resource in stack.of_type("AWS::S3::Bucket"):
        notifications = resource["Properties"].get("NotificationConfiguration", {})
        for config in notifications.get("TopicConfigurations", []) + notifications.get("QueueConfigurations", []):
            for target in _targets(stack, config.get("Topic") or config.get("Queue")):
                yield Writer(logical_id, target, service="s3.amazonaws.com")


def log_group_writers(stack: StackTemplate) -> Iterator[Writer]:
    """CloudWatch Logs encrypts every log group itself, whoever sends the events."""
    for logical_id, _ in stack.of_type("AWS::Logs::LogGroup"):
        yield Writer(logical_id, logical_id, service=f"logs.{stack.region}.amazonaws.com",
                     key_actions=tuple(LOGS_KEY_ACTIONS), needs_resource_policy=False)


def bucket_writers(stack: StackTemplate) -> Iterator[Writer]:
    """Services that deliver objects into the template's buckets with their own principal."""
    for logical_id, resource in stack.of_type("AWS::EC2::FlowLog"):
        props = resource["Properties"]
        if props.get("LogDestinationType") == "s3":
            bucket = props.get("LogDestination")
            for candidate, _ in stack.of_type("AWS::S3::Bucket"):
                if bucket is not None and candidate in str(bucket):
                    yield Writer(logical_id, candidate, service="delivery.logs.amazonaws.com",
                                 key_actions=("kms:GenerateDataKey",))
