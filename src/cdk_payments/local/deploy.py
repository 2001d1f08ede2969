"""Deploy a synthesized stack into the emulator as `cdk deploy` would, and resolve what it created.

Publish the stack's assets, bootstrap, rewrite the template around moto's gaps (:mod:`.gaps`),
CreateStack; then answer what moto's CloudFormation leaves undone (rotation schedules). A
:class:`Deployment` maps each logical id to the physical id moto gave it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import gaps
from .emulator import ACCOUNT, REGION, Emulator


@dataclass
class Deployment:
    emulator: Emulator
    stack_name: str
    synthesized: dict[str, Any]  # the template as synthesized
    deployed: dict[str, Any]  # the template as handed to the emulator (after the gap rewrites)
    status: str
    touched: dict[str, list[str]]
    region: str = REGION
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> type, not created by moto
    parameters: dict[str, str] = field(default_factory=dict)  # template parameter -> its SSM value

    def logical_ids(self, resource_type: str) -> list[str]:
        return sorted(k for k, r in self.deployed["Resources"].items() if r["Type"] == resource_type)

    def one(self, resource_type: str, contains: str = "") -> str:
        matches = [k for k in self.logical_ids(resource_type) if contains in k]
        assert len(matches) == 1, f"expected one {resource_type} matching {contains!r}: {matches}"
        return matches[0]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.deployed["Resources"][logical_id].get("Properties", {})

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region)


def deploy(
    emulator: Emulator,
    assembly: Path,
    stack_name: str,
    *,
    change_template: Callable[[dict[str, Any]], None] | None = None,
    region: str = REGION,
) -> Deployment:
    """Publish the assets, bootstrap, create the stack; ``change_template`` breaks it on purpose."""
    emulator.bootstrap(region)
    emulator.publish_assets(assembly, stack_name, region)
    synthesized = json.loads((assembly / f"{stack_name}.template.json").read_text())
    for parameter in synthesized.get("Parameters", {}).values():
        if str(parameter.get("Default", "")).startswith("/aws/service/powertools/"):
            emulator.publish_powertools_layer(parameter["Default"], _layer_name(parameter["Default"]), region)
    if change_template is not None:
        change_template(synthesized)
    context = gaps.Context(stack_name, lambda service: emulator.client(service, region), {}, region)
    deployed, touched = gaps.rewrite(synthesized, context)
    stack = emulator.create_stack(stack_name, deployed, region)
    deployment = Deployment(emulator, stack_name, synthesized, deployed, stack["StackStatus"], touched, region)
    ssm = deployment.client("ssm")
    for name, parameter in deployed.get("Parameters", {}).items():
        if parameter["Type"].startswith("AWS::SSM::Parameter::Value<"):
            deployment.parameters[name] = ssm.get_parameter(Name=parameter["Default"])["Parameter"]["Value"]
    summaries = deployment.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
    listed = {s["LogicalResourceId"]: s for page in summaries for s in page["StackResourceSummaries"]}
    for logical_id, resource in deployed["Resources"].items():
        if logical_id in listed:
            deployment.physical[logical_id] = listed[logical_id].get("PhysicalResourceId", "")
        else:
            deployment.skipped[logical_id] = resource["Type"]
    for logical_id, resource in context.after_the_stack:
        if resource["Type"] == "AWS::S3::Bucket":  # its events to EventBridge (gaps: bucket-events-after-the-stack)
            enable_bucket_events(deployment.physical[logical_id])
        elif resource["Type"] == "AWS::DynamoDB::Table":  # gaps: global-table-as-table
            share_table(deployment, deployment.physical[logical_id], context.replicas[logical_id])
        elif resource["Type"] == "AWS::CloudWatch::Alarm":  # gaps: alarm-a-health-check-follows
            deployment.physical[logical_id] = create_alarm(deployment, resource["Properties"])
        elif resource["Type"] == "AWS::KinesisFirehose::DeliveryStream":  # gaps: firehose-after-the-stack
            deployment.physical[logical_id] = create_delivery_stream(deployment, resource["Properties"])
        else:
            raise NotImplementedError(f"{logical_id}: nothing creates a {resource['Type']} after the stack")
    for logical_id in deployment.logical_ids("AWS::SecretsManager::RotationSchedule"):
        rotate_as_scheduled(deployment, logical_id)
    return deployment


def rotate_as_scheduled(deployment: Deployment, logical_id: str) -> None:
    """Answer a rotation schedule (moto has no CloudFormation model for it) as CloudFormation does:
    RotateSecret with the template's function and rules. Secrets Manager then invokes the function:
    every step when RotateImmediatelyOnUpdate is true (the default), else only testSecret.

    moto enables rotation only for RotationRules.AutomaticallyAfterDays (a ScheduleExpression leaves
    RotationEnabled false, and the deployed function refuses to rotate), so ``rate(N days)`` is handed
    over as AutomaticallyAfterDays=N; any other schedule stops the rehearsal here."""
    wanted = deployment.properties(logical_id)
    rules = dict(wanted.get("RotationRules", {}))
    if "ScheduleExpression" in rules:
        days = re.fullmatch(r"rate\((\d+) days?\)", rules.pop("ScheduleExpression"))
        assert days, f"{logical_id}: no moto equivalent for {wanted['RotationRules']}"
        rules["AutomaticallyAfterDays"] = int(days.group(1))
    deployment.client("secretsmanager").rotate_secret(
        SecretId=resolve(deployment, wanted["SecretId"]),
        RotationLambdaARN=resolve(deployment, wanted["RotationLambdaARN"]),
        RotationRules=rules, RotateImmediately=wanted.get("RotateImmediatelyOnUpdate", True))



# -- what was created, per logical id

def resolve(deployment: Deployment, value: Any) -> Any:
    """The few intrinsics the checked properties use, resolved against what was created."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return {"AWS::Region": deployment.region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                "AWS::StackName": deployment.stack_name, **deployment.parameters}.get(value["Ref"]) or deployment.physical[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return attribute_of(deployment, logical_id, attribute)
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"].replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", deployment.region).replace(
            "${AWS::Partition}", "aws")
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(str(resolve(deployment, part)) for part in parts)
    if isinstance(value, dict):
        return {key: resolve(deployment, item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(deployment, item) for item in value]
    return value


def attribute_of(deployment: Deployment, logical_id: str, attribute: str) -> str:
    resource_type = deployment.deployed["Resources"][logical_id]["Type"]
    physical = deployment.physical[logical_id]
    if (resource_type, attribute) == ("AWS::SQS::Queue", "Arn"):
        return deployment.client("sqs").get_queue_attributes(
            QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if (resource_type, attribute) == ("AWS::Lambda::Function", "Arn"):
        return deployment.client("lambda").get_function_configuration(FunctionName=physical)["FunctionArn"]
    if (resource_type, attribute) == ("AWS::SNS::Topic", "TopicArn"):
        return physical
    if (resource_type, attribute) == ("AWS::KMS::Key", "Arn"):
        # Not DescribeKey: moto's CloudFormation key keeps KeyPolicy as a dict, and DescribeKey's policy
        # check json.loads it (TypeError, 500). Nothing on the payment path calls DescribeKey.
        keys = deployment.client("kms").list_keys()["Keys"]
        return next(k["KeyArn"] for k in keys if k["KeyId"] == physical)
    if (resource_type, attribute) == ("AWS::S3::Bucket", "Arn"):
        return f"arn:aws:s3:::{physical}"
    if (resource_type, attribute) == ("AWS::DynamoDB::Table", "Arn"):
        return deployment.client("dynamodb").describe_table(TableName=physical)["Table"]["TableArn"]
    if (resource_type, attribute) == ("AWS::IAM::Role", "Arn"):
        return deployment.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
    raise NotImplementedError(f"{resource_type}.{attribute}")


def _layer_name(parameter: str) -> str:
    """The Powertools layer a public parameter names: /aws/service/powertools/python/ARCH/RUNTIME/VERSION."""
    *_, architecture, runtime, _version = parameter.split("/")
    return f"AWSLambdaPowertoolsPythonV3-{runtime.replace('.', '')}-{architecture}"


def enable_bucket_events(bucket: str) -> None:
    """Send the bucket's events to EventBridge. Into moto's S3 backend (this process): its
    PutBucketNotificationConfiguration reads the empty <EventBridgeConfiguration/> element as absent."""
    from moto.s3.models import s3_backends

    s3_backends[ACCOUNT]["aws"].put_bucket_notification_configuration(bucket, {"EventBridgeConfiguration": {}})


def share_table(deployment: Deployment, table: str, regions: list[str]) -> None:
    """The other replicas of a global table: each region's DynamoDB holds the table the stack created (see
    gaps: global-table-as-table). Into moto's backends (this process): its API has no replicas."""
    from moto.dynamodb.models import dynamodb_backends

    created = dynamodb_backends[ACCOUNT][deployment.region].tables[table]
    for region in regions:
        dynamodb_backends[ACCOUNT][region].tables[table] = created


def create_alarm(deployment: Deployment, properties: dict[str, Any]) -> str:
    """A metric alarm, created through the API (see gaps: alarm-a-health-check-follows)."""
    kept = ("AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
            "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "Metrics")
    wanted = resolve(deployment, {key: value for key, value in properties.items() if key in kept})
    deployment.client("cloudwatch").put_metric_alarm(**wanted)
    return wanted["AlarmName"]


def create_delivery_stream(deployment: Deployment, properties: dict[str, Any]) -> str:
    """A Firehose delivery stream to S3, created through the API (see gaps: firehose-after-the-stack)."""
    arguments: dict[str, Any] = {"DeliveryStreamName": properties["DeliveryStreamName"],
                                 "DeliveryStreamType": properties.get("DeliveryStreamType", "DirectPut")}
    for destination in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
        if destination in properties:
            wanted = resolve(deployment, properties[destination])
            kept = ("BucketARN", "RoleARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat")
            arguments[destination] = {key: value for key, value in wanted.items() if key in kept}
    deployment.client("firehose").create_delivery_stream(**arguments)
    return properties["DeliveryStreamName"]


def stacks_in_order(assembly: Path) -> list[tuple[str, str]]:
    """The assembly's stacks as `cdk deploy --all` orders them (dependencies first), each with its
    region: the one its environment pins, else the emulator's."""
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    stacks = {name: a for name, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    ordered: list[str] = []

    def visit(name: str) -> None:
        for dependency in stacks[name].get("dependencies", []):
            if dependency in stacks and dependency not in ordered:
                visit(dependency)
        if name not in ordered:
            ordered.append(name)

    for name in sorted(stacks):
        visit(name)
    return [(name, stack_region(assembly, name)) for name in ordered]


def stack_region(assembly: Path, stack_name: str) -> str:
    """The region a stack is pinned to in the cloud assembly, or the emulator's default."""
    environment = json.loads((assembly / "manifest.json").read_text())["artifacts"][stack_name]["environment"]
    region = environment.rsplit("/", 1)[1]
    return REGION if region == "unknown-region" else region
