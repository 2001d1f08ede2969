"""PaymentAuditTrail: every payment state change, and optionally every API call, kept in the AuditBucket."""

from __future__ import annotations

from typing import Optional

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._alarms import alarm
from ._kms import allow_cloudwatch_logs, allow_services, key_policy_statements, record
from ._nag import AcknowledgeGrantPolicies, acknowledge, guard
from ._queues import dead_letter_alarm, dead_letter_queue
from ._topics import warn_if_imported_topic
from ._validation import PropErrors, pick
from .audit import AuditBucket
from .choices import AccountTrailMode
from .payment_api.functions import FunctionDefaults, PaymentFunction, powertools_layer, runtime_code

__all__ = ["AccountTrailMode", "PaymentAuditTrail"]

EVENTS_PREFIX = "payment-events/"
TRAIL_PREFIX = "cloudtrail"
EVENT_SOURCE = "cdk-payments"
# What Firehose's delivery role needs on its S3 destination besides putting objects (AWS's documented
# policy for an S3 destination, less s3:GetObject: the stream never reads what it wrote).
BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
# Why Firehose writes to a staging bucket and a copier puts each object into the AuditBucket:
#   S3 API reference, PutObject: "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for
#   any request to upload an object with a retention period configured using Amazon S3 Object Lock."
#   S3 User Guide, Object Lock overview: "If you configure a default retention period on a bucket,
#   requests to upload objects in such a bucket must include the Content-MD5 header."
# The AuditBucket has default retention; Firehose documents no Content-MD5 or checksum on its writes, and
# S3 answers such a PUT "InvalidRequest: Content-MD5 OR x-amz-checksum- HTTP header is required for Put
# Object requests with Object Lock parameters". The copier (runtime/audit_copy.py) sends Content-MD5.
# Longer than the dead-letter queue keeps a failed copy's event (14 days): a copy redriven from it still
# finds its object.
STAGING_DAYS = 15
COPIER_HANDLER = "runtime.audit_copy.handler"


