"""SecurePaymentApi and the region's API Gateway account setting (issue 11, items 5, 7, 14).

One CloudWatch role per account and region writes the execution AND access logs of every REST API
there; the stage fails to enable logging until that role is set; a destroyed stack must not leave
the region pointing at a deleted role.
"""

from __future__ import annotations

import pytest

from cdk_payments import SecurePaymentApi

from ..harness import synth
from .cfn import REGION, log_group_arn, render, role_statements
from .cfn import statements_allow as allows

API_ID = "a1b2c3d4e5"


@pytest.fixture(scope="module")
def api():
    holder = {}
    result = synth(lambda stack: holder.setdefault("api", SecurePaymentApi(stack, "Payments")), nag=False)
    return result, holder["api"]


@pytest.fixture(scope="module")
def managed_elsewhere():
    return synth(lambda stack: SecurePaymentApi(stack, "Payments", configure_api_gateway_account=False), nag=False)


def only(result, type_):
    (logical_id, resource), = result.resources(type_).items()
    return logical_id, resource


def access_log_group(result, construct):
    stage = only(result, "AWS::ApiGateway::Stage")[1]
    group_id = stage["Properties"]["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    group = result.json["Resources"][group_id]
    # CloudFormation generates the name (as in 0.1.0); any name of the account's groups will do.
    return group, "TestStack-PaymentsAccessLogs264031DF-AbCdEf123456"


def test_stage_waits_for_the_account_setting(api):  # item 5
    result, _ = api
    account_id, _ = only(result, "AWS::ApiGateway::Account")
    _, stage = only(result, "AWS::ApiGateway::Stage")
    assert account_id in stage.get("DependsOn", [])


def test_stage_waits_for_its_execution_log_group(api):  # else API Gateway may create it first
    result, _ = api
    _, stage = only(result, "AWS::ApiGateway::Stage")
    groups = {k for k, v in result.resources("AWS::Logs::LogGroup").items()
              if "API-Gateway-Execution-Logs_" in str(v["Properties"].get("LogGroupName"))}
    assert len(groups) == 1 and groups <= set(stage["DependsOn"])


def test_access_log_group_keeps_a_generated_name(api):  # item 7, and upgrades from 0.1.0
    """No fixed name to collide between copies, and no new name, which would replace the group (and
    with it the logs PCI requirement 10 keeps) on upgrade: the region's role writes to any group."""
    result, construct = api
    group, _ = access_log_group(result, construct)
    assert "LogGroupName" not in group["Properties"]


def test_the_region_logging_role_can_deliver_access_logs(api):  # item 7
    result, construct = api
    _, account = only(result, "AWS::ApiGateway::Account")
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    statements = role_statements(result.json, role_id)
    _, name = access_log_group(result, construct)
    group = log_group_arn(name)
    for action, resource in (("logs:DescribeLogGroups", group), ("logs:CreateLogStream", f"{group}:*"),
                             ("logs:PutLogEvents", f"{group}:log-stream:abc"),
                             ("logs:PutLogEvents", log_group_arn(f"API-Gateway-Execution-Logs_{API_ID}/v1")
                              + ":log-stream:abc")):
        assert allows(statements, action, resource), (action, resource)


def test_the_access_log_key_lets_cloudwatch_logs_encrypt(api):  # item 7: the key policy side
    result, construct = api
    group, _ = access_log_group(result, construct)
    key = result.json["Resources"][group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    logs_service = f"logs.{REGION}.amazonaws.com"
    granted = {action for s in statements
               if render(s["Principal"].get("Service", ""), {}) == logs_service
               for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"kms:Encrypt", "kms:GenerateDataKey*", "kms:Decrypt"} <= granted


def test_role_serves_other_apis_in_the_region(api):  # item 14: it replaces whatever role was set
    result, _ = api
    _, account = only(result, "AWS::ApiGateway::Account")
    statements = role_statements(result.json, account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0])
    other = log_group_arn("/aws/apigateway/some-other-app-access")
    assert allows(statements, "logs:PutLogEvents", f"{other}:log-stream:x")
    assert allows(statements, "logs:DescribeLogGroups", other)


def test_role_and_setting_survive_a_destroy(api):  # item 14
    result, _ = api
    account_id, account = only(result, "AWS::ApiGateway::Account")
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = result.json["Resources"][role_id]
    for resource in (account, role):
        assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    # Nothing the role needs lives in a resource of its own that a destroy would delete.
    attached = [r for r in result.resources("AWS::IAM::Policy").values()
                if {"Ref": role_id} in r["Properties"].get("Roles", [])]
    assert attached == [] and role["Properties"]["Policies"]


def test_opting_out_leaves_the_account_setting_alone(managed_elsewhere):  # item 14
    managed_elsewhere.template.resource_count_is("AWS::ApiGateway::Account", 0)
    roles = managed_elsewhere.resources("AWS::IAM::Role").values()
    assert not any("apigateway.amazonaws.com" in str(r["Properties"]["AssumeRolePolicyDocument"]) for r in roles)
