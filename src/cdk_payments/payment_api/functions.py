"""The payment functions: arm64, newest Python, Powertools layer, owned log group, own role."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .._nag import acknowledge, acknowledge_log_retention, guard

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Published by AWS for each runtime and architecture: arn:aws:lambda:<region>:017000801446:layer:...
POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python314-arm64"
# The Powertools release the handlers run on AND are tested with: .projenrc.py pins the same version
# (aws-lambda-powertools==...) for the tests, and test/deploy_semantics checks that they agree.
POWERTOOLS_VERSION = "3.37.0"
# Public parameter AWS publishes per release, holding that release's layer ARN in each region.
POWERTOOLS_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The asset is the runtime/ package only (handlers import nothing else from cdk_payments).
ASSET_EXCLUDE = ["*", "!runtime", "!runtime/**", "**/__pycache__", "**/*.pyc"]
PROCESSOR_TIMEOUT = Duration.seconds(10)
HANDLER_TIMEOUT = Duration.seconds(30)


def powertools_layer(scope: Construct, version: Optional[int]) -> lambda_.ILayerVersion:
    """The layer of POWERTOOLS_VERSION, resolved by CloudFormation at deploy time from the public SSM
    parameter (no context lookup, no account at synth); or layer ``version`` when one is pinned."""
    if version is None:
        arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_PARAMETER)
    else:
        arn = f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:017000801446:layer:{POWERTOOLS_LAYER}:{version}"
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


def runtime_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(PACKAGE_DIR), exclude=ASSET_EXCLUDE)


@dataclass(frozen=True, kw_only=True)
class FunctionDefaults:
    """What every payment function of one construct shares: code, layer, key, size, logs, network."""

    code: lambda_.Code
    layer: lambda_.ILayerVersion
    key: kms.IKey
    memory_size: int
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    reserved_concurrency: Optional[int]
    dead_letter_queue: sqs.IQueue
    vpc: Optional[ec2.IVpc]
    vpc_subnets: Optional[ec2.SubnetSelection]

    def with_reserved_concurrency(self, reserved_concurrency: Optional[int]) -> "FunctionDefaults":
        return replace(self, reserved_concurrency=reserved_concurrency)


class PaymentFunction(Construct):
    """One payment Lambda function and the resources it owns: role, log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        environment: Mapping[str, str],
        defaults: FunctionDefaults,
    ) -> None:
        super().__init__(scope, id)
        key, log_retention, removal_policy = defaults.key, defaults.log_retention, defaults.removal_policy
        reserved_concurrency, vpc = defaults.reserved_concurrency, defaults.vpc
        # Our own role and log group: no AWS managed policies, and logs that are encrypted and expire.
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, encryption_key=key, removal_policy=removal_policy
        )
        acknowledge_log_retention(self.log_group, log_retention)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        security_groups = None
        if vpc is not None:
            self.security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, description=f"{description}: HTTPS out only", allow_all_outbound=False
            )
            self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.HTTPS, "AWS APIs and the provider")
            security_groups = [self.security_group]
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=defaults.code,
            layers=[defaults.layer],
            role=self.role,
            memory_size=defaults.memory_size,
            timeout=timeout,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            environment={"POWERTOOLS_SERVICE_NAME": "payments", "POWERTOOLS_METRICS_NAMESPACE": "CdkPayments",
                         **environment},
            environment_encryption=key,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=defaults.dead_letter_queue,
            vpc=vpc,
            vpc_subnets=defaults.vpc_subnets,
            security_groups=security_groups,
        )
        # CDK makes a function depend on the role it is given as well as on the role's policy; the
        # GetAtt on the role already orders them, which cfn-lint reports as W3005.
        self.function.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        acknowledge(
            self.role,
            "X-Ray tracing (xray:PutTraceSegments) and, in a VPC, the ENI actions Lambda needs "
            "(ec2:CreateNetworkInterface and friends) support no resource-level scoping; nothing else "
            "in this role's policy uses Resource *.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "Its only unconstrained statements are X-Ray's and, in a VPC, Lambda's ENI actions, which "
            "support no resource-level scoping; all other statements name their resources.",
            "CKV_AWS_111",
        )
        if reserved_concurrency is None:
            acknowledge(
                self.function,
                "Reserved concurrency is opt-in (reserved_concurrency) in every profile: Lambda keeps 100 "
                "executions unreserved and new accounts have a quota of 10, so reserving any fails the deploy "
                "until the quota is raised. API Gateway stage throttling bounds concurrency instead.",
                "NIST.800.53.R5-LambdaConcurrency",
                "PCI.DSS.321-LambdaConcurrency",
                "CKV_AWS_115",
            )
        if vpc is None:
            acknowledge(
                self.function,
                "Created without a VPC: the function reaches only AWS APIs, over TLS and with IAM. Pass "
                "vpc (a CostOptimizedVpc) to run it in private subnets.",
                "NIST.800.53.R5-LambdaInsideVPC",
                "PCI.DSS.321-LambdaInsideVPC",
                "CKV_AWS_117",
                guard("lambda_inside_vpc_check"),
            )
        elif Stack.of(vpc) is not Stack.of(self):
            acknowledge(
                self.function,
                "The function runs in the given VPC's subnets; they come from another stack as Fn::ImportValue, "
                "which the Control Tower rule cannot read as subnet ids.",
                guard("lambda_inside_vpc_check"),
            )
