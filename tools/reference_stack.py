"""The yardstick's reference: the original design's single stack, rebuilt with plain aws-cdk-lib.

It follows shared/reference/yardstick.md (2 AZs, one NAT gateway, two t3.small workers, 512 MB arm64
Lambdas, on-demand DynamoDB with a GSI, Glacier at 30 days, WAF with rate/SQLi/common rules, three
SNS topics, three dashboards, Config rules, four alarms) and exists only so that tools/bench_synth.py
can time the library's example against it in the same run. Run it as a CDK app:

    CDK_OUTDIR=/tmp/ref python tools/reference_stack.py
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_config as config
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"


class OriginalDesign(Stack):
    def __init__(self, scope, id: str) -> None:
        super().__init__(scope, id)
        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        table = dynamodb.Table(self, "Payments", billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                               partition_key=dynamodb.Attribute(name="payment_id", type=dynamodb.AttributeType.STRING))
        table.add_global_secondary_index(
            index_name="by-merchant",
            partition_key=dynamodb.Attribute(name="merchant_id", type=dynamodb.AttributeType.STRING))
        dlq = sqs.Queue(self, "DeadLetters")
        queue = sqs.Queue(self, "Queue", dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=3))
        bucket = s3.Bucket(self, "Audit", lifecycle_rules=[s3.LifecycleRule(transitions=[
            s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(30))])])
        secret = secretsmanager.Secret(self, "Credentials")
        topics = {name: sns.Topic(self, name) for name in ("Cost", "Security", "Operations")}

        def function(name: str) -> lambda_.Function:
            return lambda_.Function(self, name, runtime=lambda_.Runtime.PYTHON_3_12,
                                    architecture=lambda_.Architecture.ARM_64, memory_size=512,
                                    handler="index.handler", code=lambda_.Code.from_inline(HANDLER), vpc=vpc,
                                    environment={"TABLE": table.table_name, "QUEUE": queue.queue_url})

        processor, handler = function("Processor"), function("EventHandler")
        table.grant_read_write_data(processor)
        queue.grant_send_messages(processor)
        secret.grant_read(processor)
        handler.add_event_source(sources.SqsEventSource(queue))
        api = apigw.LambdaRestApi(self, "Api", handler=processor, proxy=False)
        api.root.add_resource("payments").add_method("POST")
        wafv2.CfnWebACLAssociation(self, "WafAssociation", resource_arn=api.deployment_stage.stage_arn,
                                   web_acl_arn=self._web_acl().attr_arn)

        fleet = autoscaling.AutoScalingGroup(
            self, "Workers", vpc=vpc, min_capacity=2, max_capacity=4,
            launch_template=ec2.LaunchTemplate(
                self, "WorkerTemplate", instance_type=ec2.InstanceType("t3.small"),
                machine_image=ec2.MachineImage.latest_amazon_linux2023(), require_imdsv2=True))
        fleet.scale_on_cpu_utilization("Cpu", target_utilization_percent=70)
        fleet.scale_on_metric("Memory", metric=cloudwatch.Metric(
            namespace="CWAgent", metric_name="mem_used_percent",
            dimensions_map={"AutoScalingGroupName": fleet.auto_scaling_group_name}),
            scaling_steps=[autoscaling.ScalingInterval(upper=40, change=-1),
                           autoscaling.ScalingInterval(lower=80, change=+1)])

        for name, metric in (("LambdaErrors", processor.metric_errors()),
                             ("DynamoThrottles", table.metric_throttled_requests_for_operation("PutItem")),
                             ("ApiErrors", api.metric_server_error()),
                             ("WorkerCpu", cloudwatch.Metric(namespace="AWS/EC2", metric_name="CPUUtilization",
                                                             dimensions_map={"AutoScalingGroupName":
                                                                             fleet.auto_scaling_group_name}))):
            alarm = cloudwatch.Alarm(self, name, metric=metric, threshold=1, evaluation_periods=1)
            alarm.add_alarm_action(actions.SnsAction(topics["Operations"]))
        for name in ("Cost", "Security", "Operations"):
            cloudwatch.Dashboard(self, f"{name}Dashboard", widgets=[[cloudwatch.GraphWidget(
                title=name, left=[table.metric_successful_request_latency(dimensions_map={"Operation": "GetItem"})])]])
        for name, identifier in (("S3Encryption", config.ManagedRuleIdentifiers.S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED),
                                 ("S3PublicRead", config.ManagedRuleIdentifiers.S3_BUCKET_PUBLIC_READ_PROHIBITED),
                                 ("RequiredTags", config.ManagedRuleIdentifiers.REQUIRED_TAGS)):
            config.ManagedRule(self, name, identifier=identifier)
        events.Rule(self, "GuardDutyFindings", event_pattern=events.EventPattern(source=["aws.guardduty"]),
                    targets=[targets.SnsTopic(topics["Security"])])
        events.Rule(self, "ConfigCompliance", event_pattern=events.EventPattern(source=["aws.config"]),
                    targets=[targets.SnsTopic(topics["Security"])])
        for name, value in (("TableName", table.table_name), ("QueueUrl", queue.queue_url),
                            ("BucketName", bucket.bucket_name),
                            ("SecretArn", secret.secret_arn)):
            ssm.StringParameter(self, name, string_value=value)

    def _web_acl(self) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=name,
                                                            sampled_requests_enabled=True)

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.
                                                            ManagedRuleGroupStatementProperty(vendor_name="AWS",
                                                                                              name=name)),
                visibility_config=visibility(name))

        rate = wafv2.CfnWebACL.RuleProperty(
            name="RateLimit", priority=0, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.
                                                        RateBasedStatementProperty(limit=2000,
                                                                                   aggregate_key_type="IP")),
            visibility_config=visibility("RateLimit"))
        return wafv2.CfnWebACL(self, "WebAcl", scope="REGIONAL",
                               default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
                               visibility_config=visibility("WebAcl"),
                               rules=[rate, managed(1, "AWSManagedRulesSQLiRuleSet"),
                                      managed(2, "AWSManagedRulesCommonRuleSet")])


if __name__ == "__main__":
    app = cdk.App(analytics_reporting=False, outdir=os.environ.get("CDK_OUTDIR"))
    OriginalDesign(app, "OriginalDesign")
    app.synth()
