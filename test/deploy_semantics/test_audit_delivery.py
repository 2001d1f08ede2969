"""A payment's state changes reach the audit bucket: the event handler's events match the audit rule,
EventBridge may put them into the Firehose stream, the stream's role may write (and encrypt) them into
a staging bucket under the prefix the stack outputs, that bucket tells EventBridge of each new object,
and a copier function may read it and put it (encrypted) into the Object Lock audit bucket under the
same key. No Firehose stream writes into a bucket with Object Lock default retention: S3 requires a
Content-MD5 or x-amz-checksum-* header on every upload there, and Firehose documents none.
The account trail's writer is allowed by the bucket and the key."""

from __future__ import annotations

import json

from .cfn import StackTemplate, allows, arn_of, depends_on, identity_allows
from .writers import encryption_key

PUT = ["s3:PutObject"]
GET = ["s3:GetObject"]
ENCRYPT = ["kms:GenerateDataKey", "kms:Decrypt"]
DECRYPT = ["kms:Decrypt"]
COPIER = "runtime.audit_copy.handler"


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
        if _default_retention(stack, bucket):
            problems.append(f"{where} writes into {bucket}, which has Object Lock default retention: S3 refuses "
                            "uploads without Content-MD5 or a checksum header, and Firehose sends neither")
        problems += _writer_problems(stack, where, role, bucket, prefix, PUT + ENCRYPT)
        problems += _copier_problems(stack, where, bucket, prefix)
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


def _default_retention(stack: StackTemplate, bucket: str) -> bool:
    lock = stack.props(bucket).get("ObjectLockConfiguration", {})
    return bool(lock.get("Rule", {}).get("DefaultRetention"))


def _writer_problems(stack: StackTemplate, where: str, role: str, bucket: str, prefix: str,
                     actions: list[str]) -> list[str]:
    """``role`` may do ``actions`` (S3 and, on the bucket's key, KMS) on a record under ``prefix``, never delete."""
    problems = []
    objects = arn_of(stack, bucket, "AWS::S3::Bucket") + "/" + prefix + "2026/01/01/00/record"
    s3_actions = [a for a in actions if a.startswith("s3:")]
    if not identity_allows(stack, role, s3_actions, objects):
        problems.append(f"{where}: {role} may not {'/'.join(s3_actions)} records in {bucket}")
    if identity_allows(stack, role, ["s3:DeleteObject"], objects):
        problems.append(f"{where}: {role} may delete records in {bucket}")
    key = encryption_key(stack, bucket)
    kms_actions = [a for a in actions if a.startswith("kms:")]
    if key and not identity_allows(stack, role, kms_actions, arn_of(stack, key, "AWS::KMS::Key")):
        problems.append(f"{where}: {role} may not {'/'.join(kms_actions)} with {bucket}'s key {key}")
    return problems


def _copier_problems(stack: StackTemplate, where: str, staging: str, prefix: str) -> list[str]:
    """What puts the stream's objects into the Object Lock bucket: S3 tells EventBridge of each object, a
    rule on the default bus sends it to the copier, whose role may read it and put it into the audit
    bucket its environment names (which has default retention), and whose code sends Content-MD5."""
    notifications = stack.props(staging).get("NotificationConfiguration", {})
    if not notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        return [f"{where}: {staging} does not send its object events to EventBridge: nothing copies them"]
    copiers = [(i, r["Properties"]) for i, r in stack.of_type("AWS::Lambda::Function")
               if r["Properties"].get("Handler") == COPIER]
    rules = [(rule_id, target) for rule_id, rule in stack.of_type("AWS::Events::Rule")
             if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
             and stack.logical_id_of(rule["Properties"]["EventPattern"]["detail"]["bucket"]["name"][0]) == staging
             for target in rule["Properties"]["Targets"]]
    if len(copiers) != 1 or len(rules) != 1 or stack.logical_id_of(rules[0][1]["Arn"]) != copiers[0][0]:
        return [f"{where}: no rule sends {staging}'s new objects to one copier function ({copiers}, {rules})"]
    (function_id, function), ((rule_id, target),) = copiers[0], rules
    problems = []
    pattern = stack.props(rule_id)["EventPattern"]
    if pattern["detail-type"] != ["Object Created"] or pattern["detail"]["object"]["key"] != [{"prefix": prefix}]:
        problems.append(f"{where}: {rule_id} does not match the objects created under {prefix}")
    if stack.props(rule_id).get("EventBusName", "default") != "default":
        problems.append(f"{where}: {rule_id} is not on the default bus, where S3 sends its events")
    if "DeadLetterConfig" not in target:
        problems.append(f"{where}: {rule_id} drops what it cannot deliver (no dead-letter queue)")
    permissions = [p for _, p in stack.of_type("AWS::Lambda::Permission")
                   if stack.logical_id_of(p["Properties"]["FunctionName"]) == function_id
                   and p["Properties"]["Principal"] == "events.amazonaws.com"
                   and stack.logical_id_of(p["Properties"].get("SourceArn")) == rule_id]
    if not permissions:
        problems.append(f"{where}: EventBridge may not invoke the copier {function_id} for {rule_id}")
    variables = function["Environment"]["Variables"]
    audit = stack.logical_id_of(variables["AUDIT_BUCKET"])
    if stack.logical_id_of(variables["STAGING_BUCKET"]) != staging or variables["AUDIT_PREFIX"] != prefix:
        problems.append(f"{where}: the copier {function_id} is told another bucket or prefix")
    if not _default_retention(stack, audit):
        problems.append(f"{where}: the copier writes into {audit}, which has no Object Lock default retention")
    role = stack.logical_id_of(function["Role"])
    problems += _writer_problems(stack, f"{where} copier", role, staging, prefix, GET + DECRYPT)
    problems += _writer_problems(stack, f"{where} copier", role, audit, prefix, PUT + ENCRYPT)
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
