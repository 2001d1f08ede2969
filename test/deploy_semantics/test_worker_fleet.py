"""The worker fleet works once deployed (issue 11, items 8, 9, 10 and 16).

- the CloudWatch agent can publish what its configuration asks for (memory per Auto Scaling group);
- failed launches and terminations reach the encrypted alarm topic through a principal its key allows;
- one waiting message starts a worker when the fleet is at zero;
- root volumes are encrypted with a key the Auto Scaling service-linked role may use, in a fresh account.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match

from cdk_payments import AlertTopics, CostOptimizedVpc, PaymentWorkerFleet

from ..harness import synth
from .cfn import allowing, flat, role_statements

SERVICE_LINKED_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


@pytest.fixture(scope="module")
def fleet():
    def build(stack):
        network = CostOptimizedVpc(stack, "Network")
        alerts = AlertTopics(stack, "Alerts")
        PaymentWorkerFleet(stack, "Workers", vpc=network.vpc, alarm_topic=alerts.operations_topic)

    return synth(build, nag=False).json


def _resources(template, type_, prefix=""):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_ and k.startswith(prefix)}


def _one(template, type_, prefix=""):
    (item,) = _resources(template, type_, prefix).items()
    return item


def _group_id(template):
    return _one(template, "AWS::AutoScaling::AutoScalingGroup")[0]


# -- item 8: the agent's permissions -------------------------------------------------------------

def _agent_config(template) -> dict:
    """The agent configuration in the SSM parameter, references replaced by their flat names."""
    _, parameter = _one(template, "AWS::SSM::Parameter", "Workers")
    return json.loads(flat(parameter["Properties"]["Value"]))


def _agent_needs(template) -> list[tuple[str, object]]:
    """(action, resource) pairs the agent calls with this configuration (CloudWatch agent user guide:
    CloudWatchAgentServerPolicy, and "append_dimensions ... requires ec2:DescribeTags")."""
    config = _agent_config(template)
    needs: list[tuple[str, object]] = []
    if "metrics" in config:
        needs.append(("cloudwatch:PutMetricData", "*"))
        if any("${aws:" in value for value in config["metrics"].get("append_dimensions", {}).values()):
            needs.append(("ec2:DescribeTags", "*"))
    for collected in config.get("logs", {}).get("logs_collected", {}).get("files", {}).get("collect_list", []):
        group = collected["log_group_name"]  # "<WorkersLogs...>"
        group_id = group.strip("<>")
        stream = {"Fn::GetAtt": [group_id, "Arn"]}
        needs += [("logs:CreateLogStream", stream), ("logs:PutLogEvents", stream)]
    return needs


def test_agent_config_asks_for_the_group_dimension(fleet):
    metrics = _agent_config(fleet)["metrics"]
    assert metrics["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]


def test_worker_role_can_do_what_the_agent_config_needs(fleet):
    role_id = _one(fleet, "AWS::IAM::Role", "WorkersRole")[0]
    statements = role_statements(fleet, role_id)
    needs = _agent_needs(fleet)
    assert ("ec2:DescribeTags", "*") in needs
    assert [need for need in needs if not allowing(statements, *need)] == []
    parameter_id = _one(fleet, "AWS::SSM::Parameter", "Workers")[0]
    assert any(f"<{parameter_id}>" in flat(s["Resource"]) for s in statements
               if "ssm:GetParameter" in s["Action"]), "the agent fetches its configuration from SSM"


# -- item 9: failures through EventBridge ---------------------------------------------------------

def _matches(pattern: dict, event: dict) -> bool:
    """EventBridge matching for the exact-value patterns used here."""
    for key, expected in pattern.items():
        if isinstance(expected, dict):
            if not isinstance(event.get(key), dict) or not _matches(expected, event[key]):
                return False
        elif event.get(key) not in expected:
            return False
    return True


def test_group_does_not_notify_through_its_service_linked_role(fleet):
    group = _one(fleet, "AWS::AutoScaling::AutoScalingGroup")[1]["Properties"]
    assert "NotificationConfigurations" not in group


@pytest.mark.parametrize("detail_type", ["EC2 Instance Launch Unsuccessful", "EC2 Instance Terminate Unsuccessful"])
def test_failed_activities_reach_the_encrypted_topic_through_eventbridge(fleet, detail_type):
    event = {"source": "aws.autoscaling", "detail-type": detail_type,
             "detail": {"AutoScalingGroupName": {"Ref": _group_id(fleet)}, "StatusCode": "Failed"}}
    rules = [r["Properties"] for r in _resources(fleet, "AWS::Events::Rule").values()
             if _matches(r["Properties"]["EventPattern"], event)]
    assert len(rules) == 1
    (target,) = rules[0]["Targets"]
    topic_id = target["Arn"]["Ref"]
    topic = fleet["Resources"][topic_id]["Properties"]
    # The topic policy lets EventBridge publish ...
    topic_policy = next(p["Properties"]["PolicyDocument"] for p in _resources(fleet, "AWS::SNS::TopicPolicy").values()
                        if {"Ref": topic_id} in p["Properties"]["Topics"])
    assert any(s["Effect"] == "Allow" and "events.amazonaws.com" in json.dumps(s["Principal"])
               and "sns:Publish" in json.dumps(s["Action"]) for s in topic_policy["Statement"])
    # ... and the topic's key lets EventBridge encrypt the message.
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert _key_allows_service(fleet, key_id, "events.amazonaws.com", "kms:GenerateDataKey")
    # Undeliverable events wait in a queue whose key EventBridge may use too.
    queue = fleet["Resources"][target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]]["Properties"]
    assert _key_allows_service(fleet, queue["KmsMasterKeyId"]["Fn::GetAtt"][0], "events.amazonaws.com",
                               "kms:GenerateDataKey")


def _key_allows_service(template, key_id, service, action):
    statements = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    return any(s["Effect"] == "Allow" and service in json.dumps(s.get("Principal"))
               and any(re.fullmatch(a.replace("*", ".*"), action) for a in
                       (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
               for s in statements)


# -- item 10: scale-out from zero -----------------------------------------------------------------

def _backlog_alarms(template):
    return [a["Properties"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()
            if "GroupInServiceInstances" in json.dumps(a["Properties"].get("Metrics", []))
            and "ApproximateNumberOfMessagesVisible" in json.dumps(a["Properties"].get("Metrics", []))]


def _evaluate(expression: str, **values: float) -> float:
    """CloudWatch metric math for the operators the backlog expression uses (IF, + - * /, comparisons)."""
    assert set(re.findall(r"[A-Za-z_]+", expression)) <= {"IF", *values}, expression
    return float(eval(expression.replace("IF(", "_if("), {"__builtins__": {}},  # noqa: S307 (checked above)
                      {"_if": lambda condition, yes, no: yes if condition else no, **values}))


def _change(template, visible: int, inflight: int, workers: int) -> int:
    """The capacity change the backlog alarms and their step policies make for one data point."""
    total = 0
    for alarm in _backlog_alarms(template):
        (expression,) = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
        value = _evaluate(expression, visible=visible, inflight=inflight, workers=workers)
        threshold, operator = alarm["Threshold"], alarm["ComparisonOperator"]
        firing = {"GreaterThanOrEqualToThreshold": value >= threshold, "GreaterThanThreshold": value > threshold,
                  "LessThanOrEqualToThreshold": value <= threshold, "LessThanThreshold": value < threshold}[operator]
        if not firing:
            continue
        (action,) = alarm["AlarmActions"]
        policy = template["Resources"][action["Ref"]]["Properties"]
        offset = value - threshold
        upward = operator.startswith("Greater")
        for step in policy["StepAdjustments"]:
            lower = step.get("MetricIntervalLowerBound", float("-inf"))
            upper = step.get("MetricIntervalUpperBound", float("inf"))
            # Above the threshold the lower bound is inclusive, below it the upper bound is.
            if (lower <= offset < upper) if upward else (lower < offset <= upper):
                total += step["ScalingAdjustment"]
                break
    return total


def test_backlog_alarms_are_the_scaling_policies(fleet):
    alarms = _backlog_alarms(fleet)
    assert len(alarms) == 2
    for alarm in alarms:
        (action,) = alarm["AlarmActions"]
        assert fleet["Resources"][action["Ref"]]["Properties"]["PolicyType"] == "StepScaling"


@pytest.mark.parametrize("visible,inflight,workers,change", [
    (1, 0, 0, +1),     # one message, no worker: start one (it used to wait for 100)
    (99, 0, 0, +1),
    (250, 0, 0, +3),   # a large backlog at zero starts several
    (0, 0, 0, -1),     # nothing to do (the group's minimum holds)
    (1, 0, 1, 0),      # one worker busy with one message: no flapping back to zero
    (0, 1, 2, 0),      # one message in flight on two workers: keep them
    (0, 0, 2, -1),     # idle workers go
    (100, 0, 1, +1),
    (300, 0, 1, +3),
])
def test_scaling_for_backlog(fleet, visible, inflight, workers, change):
    assert _change(fleet, visible, inflight, workers) == change


# -- item 16: root volume encryption -------------------------------------------------------------

def test_root_volume_is_encrypted_with_the_fleet_key(fleet):
    _, template = _one(fleet, "AWS::EC2::LaunchTemplate", "Workers")
    (device,) = template["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"]
    assert device["Ebs"]["Encrypted"] is True
    # Explicit: not the account's default EBS key, which may be a customer key without a grant.
    key_id = device["Ebs"]["KmsKeyId"]["Fn::GetAtt"][0]
    assert fleet["Resources"][key_id]["Type"] == "AWS::KMS::Key"


def test_fleet_key_lets_the_auto_scaling_service_linked_role_use_it(fleet):
    _, template = _one(fleet, "AWS::EC2::LaunchTemplate", "Workers")
    key_id = template["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"]["Fn::GetAtt"][0]
    statements = fleet["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    for_role = [s for s in statements if SERVICE_LINKED_ROLE in flat(
        s.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn", ""))]
    actions = {a for s in for_role for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    # Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes".
    assert {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
            "kms:CreateGrant"} <= actions
    grant = next(s for s in for_role if s["Action"] == "kms:CreateGrant")
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": True}
    # A fresh account has no service-linked role until its first group, and KMS rejects a key policy
    # whose Principal names a role that does not exist: the role may only appear in a condition.
    assert SERVICE_LINKED_ROLE not in json.dumps([s.get("Principal") for s in statements])


def test_imported_key_warns_about_its_key_policy():
    def build(stack):
        key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-east-1:111122223333:key/abcd")
        PaymentWorkerFleet(stack, "Workers", vpc=CostOptimizedVpc(stack, "Network").vpc, encryption_key=key)

    result = synth(build, nag=False)
    Annotations.from_stack(result.stack).has_warning(
        "*", Match.string_like_regexp("AWSServiceRoleForAutoScaling"))
