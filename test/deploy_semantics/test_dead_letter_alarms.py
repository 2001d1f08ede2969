"""Every SQS queue the example uses as a dead-letter queue has an alarm that tells someone when a message
lands in it: a dead-letter queue nobody watches drops what it holds after its retention, silently.

A queue is a dead-letter queue when anything names it as one: an SQS redrive policy, an EventBridge
target's or an SNS subscription's dead-letter config, a Lambda function's, or a failure destination.
"""

from __future__ import annotations

from typing import Iterator

from .cfn import StackTemplate

VISIBLE = ("AWS/SQS", "ApproximateNumberOfMessagesVisible")


def dead_letter_uses(stack: StackTemplate) -> Iterator[tuple[str, str]]:
    """(queue logical id, what sends to it) for every dead-letter use of a queue in ``stack``."""
    for rule_id, rule in stack.of_type("AWS::Events::Rule"):
        for target in rule["Properties"].get("Targets", []):
            yield stack.logical_id_of(target.get("DeadLetterConfig", {}).get("Arn")), f"{rule_id} target {target['Id']}"
    for queue_id, queue in stack.of_type("AWS::SQS::Queue"):
        yield stack.logical_id_of(queue["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn")), queue_id
    for function_id, function in stack.of_type("AWS::Lambda::Function"):
        yield stack.logical_id_of(function["Properties"].get("DeadLetterConfig", {}).get("TargetArn")), function_id
    for subscription_id, subscription in stack.of_type("AWS::SNS::Subscription"):
        redrive = subscription["Properties"].get("RedrivePolicy", {})
        yield stack.logical_id_of(redrive.get("deadLetterTargetArn")), subscription_id
    for config_id, config in stack.of_type("AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"):
        failure = config["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
        yield stack.logical_id_of(failure.get("Destination")), config_id


def dead_letter_queues(stack: StackTemplate) -> dict[str, list[str]]:
    queues: dict[str, list[str]] = {}
    for queue_id, user in dead_letter_uses(stack):
        if queue_id and stack.resources[queue_id]["Type"] == "AWS::SQS::Queue":
            queues.setdefault(queue_id, []).append(user)
    return queues


def alarms_on(stack: StackTemplate, queue_id: str) -> list[str]:
    """Alarms on the queue's visible messages, at one message or fewer, that notify someone."""
    found = []
    for alarm_id, alarm in stack.of_type("AWS::CloudWatch::Alarm"):
        props = alarm["Properties"]
        dimensions = {d["Name"]: stack.logical_id_of(d["Value"]) for d in props.get("Dimensions", [])}
        if ((props.get("Namespace"), props.get("MetricName")) == VISIBLE and dimensions == {"QueueName": queue_id}
                and props.get("Threshold", 2) <= 1 and props.get("ComparisonOperator") ==
                "GreaterThanOrEqualToThreshold" and props.get("AlarmActions")):
            found.append(alarm_id)
    return found


def test_every_dead_letter_queue_of_the_example_has_an_alarm_that_notifies(example_copies):
    unwatched = {f"{stack.name}: {queue_id} (dead letters of {', '.join(users)})"
                 for stack in example_copies for queue_id, users in dead_letter_queues(stack).items()
                 if not alarms_on(stack, queue_id)}
    assert not unwatched, "dead-letter queues without an alarm that notifies:\n" + "\n".join(sorted(unwatched))


def test_the_example_has_the_dead_letter_queues_this_test_knows_of(example_copies):
    """The test finds them (a refactor that hid them from it would pass the test above vacuously)."""
    dev = next(s for s in example_copies if s.name == "PaymentPlatform-dev")
    queues = dead_letter_queues(dev)
    names = sorted(q.rstrip("0123456789ABCDEF") for q in queues)
    for expected in ("AuditTrailDeadLetterQueue", "ComplianceFindingsDeadLetterQueue", "PaymentsDeadLetterQueue",
                     "WorkersDeadLetterQueue", "WorkersUndeliveredInterruptions"):
        assert expected in names, names
