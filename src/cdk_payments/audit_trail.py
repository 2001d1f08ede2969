"""PaymentAuditTrail: every payment state change, and optionally every API call, kept in the AuditBucket."""

from __future__ import annotations

from typing import Optional

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._kms import allow_services, key_policy_statements, record
from ._nag import AcknowledgeGrantPolicies, acknowledge, guard
from ._queues import dead_letter_queue
from ._validation import PropErrors, pick
from .audit import AuditBucket
from .choices import AccountTrailMode

__all__ = ["AccountTrailMode", "PaymentAuditTrail"]

EVENTS_PREFIX = "payment-events/"
TRAIL_PREFIX = "cloudtrail"
EVENT_SOURCE = "cdk-payments"
# What Firehose's delivery role needs on its S3 destination besides putting objects (AWS's documented
# policy for an S3 destination, less s3:GetObject: the stream never reads what it wrote).
BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")


class PaymentAuditTrail(Construct):
    """Writes every payment state change to an :class:`AuditBucket`, as an append-only record.

    An EventBridge rule on the payments' bus matches every event of ``event_source`` (``Payment
    Processed``, ``Payment Failed``...) and hands it to a Kinesis Data Firehose stream, which writes
    batches of events (one JSON event per line, as EventBridge delivered it) under ``prefix`` within
    ``buffer_interval``: ``<prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``, UTC. The
    bucket's Object Lock default retention locks each object as it lands; the delivery role may put
    objects and nothing else (no delete, no overwrite), and encrypts with the bucket's key. S3 asks
    for a checksum only on uploads that carry Object Lock parameters; Firehose sends none (the
    bucket's default retention applies), so an Object Lock bucket takes its objects as any other.

    ``account_trail`` adds a CloudTrail trail of the account's management events into the same
    bucket (``cloudtrail/AWSLogs/...``): ``CREATE`` (the default, for a fresh account), or
    ``EXISTING``/``NONE`` where an organization trail already records them (AWS Control Tower's
    does) or you want none. The first trail of an account is free; every further copy of management
    events costs $2 per 100,000 events, so create one trail per account, not one per stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        audit: AuditBucket,
        event_bus: Optional[events.IEventBus] = None,
        event_source: Optional[str] = None,
        prefix: Optional[str] = None,
        buffer_interval: Optional[Duration] = None,
        account_trail: Optional[AccountTrailMode] = None,
    ) -> None:
        """
        :param audit: the bucket the records go to.
        :param event_bus: the bus payment events are put on (``SecurePaymentApi.event_bus``). Default:
            the account's default bus
        :param event_source: the events' ``source``. Default: ``cdk-payments``
        :param prefix: the S3 key prefix of the records, ending in ``/``. Default: ``payment-events/``
        :param buffer_interval: at most this long between an event and its record, 60 to 900 seconds.
            Default: 60 seconds
        :param account_trail: whether to create the account's CloudTrail trail. Default: CREATE
        """
        super().__init__(scope, id)
        errors = PropErrors("PaymentAuditTrail")
        errors.check_implements(audit, "audit", "AuditBucket", "bucket", required=True)
        errors.check_implements(event_bus, "event_bus", "events.IEventBus", "event_bus_name", required=False)
        errors.check_enum(account_trail, "account_trail", AccountTrailMode)
        for prop, value in (("event_source", event_source), ("prefix", prefix)):
            errors.check_type(value, prop, str)
        errors.check(not isinstance(prefix, str) or (prefix.endswith("/") and not prefix.startswith("/")
                                                     and "!{" not in prefix),
                     "prefix", f"must be a key prefix such as 'payment-events/' (no leading '/', no "
                     f"expressions), got {prefix!r}")
        if errors.check_type(buffer_interval, "buffer_interval", Duration) and buffer_interval is not None:
            seconds = buffer_interval.to_seconds()
            errors.check(60 <= seconds <= 900, "buffer_interval", f"must be 60 to 900 seconds, got {seconds}")
        errors.raise_if_any()

        self._prefix = pick(prefix, EVENTS_PREFIX)
        bus = event_bus or events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self._delivery_role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}),
            description="Kinesis Data Firehose: writes payment events to the audit bucket")
        audit.grant_write(self._delivery_role)  # put only, with the bucket's key
        iam.Grant.add_to_principal(grantee=self._delivery_role, actions=list(BUCKET_ACTIONS),
                                   resource_arns=[audit.bucket.bucket_arn])
        self._stream = self._create_stream(audit, pick(buffer_interval, Duration.seconds(60)))
        self._rule = events.Rule(
            self, "Rule", event_bus=bus, description="Payment state changes to the audit bucket",
            event_pattern=events.EventPattern(source=[pick(event_source, EVENT_SOURCE)]),
        )
        # What EventBridge cannot deliver for 24 hours waits, encrypted, in a dead-letter queue.
        allow_services(audit.encryption_key, "events.amazonaws.com", scope=self)
        self._dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", audit.encryption_key, holds="payment events EventBridge could not put into "
            "the audit delivery stream", redrive_queue=False)
        self._rule.add_target(_StreamTarget(self, self._stream, self._dead_letter_queue))
        self._trail = (self._create_trail(audit)
                       if pick(account_trail, AccountTrailMode.CREATE) is AccountTrailMode.CREATE else None)
        AcknowledgeGrantPolicies.apply(self)

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements the audit key's policy needs for this construct: with the account trail,
        CloudTrail may encrypt with it. Added to a key the app owns; add them to an imported key's policy
        (synthesis warns). Firehose's role gets the key through an IAM grant."""
        return key_policy_statements(self)

    @property
    def delivery_stream(self) -> firehose.CfnDeliveryStream:
        """The Firehose stream that writes the records."""
        return self._stream

    @property
    def delivery_role(self) -> iam.Role:
        """The role Firehose writes to the audit bucket with."""
        return self._delivery_role

    @property
    def rule(self) -> events.Rule:
        """The EventBridge rule that sends payment events to the stream."""
        return self._rule

    @property
    def dead_letter_queue(self) -> sqs.Queue:
        """Payment events EventBridge could not put into the stream within 24 hours."""
        return self._dead_letter_queue

    @property
    def prefix(self) -> str:
        """The S3 key prefix the records land under."""
        return self._prefix

    @property
    def trail(self) -> Optional[cloudtrail.Trail]:
        """The account's CloudTrail trail, when ``account_trail`` is CREATE."""
        return self._trail

    def _create_stream(self, audit: AuditBucket, interval: Duration) -> firehose.CfnDeliveryStream:
        stream = firehose.CfnDeliveryStream(
            self, "DeliveryStream",
            delivery_stream_type="DirectPut",
            # Encrypted at rest inside Firehose too, with an AWS-owned key (no key policy to manage, free).
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream
            .DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK"),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=audit.bucket.bucket_arn,
                role_arn=self._delivery_role.role_arn,
                prefix=self._prefix,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=int(interval.to_seconds()), size_in_m_bs=5),
                compression_format="UNCOMPRESSED",  # one JSON event per line, readable as is
                # The bucket's default SSE-KMS encryption (and its Bucket Key) applies: no second setting.
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    no_encryption_config="NoEncryption"),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True, processors=[firehose.CfnDeliveryStream.ProcessorProperty(
                        type="AppendDelimiterToRecord", parameters=[
                            firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                parameter_name="Delimiter", parameter_value="\\n")])]),
            ),
        )
        # Firehose checks at creation that the role can write to the bucket: its policy first (the role
        # itself is ordered by the RoleARN reference).
        policy = self._delivery_role.node.try_find_child("DefaultPolicy")
        if policy is None:
            raise RuntimeError("aws-cdk-lib renamed a role's DefaultPolicy: the stream must wait for its grants")
        stream.node.add_dependency(policy)
        return stream

    def _create_trail(self, audit: AuditBucket) -> cloudtrail.Trail:
        # CloudTrail writes with its own service principal: the bucket policy (the Trail adds it) and the
        # key policy must both let it; it encrypts with the audit key (GenerateDataKey, and DescribeKey to check it).
        key = audit.encryption_key
        record(self, key, key.grant(iam.ServicePrincipal("cloudtrail.amazonaws.com"), "kms:GenerateDataKey*",
                                    "kms:DescribeKey"),
               "cloudtrail.amazonaws.com to encrypt log files with it (kms:GenerateDataKey*, kms:DescribeKey)")
        trail = cloudtrail.Trail(
            self, "AccountTrail", bucket=audit.bucket, s3_key_prefix=TRAIL_PREFIX, encryption_key=key,
            is_multi_region_trail=True, include_global_service_events=True, enable_file_validation=True,
            send_to_cloud_watch_logs=False,
        )
        acknowledge(
            trail,
            "The trail writes to the Object Lock audit bucket (SSE-KMS by default, retained, replicated in "
            "prod) and validates its log files; CloudWatch Logs delivery would duplicate that at a cost.",
            "NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled",
            "PCI.DSS.321-CloudTrailCloudWatchLogsEnabled",
            guard("cloud_trail_cloud_watch_logs_enabled_check"),
        )
        return trail


