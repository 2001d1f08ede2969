"""Ordering AWS needs but CloudFormation does not infer from references: where a resource only
works once another exists, the template (or the app's stack dependencies) must say so."""

from __future__ import annotations

from .cfn import StackTemplate, depends_on


def stage_after_account(stack: StackTemplate) -> list[str]:
    """A stage that logs fails to create until the region's API Gateway CloudWatch role is set: when
    the construct that owns the stage sets that role, the stage waits for it. (A construct told not
    to set it leaves the role to the account, as documented.)"""
    problems = []
    for logical_id, resource in stack.of_type("AWS::ApiGateway::Stage"):
        props = resource["Properties"]
        logs = props.get("AccessLogSetting") or any(
            m.get("LoggingLevel", "OFF") != "OFF" for m in props.get("MethodSettings", []))
        # The same construct: CDK prefixes logical ids with the owning construct's path.
        accounts = {account for account, _ in stack.of_type("AWS::ApiGateway::Account")
                    if logical_id.startswith(account[:account.index("Account")])}
        if logs and accounts and not accounts & depends_on(stack, logical_id):
            problems.append(f"{stack.name}: stage {logical_id} can be created before {sorted(accounts)}")
    return problems


def config_rules_after_recorder(stack: StackTemplate) -> list[str]:
    """PutConfigRule fails (NoAvailableConfigurationRecorder) until the region has a recorder."""
    recorders = {logical_id for logical_id, _ in stack.of_type("AWS::Config::ConfigurationRecorder")}
    return [f"{stack.name}: Config rule {logical_id} can be created before the recorder"
            for logical_id, _ in stack.of_type("AWS::Config::ConfigRule")
            if recorders and not recorders & depends_on(stack, logical_id)]


def replication_after_destination(stacks: list[StackTemplate]) -> list[str]:
    """A bucket replicating into another stack's bucket deploys only after that stack."""
    by_name = {stack.name: stack for stack in stacks}
    problems = []
    for stack in stacks:
        for logical_id, resource in stack.of_type("AWS::S3::Bucket"):
            rules = resource["Properties"].get("ReplicationConfiguration", {}).get("Rules", [])
            for rule in rules:
                destination = str(stack.resolve(rule["Destination"]["Bucket"]))
                owners = [other.name for other in stacks if other is not stack and any(
                    str(other.resolve(b["Properties"].get("BucketName", ""))) in destination
                    and b["Properties"].get("BucketName") for _, b in other.of_type("AWS::S3::Bucket"))
                    or f"/{other.name}/" in f"/{destination}/"]
                missing = [o for o in owners if o not in by_name[stack.name].dependencies]
                if missing:
                    problems.append(f"{stack.name}: {logical_id} replicates into {missing} but does not depend on it")
    return problems


def test_stage_after_account(example_copies):
    assert [p for stack in example_copies for p in stage_after_account(stack)] == []


def test_config_rules_after_recorder(example_copies):
    assert [p for stack in example_copies for p in config_rules_after_recorder(stack)] == []


def test_replication_after_destination(example_copies):
    assert replication_after_destination(example_copies) == []
