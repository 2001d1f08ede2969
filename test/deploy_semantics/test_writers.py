"""Every service that writes into an encrypted target is allowed by the key policy AND by the
target's resource policy, for the principal it really uses; every log destination is writable by
the role its service writes with. Scanners read one resource at a time and cannot see this."""

from __future__ import annotations

import pytest

from ..iam.deployed import ACCOUNT as IAM_ACCOUNT
from ..iam.deployed import deployed
from ..iam.simulator import Policies, Request, evaluate, explain
from .cfn import StackTemplate, allows, arn_of, iam_statements, identity_allows
from .writers import (
    ASG_SERVICE_LINKED_ROLE,
    EBS_KEY_ACTIONS,
    WRITE_ACTION,
    bucket_writers,
    encryption_key,
    log_group_writers,
    message_writers,
)


def _resource_policy(stack: StackTemplate, target: str):
    type_ = stack.resources[target]["Type"]
    policy_type, attachment = {"AWS::SNS::Topic": ("AWS::SNS::TopicPolicy", "Topics"),
                               "AWS::SQS::Queue": ("AWS::SQS::QueuePolicy", "Queues")}.get(type_, (None, None))
    for _, policy in stack.of_type(policy_type or "-"):
        props = policy["Properties"]
        if any(stack.logical_id_of(ref) == target for ref in props.get(attachment, [])):
            return props["PolicyDocument"]
    return None


def simulated_writer_problems(stack: StackTemplate) -> list[str]:
    """Each service principal's write and its key use, judged by the IAM simulator (test/iam/) against
    the target's resource policy and its key's policy, with the context the service sends
    (aws:SourceArn, aws:SourceAccount; a log group's ARN in the encryption context)."""
    deployed_stack = deployed(stack)
    policies = Policies(deployed_stack)
    wanted = []
    for writer in dict.fromkeys([*message_writers(stack), *log_group_writers(stack), *bucket_writers(stack)]):
        if writer.service is None:
            continue  # a role's own policies are AWS managed: writer_problems reads the key policy for it
        target = deployed_stack.arn(writer.target)
        source = deployed_stack.resources[writer.source]
        # A subscription's deliveries (and its dead-letter queue's) come from its topic.
        source_arn = (str(deployed_stack.resolve(source["Properties"]["TopicArn"]))
                      if source["Type"] == "AWS::SNS::Subscription" else deployed_stack.arn(writer.source))
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": IAM_ACCOUNT,
                   "aws:SecureTransport": "true"}
        action = WRITE_ACTION.get(stack.resources[writer.target]["Type"])
        if action and writer.needs_resource_policy:
            wanted.append(Request(writer.service, action, target, context))
        key = encryption_key(stack, writer.target)
        if key:
            key_context = dict(context)
            if stack.resources[writer.target]["Type"] == "AWS::Logs::LogGroup":
                key_context["kms:EncryptionContext:aws:logs:arn"] = target.removesuffix(":*")
            wanted += [Request(writer.service, a, deployed_stack.arn(key), key_context) for a in writer.key_actions]
    denied = evaluate(policies, wanted)
    return [line for line in explain(policies, denied).splitlines() if line]


def writer_problems(stack: StackTemplate) -> list[str]:
    """What roles (a service-linked role) write, read from the key and resource policies by hand."""
    problems = []
    for writer in dict.fromkeys([*message_writers(stack), *log_group_writers(stack), *bucket_writers(stack)]):
        if writer.service is not None:
            continue  # judged by the simulator: simulated_writer_problems
        key = encryption_key(stack, writer.target)
        where = f"{stack.name}: {writer.source} -> {writer.target} as {writer.principal}"
        if key and not allows(stack, stack.props(key)["KeyPolicy"], list(writer.key_actions),
                              service=writer.service, arn=writer.role_arn):
            problems.append(f"{where}: key {key}'s policy does not allow {list(writer.key_actions)}")
        action = WRITE_ACTION.get(stack.resources[writer.target]["Type"])
        if action is None:
            continue
        document = _resource_policy(stack, writer.target)
        if document is None:
            if writer.needs_resource_policy:
                problems.append(f"{where}: no resource policy allows {action}")
        elif not allows(stack, document, [action], service=writer.service, arn=writer.role_arn):
            problems.append(f"{where}: the resource policy does not allow {action}")
    return problems


