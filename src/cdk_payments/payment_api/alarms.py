"""The payment API's own alarms, each sent to one SNS topic through aws_cloudwatch_actions."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._alarms import alarm as create_alarm
from .._kms import allow_services
from .._queues import topic_target
from .._topics import service_topic, warn_if_imported_topic

FIVE_MINUTES = Duration.minutes(5)


def payment_alarms(
    scope: Construct,
    *,
    api: apigw.RestApi,
    functions: dict[str, lambda_.IFunction],
    queue: sqs.IQueue,
    dead_letter_queue: sqs.IQueue,
    table: dynamodb.ITable,
    index_name: str,
    topic: sns.ITopic,
    latency_threshold: Duration,
    max_message_age: Duration,
) -> list[cloudwatch.Alarm]:
    def alarm(id: str, metric: cloudwatch.IMetric, threshold: float, description: str, periods: int = 1):
        return create_alarm(scope, id, metric, threshold=threshold, description=description, topic=topic,
                            periods=periods, notify_ok=True)

    alarms = [
        # 5XXError's Average is the fraction of requests that failed.
        alarm("Api5xxRate", api.metric_server_error(statistic="Average", period=FIVE_MINUTES), 0.01,
              "More than 1% of payment API requests failed with 5XX", periods=2),
        alarm("ApiLatencyP99", api.metric_latency(statistic="p99", period=FIVE_MINUTES),
              latency_threshold.to_milliseconds(), "Payment API p99 latency is high", periods=3),
    ]
    for name, function in functions.items():
        alarms.append(alarm(f"{name}Errors", function.metric_errors(period=FIVE_MINUTES), 1,
                            f"The {name} function failed"))
        alarms.append(alarm(f"{name}Throttles", function.metric_throttles(period=FIVE_MINUTES), 1,
                            f"The {name} function was throttled"))
    alarms += [
        alarm("DeadLetters", dead_letter_queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
              1, "Payments reached the dead-letter queue: settle or redrive them"),
        alarm("OldestMessageAge", queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES),
              max_message_age.to_seconds(), "Payments wait in the queue longer than expected"),
        # Read and write throttle events of the table and of its index. Each metric is sparse (published only
        # when it happened): FILL makes a missing one 0, else the sum has no data when only one has some.
        alarm("TableThrottles", cloudwatch.MathExpression(
            expression="FILL(reads, 0) + FILL(writes, 0) + FILL(indexReads, 0) + FILL(indexWrites, 0)",
            period=FIVE_MINUTES, label="Throttle events (table and index)",
            using_metrics={**_throttles(table, None), **_throttles(table, index_name)}),
              1, "The payments table or its merchant index throttled requests"),
    ]
    return alarms


# Seconds of replication lag that alarm: warm standby's RPO is the lag, normally a second or two.
REPLICATION_LAG_THRESHOLD = Duration.minutes(1)


def replication_alarm(scope: Construct, *, table: dynamodb.ITable, region: str, topic: sns.ITopic) -> cloudwatch.Alarm:
    """The global table's replication lag to ``region`` (``ReplicationLatency``, published only while items
    replicate), over a minute for five: what a failover to the standby would lose grows."""
    metric = cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name="ReplicationLatency", statistic="Average",
                               dimensions_map={"TableName": table.table_name, "ReceivingRegion": region},
                               period=Duration.minutes(1))
    return create_alarm(scope, "ReplicationLag", metric, threshold=REPLICATION_LAG_THRESHOLD.to_milliseconds(),
                        description=f"The payments table replicates to {region} more than a minute late: a failover "
                                    "now would lose the payments not yet replicated",
                        topic=topic, periods=5, notify_ok=True)


# Job states that leave the table without its (copied) recovery point.
BACKUP_FAILURE_STATES = ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"]


def backup_failure_alerts(scope: Construct, *, table: dynamodb.ITable, key: kms.IKey,
                          topic: sns.ITopic) -> tuple[events.Rule, cloudwatch.Alarm]:
    """AWS Backup's failed backup and copy jobs of ``table`` (each event names it as ``resourceArn``),
    sent to ``topic`` by EventBridge: no CloudWatch alarm sees a job that failed, and a plan whose jobs
    fail holds no recovery point when one is needed. Returns the rule and the alarm on its
    dead-letter queue."""
    target, waiting = topic_target(scope, "UndeliveredBackupAlerts", key, topic,
                                   holds="backup job failures SNS did not accept",
                                   what="Backup job failures SNS did not accept")
    rule = events.Rule(scope, "BackupFailures", description="Failed AWS Backup and copy jobs of the payments table",
                       event_pattern=events.EventPattern(
                           source=["aws.backup"], detail_type=["Backup Job State Change", "Copy Job State Change"],
                           detail={"state": BACKUP_FAILURE_STATES, "resourceArn": [table.table_arn]}),
                       targets=[target])
    return rule, waiting


def _throttles(table: dynamodb.ITable, index: str | None) -> dict[str, cloudwatch.IMetric]:
    dimensions = {"TableName": table.table_name, **({"GlobalSecondaryIndexName": index} if index else {})}
    prefix = "index" if index else ""
    return {(prefix + kind.title() if prefix else kind): cloudwatch.Metric(
        namespace="AWS/DynamoDB", metric_name=metric, dimensions_map=dimensions, statistic="Sum", period=FIVE_MINUTES)
        for kind, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents"))}


def topic_for(scope: Construct, given: sns.ITopic | None, key: kms.IKey) -> sns.ITopic:
    """``given``, or a new topic encrypted with ``key`` that CloudWatch alarms may publish to."""
    warn_if_imported_topic(scope, given, "alarm_topic", ["cloudwatch.amazonaws.com"])
    if given is not None:
        return given
    allow_services(key, "cloudwatch.amazonaws.com", scope=scope)
    return service_topic(scope, "AlarmTopic", key, publishers=["cloudwatch.amazonaws.com"],
                         display_name="Payment API alarms")
