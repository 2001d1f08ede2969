"""A payment's state changes reach the audit bucket: the event handler's events match the audit rule,
EventBridge may put them into the Firehose stream, and the stream's role may write (and encrypt) them
under the prefix the stack outputs. The account trail's writer is allowed by the bucket and the key."""

from __future__ import annotations

import json

from .cfn import StackTemplate, allows, arn_of, depends_on, identity_allows
from .writers import encryption_key

PUT = ["s3:PutObject"]
ENCRYPT = ["kms:GenerateDataKey", "kms:Decrypt"]


def _trusts(stack: StackTemplate, role: str, service: str) -> bool:
    document = stack.props(role)["AssumeRolePolicyDocument"]
    return any(s.get("Effect") == "Allow" and service in json.dumps(s.get("Principal")) for s in document["Statement"])


def _primary(example_copies) -> list[StackTemplate]:
    return [s for s in example_copies if any(True for _ in s.of_type("AWS::KinesisFirehose::DeliveryStream"))]


def delivery_problems(stack: StackTemplate) -> list[str]:
    problems = []
    handler = next(r["Properties"] for _, r in stack.of_type("AWS::Lambda::Function")
                   if r["Properties"].get("Handler") == "runtime.events.handler")
    variables = handler["Environment"]["Variables"]
    source, bus = variables.get("EVENT_SOURCE", "cdk-payments"), stack.resolve(variables["EVENT_BUS_NAME"])
    prefix = stack.template["Outputs"]["AuditEventsPrefix"]["Value"]
    for stream_id, stream in stack.of_type("AWS::KinesisFirehose::DeliveryStream"):
        destination = stream["Properties"]["ExtendedS3DestinationConfiguration"]
        bucket, role = stack.logical_id_of(destination["BucketARN"]), stack.logical_id_of(destination["RoleARN"])
        where = f"{stack.name}: {stream_id}"
        if destination["Prefix"] != prefix:
            problems.append(f"{where} writes under {destination['Prefix']}, the stack outputs {prefix}")
        if not _trusts(stack, role, "firehose.amazonaws.com"):
            problems.append(f"{where}: Firehose cannot assume {role}")
        objects = arn_of(stack, bucket, "AWS::S3::Bucket") + "/" + prefix + "2026/01/01/00/record"
        if not identity_allows(stack, role, PUT, objects):
            problems.append(f"{where}: {role} may not put records into {bucket}")
        if identity_allows(stack, role, ["s3:DeleteObject"], objects):
            problems.append(f"{where}: {role} may delete audit records")
        key = encryption_key(stack, bucket)
        if key and not identity_allows(stack, role, ENCRYPT, arn_of(stack, key, "AWS::KMS::Key")):
            problems.append(f"{where}: {role} may not encrypt with the bucket's key {key}")
        policies = {p for p, r in stack.of_type("AWS::IAM::Policy")
                    if {"Ref": role} in r["Properties"].get("Roles", [])}
        if not policies <= depends_on(stack, stream_id):
            problems.append(f"{where} may be created before its role's policy (Firehose checks it can write)")
        stream_arn = arn_of(stack, stream_id, "AWS::KinesisFirehose::DeliveryStream")
        rules = [(rule_id, target) for rule_id, rule in stack.of_type("AWS::Events::Rule")
                 for target in rule["Properties"].get("Targets", []) if stack.logical_id_of(target["Arn"]) == stream_id]
        if not rules:
            problems.append(f"{where}: no EventBridge rule sends to it")
        for rule_id, target in rules:
            rule = stack.props(rule_id)
            if source not in rule["EventPattern"].get("source", []) or stack.resolve(rule["EventBusName"]) != bus:
                problems.append(f"{where}: {rule_id} does not match the event handler's events ({source} on {bus})")
            events_role = stack.logical_id_of(target.get("RoleArn"))
            if not (events_role and _trusts(stack, events_role, "events.amazonaws.com")
                    and identity_allows(stack, events_role, ["firehose:PutRecordBatch", "firehose:PutRecord"],
                                        stream_arn)):
                problems.append(f"{where}: EventBridge may not put {rule_id}'s events into the stream")
    return problems


def trail_problems(stack: StackTemplate) -> list[str]:
    problems = []
    for trail_id, trail in stack.of_type("AWS::CloudTrail::Trail"):
        props = trail["Properties"]
        bucket = stack.logical_id_of(props["S3BucketName"])
        policy_id, policy = next((p, r["Properties"]) for p, r in stack.of_type("AWS::S3::BucketPolicy")
                                 if stack.logical_id_of(r["Properties"]["Bucket"]) == bucket)
        if not allows(stack, policy["PolicyDocument"], ["s3:PutObject", "s3:GetBucketAcl"],
                      service="cloudtrail.amazonaws.com"):
            problems.append(f"{stack.name}: {bucket}'s policy does not let CloudTrail deliver")
        if policy_id not in depends_on(stack, trail_id):
            problems.append(f"{stack.name}: {trail_id} may be created before {bucket}'s policy")
        for key in filter(None, (stack.logical_id_of(props.get("KMSKeyId")), encryption_key(stack, bucket))):
            if not allows(stack, stack.props(key)["KeyPolicy"], ["kms:GenerateDataKey"],
                          service="cloudtrail.amazonaws.com"):
                problems.append(f"{stack.name}: {key}'s policy does not let CloudTrail encrypt log files")
    return problems


def test_payment_events_reach_the_audit_bucket(example_copies):
    stacks = _primary(example_copies)
    assert {s.name for s in stacks} >= {"PaymentPlatform-dev", "PaymentPlatform-prod"}
    assert [p for stack in stacks for p in delivery_problems(stack)] == []


def test_the_account_trail_can_deliver(example_copies):
    stacks = _primary(example_copies)
    assert all(any(True for _ in s.of_type("AWS::CloudTrail::Trail")) for s in stacks)
    assert [p for stack in stacks for p in trail_problems(stack)] == []
