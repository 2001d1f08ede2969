"""PciDss401Checks: every rule fires on a non-compliant fixture and stays silent on a compliant one,
all in one app synthesized once with only this pack."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_payments.nag import RULES, PciDss401Checks

from ..harness import read_findings

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _sg(scope, cidr):
    ec2.CfnSecurityGroup(scope, "Sg", group_description="x", vpc_id="vpc-1", security_group_ingress=[
        ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip=cidr)])


def _instance(scope, public):
    ec2.CfnInstance(scope, "Instance", image_id="ami-1", network_interfaces=[
        ec2.CfnInstance.NetworkInterfaceProperty(device_index="0", associate_public_ip_address=public,
                                                 subnet_id="subnet-1")])


def _launch_template(scope, public=False, tokens="required"):
    ec2.CfnLaunchTemplate(scope, "Template", launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
        metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens=tokens),
        network_interfaces=[ec2.CfnLaunchTemplate.NetworkInterfaceProperty(
            device_index=0, associate_public_ip_address=public)]))


def _vpc(scope, closed):
    ec2.Vpc(scope, "Vpc", max_azs=1, nat_gateways=0, restrict_default_security_group=closed,
            subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])


def _flow_logged_vpc(scope, logged):
    vpc = ec2.CfnVPC(scope, "Vpc", cidr_block="10.0.0.0/16")
    if logged:
        ec2.CfnFlowLog(scope, "FlowLog", resource_id=vpc.ref, resource_type="VPC", traffic_type="ALL",
                       log_destination_type="s3", log_destination="arn:aws:s3:::logs")


def _bucket(scope, **overrides):
    props = dict(encryption=s3.BucketEncryption.KMS, enforce_ssl=True,
                 block_public_access=s3.BlockPublicAccess.BLOCK_ALL, server_access_logs_prefix="logs/")
    props.update(overrides)
    s3.Bucket(scope, "Bucket", **props)


def _table(scope, kms_encrypted):
    dynamodb.CfnTable(scope, "Table", key_schema=[dynamodb.CfnTable.KeySchemaProperty(attribute_name="pk",
                                                                                          key_type="HASH")],
                      attribute_definitions=[dynamodb.CfnTable.AttributeDefinitionProperty(attribute_name="pk",
                                                                                          attribute_type="S")],
                      billing_mode="PAY_PER_REQUEST",
                      sse_specification=dynamodb.CfnTable.SSESpecificationProperty(
                          sse_enabled=True, sse_type="KMS", kms_master_key_id=KEY) if kms_encrypted else None)


def _web_acl(scope, rules, logged=False):
    acl = wafv2.CfnWebACL(scope, "Acl", default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
                          scope="REGIONAL", visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                              cloud_watch_metrics_enabled=True, metric_name="acl", sampled_requests_enabled=True),
                          rules=[wafv2.CfnWebACL.RuleProperty(
                              name="common", priority=0, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                              statement=wafv2.CfnWebACL.StatementProperty(
                                  managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                                      vendor_name="AWS", name="AWSManagedRulesCommonRuleSet")),
                              visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                                  cloud_watch_metrics_enabled=True, metric_name="common",
                                  sampled_requests_enabled=True))] if rules else [])
    if logged:
        wafv2.CfnLoggingConfiguration(scope, "Logging", resource_arn=acl.attr_arn,
                                      log_destination_configs=["arn:aws:logs:us-east-1:1:log-group:aws-waf-logs-x"])


def _stage(scope, **props):
    api = apigw.CfnRestApi(scope, "Api", name="api")
    apigw.CfnStage(scope, "Stage", rest_api_id=api.ref, deployment_id="d1", stage_name="prod", **props)


def _waf_stage(scope, associated):
    api = apigw.CfnRestApi(scope, "Api", name="api")
    stage = apigw.CfnStage(scope, "Stage", rest_api_id=api.ref, deployment_id="d1", stage_name="prod")
    if associated:
        wafv2.CfnWebACLAssociation(scope, "Association", web_acl_arn="arn:aws:wafv2:acl", resource_arn=cdk.Fn.join(
            "", ["arn:aws:apigateway:us-east-1::/restapis/", api.ref, "/stages/", stage.ref]))


def _admin_policy(scope, admin):
    iam.ManagedPolicy(scope, "Policy", statements=[
        iam.PolicyStatement(actions=["*" if admin else "s3:GetObject"], resources=["*"])])


def _user_policy(scope, on_user):
    user = iam.CfnUser(scope, "User")
    iam.CfnManagedPolicy(scope, "Policy", users=[user.ref] if on_user else None, policy_document={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def _secret(scope, rotated):
    secret = secretsmanager.Secret(scope, "Secret")
    if rotated:
        secret.add_rotation_schedule("Rotation", rotation_lambda=lambda_.Function.from_function_arn(
            scope, "Rotator", "arn:aws:lambda:us-east-1:111111111111:function:rotate"))


def _trail(scope, **props):
    base = dict(is_logging=True, s3_bucket_name="trail-bucket", kms_key_id=KEY, enable_log_file_validation=True,
                cloud_watch_logs_log_group_arn="arn:aws:logs:us-east-1:1:log-group:t:*",
                cloud_watch_logs_role_arn="arn:aws:iam::1:role/t")
    base.update(props)
    cloudtrail.CfnTrail(scope, "Trail", **base)


def _alarm(scope, actions):
    cloudwatch.CfnAlarm(scope, "Alarm", comparison_operator="GreaterThanThreshold", evaluation_periods=1,
                        metric_name="Errors", namespace="AWS/Lambda", period=60, statistic="Sum", threshold=1,
                        alarm_actions=["arn:aws:sns:us-east-1:1:t"] if actions else None)


FIXTURES = {
    # rule: (compliant, non-compliant)
    "EC2RestrictedSSH": (lambda s: _sg(s, "10.0.0.0/8"), lambda s: _sg(s, "0.0.0.0/0")),
    "EC2InstanceNoPublicIp": (lambda s: _instance(s, False), lambda s: _instance(s, True)),
    "EC2LaunchTemplatePublicIpDisabled": (lambda s: _launch_template(s), lambda s: _launch_template(s, public=True)),
    "VPCDefaultSecurityGroupClosed": (lambda s: _vpc(s, True), lambda s: _vpc(s, False)),
    "LambdaFunctionPublicAccessProhibited": (
        lambda s: lambda_.CfnPermission(s, "Permission", action="lambda:InvokeFunction", function_name="f",
                                        principal="s3.amazonaws.com", source_account="111111111111"),
        lambda s: lambda_.CfnPermission(s, "Permission", action="lambda:InvokeFunction", function_name="f",
                                        principal="*")),
    "S3BucketLevelPublicAccessProhibited": (lambda s: _bucket(s),
                                            lambda s: _bucket(s, block_public_access=s3.BlockPublicAccess(
                                                block_public_acls=False, block_public_policy=False,
                                                ignore_public_acls=False, restrict_public_buckets=False))),
    "WAFv2WebACLNotEmpty": (lambda s: _web_acl(s, True), lambda s: _web_acl(s, False)),
    "EC2IMDSv2Enabled": (
        lambda s: ec2.CfnInstance(s, "Instance", image_id="ami-1", metadata_options=ec2.CfnInstance.MetadataOptionsProperty(
            http_tokens="required")),
        lambda s: ec2.CfnInstance(s, "Instance", image_id="ami-1")),
    "EC2LaunchTemplateIMDSv2": (lambda s: _launch_template(s), lambda s: _launch_template(s, tokens="optional")),
    "S3DefaultEncryptionKMS": (lambda s: _bucket(s), lambda s: _bucket(s, encryption=s3.BucketEncryption.S3_MANAGED)),
    "DynamoDBTableEncryptedKMS": (lambda s: _table(s, True), lambda s: _table(s, False)),
    "CloudWatchLogGroupEncrypted": (
        lambda s: logs.CfnLogGroup(s, "Logs", kms_key_id=KEY, retention_in_days=365),
        lambda s: logs.CfnLogGroup(s, "Logs", retention_in_days=365)),
    "SNSEncryptedKMS": (lambda s: sns.CfnTopic(s, "Topic", kms_master_key_id=KEY), lambda s: sns.CfnTopic(s, "Topic")),
    "APIGWCacheEnabledAndEncrypted": (
        lambda s: _stage(s, method_settings=[apigw.CfnStage.MethodSettingProperty(
            http_method="*", resource_path="/*", caching_enabled=True, cache_data_encrypted=True)]),
        lambda s: _stage(s)),
    "KMSBackingKeyRotationEnabled": (lambda s: kms.Key(s, "Key", enable_key_rotation=True),
                                     lambda s: kms.Key(s, "Key", enable_key_rotation=False)),
    "S3BucketSSLRequestsOnly": (lambda s: _bucket(s), lambda s: _bucket(s, enforce_ssl=False)),
    "APIGWSSLEnabled": (lambda s: _stage(s, client_certificate_id="cert"), lambda s: _stage(s)),
    "APIGWAssociatedWithWAF": (lambda s: _waf_stage(s, True), lambda s: _waf_stage(s, False)),
    "IAMPolicyNoStatementsWithAdminAccess": (lambda s: _admin_policy(s, False), lambda s: _admin_policy(s, True)),
    "IAMUserNoPolicies": (lambda s: _user_policy(s, False), lambda s: _user_policy(s, True)),
    "SecretsManagerRotationEnabled": (lambda s: _secret(s, True), lambda s: _secret(s, False)),
    "APIGWExecutionLoggingEnabled": (
        lambda s: _stage(s, method_settings=[apigw.CfnStage.MethodSettingProperty(
            http_method="*", resource_path="/*", logging_level="INFO")]),
        lambda s: _stage(s)),
    "APIGWXrayEnabled": (lambda s: _stage(s, tracing_enabled=True), lambda s: _stage(s)),
    "S3BucketLoggingEnabled": (lambda s: _bucket(s), lambda s: _bucket(s, server_access_logs_prefix=None)),
    "VPCFlowLogsEnabled": (lambda s: _flow_logged_vpc(s, True), lambda s: _flow_logged_vpc(s, False)),
    "WAFv2LoggingEnabled": (lambda s: _web_acl(s, True, logged=True), lambda s: _web_acl(s, True)),
    "CloudTrailEncryptionEnabled": (lambda s: _trail(s), lambda s: _trail(s, kms_key_id=None)),
    "CloudTrailLogFileValidationEnabled": (lambda s: _trail(s), lambda s: _trail(s, enable_log_file_validation=False)),
    "CloudTrailCloudWatchLogsEnabled": (
        lambda s: _trail(s), lambda s: _trail(s, cloud_watch_logs_log_group_arn=None, cloud_watch_logs_role_arn=None)),
    "CloudWatchAlarmAction": (lambda s: _alarm(s, True), lambda s: _alarm(s, False)),
    "CloudWatchLogGroupRetentionPeriod": (
        lambda s: logs.CfnLogGroup(s, "Logs", kms_key_id=KEY, retention_in_days=365),
        lambda s: logs.CfnLogGroup(s, "Logs", kms_key_id=KEY)),
}


@pytest.fixture(scope="module")
def findings():
    outdir = tempfile.mkdtemp(prefix="cdk-payments-pci-")
    app = cdk.App(analytics_reporting=False, outdir=outdir)
    cdk.Validations.of(app).add_plugins(PciDss401Checks(app))
    for name, (good, bad) in FIXTURES.items():
        # A stack per rule, so that stack-wide rules (flow logs, WAF associations) see only their fixture.
        stack = cdk.Stack(app, name)
        good(Construct(stack, "Good"))
        bad(Construct(stack, "Bad"))
    with pytest.raises(RuntimeError):
        app.synth()
    return read_findings(Path(outdir, "validation-report.json"))


def test_every_rule_has_fixtures():
    assert set(FIXTURES) == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule_fires_on_the_non_compliant_fixture_only(findings, rule):
    paths = {f.path.split("/")[1] for f in findings
             if f.rule.split("[")[0] == rule.rule_id and f.path.startswith(f"{rule.name}/")}
    assert paths == {"Bad"}


def test_findings_are_the_packs_own_rules(findings):
    ours = {f.rule.split("[")[0] for f in findings if f.pack == "PCI.DSS.401"}
    assert ours == {rule.rule_id for rule in RULES}  # no finding from a source pack's other rules


def test_an_acknowledgement_silences_the_finding():
    app = cdk.App(analytics_reporting=False, outdir=tempfile.mkdtemp())
    cdk.Validations.of(app).add_plugins(PciDss401Checks(app))
    stack = cdk.Stack(app, "S")
    topic = sns.CfnTopic(stack, "Topic")
    cdk.Validations.of(topic).acknowledge(cdk.Acknowledgment(id="PCI.DSS.401-SNSEncryptedKMS",
                                                             reason="a fixture acknowledging the rule"))
    app.synth()  # no finding left: synthesis passes
    assert json.loads(Path(app.outdir, "S.template.json").read_text())["Resources"]