@jsii.implements(events.IRuleTarget)
class _StreamTarget:
    """EventBridge puts matched events into ``stream`` with a role of its own (aws-events-targets'
    Firehose target needs the L2 stream, whose module adds an unused region-to-CIDR mapping)."""

    def __init__(self, scope: Construct, stream: firehose.CfnDeliveryStream, dead_letters: sqs.IQueue) -> None:
        self._stream, self._dead_letters = stream, dead_letters
        self._role = iam.Role(scope, "EventsRole", assumed_by=iam.ServicePrincipal(
            "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}),
            description="EventBridge: puts payment events into the audit delivery stream")
        iam.Grant.add_to_principal(grantee=self._role, actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                                   resource_arns=[stream.attr_arn])

    def bind(self, rule: events.IRule, id: Optional[str] = None) -> events.RuleTargetConfig:
        # EventBridge sends to a dead-letter queue with its service principal, on behalf of this rule only.
        self._dead_letters.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowAuditRuleDeadLetters", actions=["sqs:SendMessage"], resources=[self._dead_letters.queue_arn],
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}}))
        return events.RuleTargetConfig(
            arn=self._stream.attr_arn, role=self._role,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letters.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(maximum_event_age_in_seconds=24 * 3600,
                                                           maximum_retry_attempts=185))