class PaymentAuditTrail(Construct):
    """Writes every payment state change to an :class:`AuditBucket`, as an append-only record.

    An EventBridge rule on the payments' bus matches every event of ``event_source`` (``Payment
    Processed``, ``Payment Failed``...) and hands it to a Kinesis Data Firehose stream, which writes
    batches of events (one JSON event per line, as EventBridge delivered it) under ``prefix`` within
    ``buffer_interval``: ``<prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>``, UTC.

    Firehose writes into a staging bucket (no Object Lock, objects expire after 15 days), and a
    copier function puts each object into the audit bucket under the same key, with the Content-MD5
    header S3 requires on every upload to a bucket with Object Lock default retention (Firehose
    documents none); the bucket's default retention locks the copy as it lands. The copier may read the
    staging bucket and put into the audit bucket, nothing else (no delete, no overwrite); both
    buckets are encrypted with the audit key. What EventBridge cannot deliver (to the stream or to
    the copier) lands in one dead-letter queue; with ``alarm_topic``, alarms on that queue and on
    Firehose's delivery (failed writes, records older than an hour) go to the topic.

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
        alarm_topic: Optional[sns.ITopic] = None,
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
        :param alarm_topic: where the delivery and dead-letter alarms go (``AlertTopics.operations_topic``).
            Default: none (console only)
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
        errors.check_implements(alarm_topic, "alarm_topic", "sns.ITopic", "topic_arn", required=False)
        errors.raise_if_any()

        self._prefix = pick(prefix, EVENTS_PREFIX)
        bus = event_bus or events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self._staging = self._create_staging_bucket(audit)
        self._delivery_role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}),
            description="Kinesis Data Firehose: writes payment events to the audit staging bucket")
        self._staging.grant_put(self._delivery_role, f"{self._prefix}*")  # put only, with the bucket's key
        iam.Grant.add_to_principal(grantee=self._delivery_role, actions=list(BUCKET_ACTIONS),
                                   resource_arns=[self._staging.bucket_arn])
        self._stream = self._create_stream(pick(buffer_interval, Duration.seconds(60)))
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
        self._copier = self._create_copier(audit)
        self._alarms = self._create_alarms(alarm_topic)
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
        """Payment events EventBridge could not put into the stream, and staging objects it could not
        have copied, within 24 hours (the event says which: ``source`` is ``aws.s3`` for the latter)."""
        return self._dead_letter_queue

    @property
    def staging_bucket(self) -> s3.Bucket:
        """Where Firehose writes; objects expire after 15 days, once copied into the audit bucket."""
        return self._staging

    @property
    def copier(self) -> lambda_.Function:
        """The function that puts each staging object into the audit bucket (with Content-MD5)."""
        return self._copier.function

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Dead letters, failed Firehose writes, stale Firehose records."""
        return list(self._alarms)

    @property
    def prefix(self) -> str:
        """The S3 key prefix the records land under."""
        return self._prefix

    @property
    def trail(self) -> Optional[cloudtrail.Trail]:
        """The account's CloudTrail trail, when ``account_trail`` is CREATE."""
        return self._trail

    def _create_staging_bucket(self, audit: AuditBucket) -> s3.Bucket:
        # No name (CloudFormation generates one: two stacks side by side, or a redeploy after a failed
        # one, never collide), retained on deletion like the audit bucket; its objects expire.
        bucket = s3.Bucket(
            self, "Staging", encryption=s3.BucketEncryption.KMS, encryption_key=audit.encryption_key,
            bucket_key_enabled=True, enforce_ssl=True, minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=audit.access_log_bucket, server_access_logs_prefix="audit-staging/",
            lifecycle_rules=[s3.LifecycleRule(id="expire-staged", expiration=Duration.days(STAGING_DAYS),
                                              abort_incomplete_multipart_upload_after=Duration.days(1))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # S3 sends "Object Created" events to EventBridge natively (CDK's event_bridge_enabled would add
        # its notifications custom resource, a Lambda function, for the same setting).
        cfn = bucket.node.default_child
        cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True))
        acknowledge(
            bucket,
            "A transit bucket: Firehose's objects wait here at most 15 days for their copy into the "
            "AuditBucket, which is versioned, Object Locked and replicated; locking or versioning the staging "
            "copy would keep a second, unexpiring copy of the same records.",
            "NIST.800.53.R5-S3BucketVersioningEnabled", "PCI.DSS.321-S3BucketVersioningEnabled",
            "NIST.800.53.R5-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled",
            "CKV_AWS_21", guard("s3_bucket_versioning_enabled_check"), guard("s3_bucket_object_lock_enabled_check"),
        )
        return bucket

    def _create_copier(self, audit: AuditBucket) -> PaymentFunction:
        allow_cloudwatch_logs(audit.encryption_key, self)
        copier = PaymentFunction(
            self, "Copier", handler=COPIER_HANDLER,
            description="Copies Firehose's audit objects into the Object Lock audit bucket (with Content-MD5)",
            timeout=Duration.seconds(60),
            environment={"STAGING_BUCKET": self._staging.bucket_name, "AUDIT_BUCKET": audit.bucket.bucket_name,
                         "AUDIT_PREFIX": self._prefix},
            defaults=FunctionDefaults(
                code=runtime_code(), layer=powertools_layer(self, None), key=audit.encryption_key, memory_size=256,
                log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN,
                reserved_concurrency=None, dead_letter_queue=self._dead_letter_queue, vpc=None, vpc_subnets=None),
        )
        # What the copy calls and nothing more (Bucket.grant_read adds s3:GetBucket*, s3:List* and kms:DescribeKey).
        iam.Grant.add_to_principal(grantee=copier.role, actions=["s3:GetObject"],
                                   resource_arns=[self._staging.arn_for_objects(f"{self._prefix}*")])
        audit.encryption_key.grant_decrypt(copier.role)  # the staged objects are encrypted with the audit key
        audit.grant_write(copier.role)  # put only: the bucket's default retention locks each copy
        self._dead_letter_queue.grant_send_messages(copier.role)  # Lambda's own async failures, encrypted
        events.Rule(
            self, "CopyRule", description="Audit objects Firehose staged: copy them into the audit bucket",
            event_pattern=events.EventPattern(source=["aws.s3"], detail_type=["Object Created"], detail={
                "bucket": {"name": [self._staging.bucket_name]},
                "object": {"key": [{"prefix": self._prefix}]}}),
            targets=[targets.LambdaFunction(copier.function, dead_letter_queue=self._dead_letter_queue,
                                            max_event_age=Duration.hours(24), retry_attempts=185)],
        )
        return copier

    def _create_alarms(self, topic: Optional[sns.ITopic]) -> list[cloudwatch.Alarm]:
        if topic is not None:
            warn_if_imported_topic(self, topic, "alarm_topic", ["cloudwatch.amazonaws.com"])
        stream = {"DeliveryStreamName": self._stream.ref}

        def firehose_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Firehose", metric_name=name, dimensions_map=stream,
                                     statistic=statistic, period=Duration.minutes(5))

        failed_writes = cloudwatch.MathExpression(
            expression="IF(success < 1, 1, 0)", label="Firehose writes to S3 that failed",
            using_metrics={"success": firehose_metric("DeliveryToS3.Success", "Minimum")}, period=Duration.minutes(5))
        return [
            dead_letter_alarm(self, "DeadLetters", self._dead_letter_queue, topic=topic,
                              what="Payment events or staged audit objects that did not reach the audit bucket"),
            alarm(self, "DeliveryFailed", failed_writes, threshold=1, topic=topic,
                  description="Firehose could not write audit events to the staging bucket (it retries for 24 "
                              "hours; check its role, the bucket and the key)"),
            alarm(self, "DeliveryStale", firehose_metric("DeliveryToS3.DataFreshness", "Maximum"), threshold=3600,
                  topic=topic, description="Audit events have waited in Firehose for an hour or more"),
        ]

    def _create_stream(self, interval: Duration) -> firehose.CfnDeliveryStream:
        stream = firehose.CfnDeliveryStream(
            self, "DeliveryStream",
            delivery_stream_type="DirectPut",
            # Encrypted at rest inside Firehose too, with an AWS-owned key (no key policy to manage, free).
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream
            .DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK"),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self._staging.bucket_arn,
                role_arn=self._delivery_role.role_arn,
                prefix=self._prefix,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=int(interval.to_seconds()), size_in_m_bs=5),
                compression_format="UNCOMPRESSED",  # one JSON event per line, readable as is
                # The staging bucket's default SSE-KMS encryption (the audit key) applies: no second setting.
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
