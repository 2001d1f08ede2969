"""One way to make an alarm: missing data is not breaching, actions come from aws_cloudwatch_actions."""

from __future__ import annotations

from typing import Optional

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._nag import acknowledge, guard


def alarm(scope: Construct, id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str,
          topic: Optional[sns.ITopic], periods: int = 1, notify_ok: bool = False) -> cloudwatch.Alarm:
    """An alarm at or above ``threshold`` for ``periods`` periods, sent to ``topic`` when there is one."""
    created = metric.create_alarm(
        scope, id, threshold=threshold, evaluation_periods=periods, alarm_description=description,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if topic is None:
        acknowledge(created, "No alarm topic was passed: the alarm shows in the CloudWatch console only; pass "
                             "AlertTopics.operations_topic to be notified.", "NIST.800.53.R5-CloudWatchAlarmAction",
                    guard("cloudwatch_alarm_action_check"))
        return created
    created.add_alarm_action(actions.SnsAction(topic))
    if notify_ok:
        created.add_ok_action(actions.SnsAction(topic))
    return created
