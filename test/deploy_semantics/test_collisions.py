"""Two copies of the example, and dev beside prod, in one account and region: nothing may collide.

Physical names of resources whose names are unique per account (or per region) must differ between
copies; region and account singletons must not be created twice by default; and an alarm must not
watch a metric that both copies publish to, or it adds up the two.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

from .cfn import StackTemplate, references

# type -> the property that names it, where the name is unique per account (IAM) or per region.
NAMED = {
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApiGateway::UsagePlan": None,  # names need not be unique
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Budgets::Budget": "Budget.BudgetName",
    "AWS::CE::AnomalyMonitor": "MonitorName",
    "AWS::CE::AnomalySubscription": "SubscriptionName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::Config::ConfigRule": "ConfigRuleName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": None,
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::ApiGateway::RestApi": None,
}
GLOBAL_TYPES = {"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile", "AWS::S3::Bucket",
                "AWS::CE::AnomalyMonitor", "AWS::CE::AnomalySubscription", "AWS::Budgets::Budget"}
# One per account and region (or per account): a second copy fails, or silently takes the first's place.
SINGLETONS = {"AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel", "AWS::GuardDuty::Detector",
              "AWS::SecurityHub::Hub", "AWS::ApiGateway::Account", "AWS::EC2::EBSEncryptionByDefault"}


def _name(stack: StackTemplate, props: dict, path: str):
    value = props
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return None if value is None else str(stack.resolve(value))


def physical_names(stacks: list[StackTemplate]) -> dict:
    names = defaultdict(list)
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            path = NAMED.get(resource["Type"])
            name = path and _name(stack, resource.get("Properties", {}), path)
            if name:
                scope = "global" if resource["Type"] in GLOBAL_TYPES else stack.region
                names[(resource["Type"], scope, name)].append(f"{stack.name}/{logical_id}")
    return names


def test_no_physical_name_is_shared_between_copies(example_copies):
    shared = {key: where for key, where in physical_names(example_copies).items() if len(where) > 1}
    assert shared == {}, "equal physical names would collide in one account:\n" + "\n".join(
        f"{type_} {name!r} in {scope}: {', '.join(where)}" for (type_, scope, name), where in shared.items())


def _shared_setting(stack: StackTemplate, resource: dict) -> bool:
    """The API Gateway account setting is a value, not a name: every copy sets an equivalent role, and
    both are retained, so the last writer wins harmlessly and a destroy never leaves the region
    pointing at a deleted role (SecurePaymentApi's docstring; configure_api_gateway_account=False
    opts out)."""
    if resource["Type"] != "AWS::ApiGateway::Account" or resource.get("DeletionPolicy") != "Retain":
        return False
    role = stack.logical_id_of(resource["Properties"].get("CloudWatchRoleArn"))
    return role is not None and stack.resources[role].get("DeletionPolicy") == "Retain"


def test_no_account_or_region_singleton_by_default(example_copies):
    singletons = [f"{stack.name}/{logical_id} ({resource['Type']})" for stack in example_copies
                  for logical_id, resource in stack.resources.items()
                  if resource["Type"] in SINGLETONS and not _shared_setting(stack, resource)]
    assert singletons == [], "created by default, so a second app in the account collides or overwrites it"


def _metrics(stack: StackTemplate, props: dict):
    if "MetricName" in props:
        yield props.get("Namespace"), props["MetricName"], props.get("Dimensions", [])
    for query in props.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric")
        if metric:
            yield metric.get("Namespace"), metric["MetricName"], metric.get("Dimensions", [])


def test_no_alarm_adds_up_both_copies(example_copies):
    """An alarm's metric must carry a dimension that differs between copies (a queue name, a
    function name, an API name), or it watches the sum of both stacks."""
    watched = defaultdict(list)
    for stack in example_copies:
        for logical_id, resource in stack.of_type("AWS::CloudWatch::Alarm"):
            for namespace, metric, dimensions in _metrics(stack, resource["Properties"]):
                key = (namespace, metric, tuple(sorted((d["Name"], str(stack.resolve(d["Value"])))
                                                      for d in dimensions)))
                watched[key].append(f"{stack.name}/{logical_id}")
    shared = {key: where for key, where in watched.items()
              if len({w.split("/")[0] for w in where}) > 1}
    assert shared == {}, "\n".join(f"{key}: {where}" for key, where in shared.items())



def _kept(resource: dict) -> bool:
    return resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")


def _renamed_by_generation(stack: StackTemplate, resource: dict) -> bool:
    """The replica bucket: the primary stack in another region must know its name at synthesis, so it cannot
    end in its own stack's ID; a new generation renames it (test below)."""
    return stack.name.endswith("-audit-replica") and resource["Type"] == "AWS::S3::Bucket"


def _new_per_stack(stack: StackTemplate, resource: dict) -> bool:
    """The name ends in the stack ID's UUID, or embeds the generated ID of a resource this stack creates (API
    Gateway's execution log group names the REST API's ID), both new for each stack CloudFormation creates."""
    properties = resource.get("Properties", {})
    return '"AWS::StackId"' in json.dumps(properties) or bool(references(properties) & stack.resources.keys())


def test_a_kept_named_resource_never_blocks_the_next_deployment_after_a_destroy(example_copies):
    """Kept on deletion and named by the template, it would be created again under the same name by the
    next deployment of the stack after a destroy, and fail: its name must end in part of the stack's ID,
    which CloudFormation draws anew for each stack it creates."""
    blocking = []
    for stack in example_copies:
        for logical_id, resource in stack.resources.items():
            path = NAMED.get(resource["Type"])
            name = path and _name(stack, resource.get("Properties", {}), path)
            if name and _kept(resource) and not _renamed_by_generation(stack, resource) and not _new_per_stack(
                    stack, resource):
                blocking.append(f"{stack.name}/{logical_id} ({resource['Type']} {name!r})")
    assert not blocking, "kept resources whose fixed name blocks a redeploy after a destroy:\n" + "\n".join(blocking)


def test_a_new_replica_generation_names_a_new_bucket():
    import aws_cdk as cdk

    from .conftest import EXAMPLE

    sys.path.insert(0, str(EXAMPLE))
    try:
        from audit_replica import AuditReplica
    finally:
        sys.path.remove(str(EXAMPLE))
    names = []
    for generation in (None, 2):
        replica = AuditReplica(cdk.App(), "PaymentPlatform-prod-audit-replica", region="us-west-2",
                               generation=generation)
        names.append(json.dumps(replica.resolve(replica.bucket_name)))
    assert names[0] != names[1] and names[1].endswith('-g2"]]}')
