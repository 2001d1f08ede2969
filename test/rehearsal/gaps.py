"""Where moto's CloudFormation differs from AWS's, and the smallest template rewrite around each gap.

Each rewrite names the moto gap it covers and touches only the resources that hit it; everything else
is created from the template exactly as synthesized. The rehearsal asserts which logical ids each
rewrite touched, so a rewrite that stops matching (a moto upgrade, a changed construct) is noticed.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from .emulator import ACCOUNT

# Resource types of the example that moto 5.2's CloudFormation does not implement: it logs "No Moto
# CloudFormation support", creates nothing, resolves their Ref to nothing, and still reports
# CREATE_COMPLETE. Pinned per stack: the rehearsal fails when a set changes (a moto upgrade implements
# one, or the example gains a type moto lacks), so that someone looks. What they do is verified
# elsewhere: policies and WAF by the deploy-semantics tests and the rules packs, alarms, Config rules,
# budgets and backups by the construct tests; the API stage is bypassed (methods are driven one by one).
# The secret's resource policy is a policy like the others; its rotation schedule is answered by the
# rehearsal, which asks the emulator's Secrets Manager to rotate as CloudFormation would (see
# rehearsal.rotate_as_scheduled). The example creates no Config rule and no anomaly monitor by default
# (ComplianceBaseline: Config rules only with a recorder, anomaly monitor only when asked).
_SKIPPED_IN_BOTH = frozenset({
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::Stage",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::Budgets::Budget",
    "AWS::CloudTrail::Trail",
    "AWS::CloudWatch::Alarm",
    "AWS::Config::ConfigRule",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::GuardDuty::Detector",
    "AWS::SNS::Subscription",
    "AWS::SecurityHub::Hub",
    "AWS::SecurityHub::Standard",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::SecretsManager::RotationSchedule",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
})
SKIPPED_TYPES = {
    "PaymentPlatform-prod-audit-replica": frozenset({"AWS::S3::BucketPolicy"}),
    "PaymentPlatform-dev": _SKIPPED_IN_BOTH,
    "PaymentPlatform-prod": _SKIPPED_IN_BOTH | {
        "AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection", "AWS::Backup::BackupVault"},
}


@dataclass(frozen=True)
class Rewrite:
    name: str
    gap: str
    resource_type: str
    apply: Callable[[str, dict[str, Any], "Context"], bool]  # mutates one resource; True if it changed it


@dataclass
class Context:
    stack_name: str
    secretsmanager: Any  # the emulator's Secrets Manager client
    replacements: dict[str, str]  # logical id -> the value its Ref resolves to, for removed resources


def _kms_tags(_: str, resource: dict[str, Any], __: Context) -> bool:
    tags = resource.get("Properties", {}).get("Tags")
    if not tags:
        return False
    resource["Properties"]["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
    return True


def _root_volume_size(_: str, resource: dict[str, Any], __: Context) -> bool:
    changed = False
    for mapping in resource.get("Properties", {}).get("BlockDeviceMappings", []):
        ebs = mapping.get("Ebs")
        if ebs is not None and "VolumeSize" not in ebs and "SnapshotId" not in ebs:
            ebs["VolumeSize"] = 8  # the Amazon Linux 2023 AMI's root snapshot size
            changed = True
    return changed


def _secret_through_the_api(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource.get("Properties", {})
    generate = properties.get("GenerateSecretString")
    value = properties.get("SecretString")
    if generate is not None:
        body = json.loads(generate.get("SecretStringTemplate", "{}"))
        body[generate["GenerateStringKey"]] = secrets.token_hex(16)
        value = json.dumps(body)
    created = context.secretsmanager.create_secret(
        Name=properties.get("Name", f"{context.stack_name}-{logical_id}"),
        Description=properties.get("Description", ""), SecretString=value,
        Tags=properties.get("Tags", []),
    )
    context.replacements[logical_id] = created["ARN"]
    return True


def _parameter_name(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource.setdefault("Properties", {})
    if "Name" in properties:
        return False
    # CloudFormation generates CFN-<logical id>-<random>; the stack name stands in for the random part,
    # so that the same stack twice side by side (dev and prod) does not collide.
    properties["Name"] = f"CFN-{logical_id}-{context.stack_name}"
    return True


def _parameter_tags(_: str, resource: dict[str, Any], __: Context) -> bool:
    tags = resource.get("Properties", {}).get("Tags")
    if not isinstance(tags, dict):
        return False
    resource["Properties"]["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return True


def _firehose_placeholder(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    # Its destination (the stack's own audit bucket and role) does not exist before the stack, so it cannot
    # be created through the API first: it is named, and created by whoever needs it after the deploy.
    region = context.secretsmanager.meta.region_name
    context.replacements[logical_id] = (f"arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/"
                                        f"{context.stack_name}-{logical_id}")
    return True


def _rule_to_queue(_: str, resource: dict[str, Any], context: Context) -> bool:
    # moto's EventBridge delivers to SQS, log groups and buses only (NotImplementedError, a 500 on PutEvents,
    # for a Firehose target): the stand-in stream's events go to the rule's dead-letter queue instead.
    changed = False
    for target in resource.get("Properties", {}).get("Targets", []):
        arn, queue = target.get("Arn"), target.get("DeadLetterConfig", {}).get("Arn")
        stream = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
        if queue and context.replacements.get(stream, "").startswith("arn:aws:firehose:"):
            target["Arn"] = queue
            target.pop("RoleArn", None)  # EventBridge sends to SQS with the queue policy, not a role
            changed = True
    return changed


REWRITES = (
    Rewrite(
        "kms-key-tags",
        "moto's AWS::KMS::Key hands CloudFormation's {Key, Value} tags to the KMS API's tagger, which "
        "reads {TagKey, TagValue}: KeyError 'TagKey' fails the stack.",
        "AWS::KMS::Key",
        _kms_tags,
    ),
    Rewrite(
        "instance-volume-size",
        "moto's RunInstances requires VolumeSize or SnapshotId in an Ebs block device mapping; AWS takes "
        "the size from the AMI's snapshot (the NAT instance's encrypted gp3 root volume names neither).",
        "AWS::EC2::Instance",
        _root_volume_size,
    ),
    Rewrite(
        "parameter-name",
        "moto's AWS::SSM::Parameter requires Name (AttributeError on None); CloudFormation generates one "
        "(the workers' CloudWatch agent configuration leaves it to CloudFormation).",
        "AWS::SSM::Parameter",
        _parameter_name,
    ),
    Rewrite(
        "parameter-tags",
        "AWS::SSM::Parameter's Tags is a map in CloudFormation; moto's model passes it to PutParameter, "
        "which iterates a list of {Key, Value} (TypeError).",
        "AWS::SSM::Parameter",
        _parameter_tags,
    ),
    Rewrite(
        "secret-through-the-api",
        "moto has no CloudFormation model for AWS::SecretsManager::Secret: it skips the secret, its Ref "
        "resolves to nothing and the IAM policy granting it fails (MalformedPolicyDocument). The secret is "
        "created through moto's Secrets Manager API with the template's properties (its generated key too; "
        "KmsKeyId is dropped, moto does not encrypt) and every Ref to it becomes its ARN.",
        "AWS::SecretsManager::Secret",
        _secret_through_the_api,
    ),
    Rewrite(
        "firehose-placeholder",
        "moto has no CloudFormation model for AWS::KinesisFirehose::DeliveryStream: the stream is skipped and "
        "the rule's and role's Fn::GetAtt Arn of it fail the template. It becomes the ARN of a stream named "
        "<stack>-<logical id> (not created: its bucket and role exist only once the stack does).",
        "AWS::KinesisFirehose::DeliveryStream",
        _firehose_placeholder,
    ),
    Rewrite(
        "rule-to-queue",
        "moto's EventBridge cannot deliver to a Firehose target (NotImplementedError fails PutEvents, and so "
        "the event handler): a rule that targets the stand-in stream targets its dead-letter queue instead.",
        "AWS::Events::Rule",
        _rule_to_queue,
    ),
)


def rewrite(template: dict[str, Any], context: Context) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The template moto can create, and which logical ids each rewrite touched."""
    template = copy.deepcopy(template)
    touched: dict[str, list[str]] = {r.name: [] for r in REWRITES}
    for logical_id, resource in list(template["Resources"].items()):
        for r in REWRITES:
            if resource["Type"] == r.resource_type and r.apply(logical_id, resource, context):
                touched[r.name].append(logical_id)
    for logical_id in context.replacements:
        del template["Resources"][logical_id]
    return _replace_refs(template, context.replacements), touched


def _replace_refs(node: Any, replacements: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in replacements:
            return replacements[node["Ref"]]
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in replacements:
            logical_id, attribute = node["Fn::GetAtt"]
            if attribute == "Arn" and replacements[logical_id].startswith("arn:"):
                return replacements[logical_id]
            raise NotImplementedError(f"GetAtt of a resource created through the API: {node}")
        return {key: _replace_refs(value, replacements) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_refs(item, replacements) for item in node]
    return node