def log_destination_problems(stack: StackTemplate) -> list[str]:
    """The role each service writes logs with may write to the group it is configured with."""
    problems = []
    write = ["logs:CreateLogStream", "logs:PutLogEvents"]

    def group_arn(value) -> str | None:
        logical_id = stack.logical_id_of(value)
        return arn_of(stack, logical_id, "AWS::Logs::LogGroup") if logical_id else None

    for logical_id, resource in stack.of_type("AWS::Lambda::Function"):
        props = resource["Properties"]
        group = group_arn(props.get("LoggingConfig", {}).get("LogGroup"))
        role = stack.logical_id_of(props.get("Role"))
        if group and role and not identity_allows(stack, role, write, group):
            problems.append(f"{stack.name}: function {logical_id}'s role {role} cannot write to its log group")
    for logical_id, resource in stack.of_type("AWS::EC2::FlowLog"):
        props = resource["Properties"]
        if props.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs":
            group = group_arn(props.get("LogGroupName"))
            role = stack.logical_id_of(props.get("DeliverLogsPermissionArn"))
            if group and role and not identity_allows(stack, role, write, group):
                problems.append(f"{stack.name}: flow log {logical_id}'s role {role} cannot write to its group")
    accounts = [stack.logical_id_of(r["Properties"].get("CloudWatchRoleArn"))
                for _, r in stack.of_type("AWS::ApiGateway::Account")]
    for logical_id, resource in stack.of_type("AWS::ApiGateway::Stage"):
        group = group_arn(resource["Properties"].get("AccessLogSetting", {}).get("DestinationArn"))
        for role in accounts:
            if group and role and not (identity_allows(stack, role, write, group)
                                       and identity_allows(stack, role, ["logs:DescribeLogGroups"], group)):
                problems.append(f"{stack.name}: stage {logical_id}'s access logs: the account's API Gateway "
                                f"role {role} cannot write to {group}")
    return problems


def alias_grant_problems(stack: StackTemplate) -> list[str]:
    """IAM ignores KMS alias ARNs in a Resource: such a grant silently grants nothing."""
    return [f"{stack.name}: {logical_id} grants {statement.get('Action')} on an alias ARN {resource}"
            for logical_id, statement in iam_statements(stack)
            for resource in (statement.get("Resource") if isinstance(statement.get("Resource"), list)
                             else [statement.get("Resource")])
            if isinstance(resource, str) and ":alias/" in resource
            and any(str(a).startswith("kms:") for a in (statement.get("Action") if isinstance(
                statement.get("Action"), list) else [statement.get("Action")]))]


def ebs_problems(stack: StackTemplate) -> list[str]:
    """Encrypted volumes name their key, and a key of ours lets Auto Scaling's service-linked role
    use it (else instances terminate at launch)."""
    problems = []
    scaled = {stack.logical_id_of(r["Properties"].get("LaunchTemplate", {}).get("LaunchTemplateId"))
              for _, r in stack.of_type("AWS::AutoScaling::AutoScalingGroup")}
    for _, r in stack.of_type("AWS::AutoScaling::AutoScalingGroup"):
        mixed = r["Properties"].get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
        scaled.add(stack.logical_id_of(mixed.get("LaunchTemplateSpecification", {}).get("LaunchTemplateId")))
    for logical_id, resource in stack.of_type("AWS::EC2::LaunchTemplate"):
        data = resource["Properties"].get("LaunchTemplateData", {})
        for mapping in data.get("BlockDeviceMappings", []):
            ebs = mapping.get("Ebs", {})
            if not ebs.get("Encrypted"):
                continue
            if "KmsKeyId" not in ebs:
                problems.append(f"{stack.name}: {logical_id} encrypts with the account's default EBS key, "
                                "which may be a customer key Auto Scaling cannot use")
                continue
            key = stack.logical_id_of(ebs["KmsKeyId"])
            if key and logical_id in scaled and not allows(stack, stack.props(key)["KeyPolicy"], EBS_KEY_ACTIONS,
                                                           arn=ASG_SERVICE_LINKED_ROLE):
                problems.append(f"{stack.name}: {logical_id}'s volume key {key} does not let the Auto Scaling "
                                "service-linked role use it")
    return problems


CHECKS = [simulated_writer_problems, writer_problems, log_destination_problems, alias_grant_problems, ebs_problems]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_example(example_copies, check):
    assert [p for stack in example_copies for p in check(stack)] == []
