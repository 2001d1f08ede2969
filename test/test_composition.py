"""A consumer's app, composed the ways README.md and API.md allow, under all five cdk-nag packs (cdk-nag's
four and cdk_payments.nag.PciDss401Checks): the library's constructs contribute 0 findings, whatever
the user's own resources do.

Each composition is what a user may write: their own VPC or one from CostOptimizedVpc (with NAT, or
without and interface endpoints), a key and table of their own or imported, every authorization
mode, both profiles. The user's own resources live under ``Own*`` construct ids (or in the
``OwnNetwork`` stack); a finding anywhere else (the library's constructs and the stack-level
singletons they add) fails the test.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from cdk_payments import (
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    NatStrategy,
    PaymentApiAuthorization,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    SecurePaymentApi,
)

from .harness import synth

KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENDPOINTS = ["sqs", "secretsmanager", "kms", "logs", "events", "monitoring"]


def compose(stack: cdk.Stack, *, profile: Profile, auth: PaymentApiAuthorization, network: str, key: str,
            table: str, fleet: bool) -> None:
    if key == "own":
        encryption_key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    else:
        encryption_key = kms.Key.from_key_arn(stack, "OwnImportedKey", KEY_ARN)
    vpc_subnets = None
    if network in ("existing", "other-stack"):  # existing_vpc: a VPC the user defines in the same app
        scope = cdk.Stack(stack.node.scope, "OwnNetwork") if network == "other-stack" else stack
        own = ec2.Vpc(scope, "OwnVpc", ip_addresses=ec2.IpAddresses.cidr("10.20.0.0/16"), max_azs=2,
                      nat_gateways=1)
        net = CostOptimizedVpc(stack, "Network", profile=profile, existing_vpc=own, interface_endpoints=ENDPOINTS)
    elif network == "imported":  # Vpc.from_vpc_attributes, its CIDR a deploy-time value
        own = ec2.Vpc.from_vpc_attributes(
            stack, "OwnImportedVpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a", "us-east-1b"],
            vpc_cidr_block=cdk.Fn.import_value("network-cidr"),
            private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"])
        net = CostOptimizedVpc(stack, "Network", profile=profile, existing_vpc=own, interface_endpoints=["sqs"])
    elif network == "no-nat":
        net = CostOptimizedVpc(stack, "Network", profile=profile, nat=NatStrategy.NONE,
                               interface_endpoints=ENDPOINTS, encryption_key=encryption_key)
        vpc_subnets = net.workload_subnets
    else:
        net = CostOptimizedVpc(stack, "Network", profile=profile, encryption_key=encryption_key)
    audit = AuditBucket(stack, "Audit", profile=profile, encryption_key=encryption_key)
    alerts = AlertTopics(stack, "Alerts", encryption_key=encryption_key,
                         emails={} if key == "own" else None)
    extra = {}
    if auth is PaymentApiAuthorization.COGNITO:
        extra["user_pool"] = cognito.UserPool(stack, "OwnUserPool")
    elif auth is PaymentApiAuthorization.API_KEY:
        extra["merchants"] = ["merchant-1", "merchant-2"]
    if table == "imported":
        extra["existing_table"] = dynamodb.Table.from_table_name(stack, "OwnTable", "payments")
    api = SecurePaymentApi(stack, "Api", profile=profile, vpc=net.vpc, vpc_subnets=vpc_subnets,
                           encryption_key=encryption_key, alarm_topic=alerts.operations_topic, authorization=auth,
                           **extra)
    if fleet:
        PaymentWorkerFleet(stack, "Workers", profile=profile, vpc=net.vpc, vpc_subnets=vpc_subnets,
                           table=api.table, encryption_key=encryption_key, alarm_topic=alerts.operations_topic,
                           user_data_commands=["/opt/settlement/start"])
    baseline = ComplianceBaseline(stack, "Guardrails", profile=profile, security_topic=alerts.security_topic,
                                  cost_topic=alerts.cost_topic, encryption_key=encryption_key,
                                  create_recorder=profile is Profile.PROD, recorder_bucket=audit.access_log_bucket
                                  if profile is Profile.PROD else None)
    PaymentDashboards(stack, "Dashboards", profile=profile, payment_api=api,
                      finding_rules=baseline.finding_rule_names)
    PlatformParameters(stack, "Parameters", payment_api=api, extra={"audit-bucket": audit.bucket.bucket_name})
    for tag, value in (("application", "cdk-payments"), ("cost-center", "payments"), ("environment", "test")):
        cdk.Tags.of(stack).add(tag, value)


IAM, COGNITO, API_KEY = (PaymentApiAuthorization.IAM, PaymentApiAuthorization.COGNITO,
                         PaymentApiAuthorization.API_KEY)
COMPOSITIONS = {
    # id: (profile, auth, network, key, table, fleet)
    "readme-quickstart-dev": (Profile.DEV, IAM, "own", "own", "new", True),
    "readme-quickstart-prod": (Profile.PROD, IAM, "own", "own", "new", True),
    "cognito-dev": (Profile.DEV, COGNITO, "own", "own", "new", False),
    "api-key-prod": (Profile.PROD, API_KEY, "own", "own", "new", False),
    # The consumer's app of issue 14: own VPC, prod, API keys, imported key and table, no fleet.
    "existing-vpc-imported-key-and-table-prod": (Profile.PROD, API_KEY, "existing", "imported", "imported", False),
    "existing-vpc-in-another-stack-dev": (Profile.DEV, IAM, "other-stack", "own", "new", False),
    "existing-vpc-cognito-dev": (Profile.DEV, COGNITO, "existing", "own", "new", True),
    "imported-vpc-token-cidr-dev": (Profile.DEV, IAM, "imported", "own", "new", True),
    "no-nat-endpoints-dev": (Profile.DEV, IAM, "no-nat", "own", "new", True),
    "no-nat-imported-key-prod": (Profile.PROD, IAM, "no-nat", "imported", "imported", True),
}


@pytest.fixture(scope="module", params=list(COMPOSITIONS), ids=list(COMPOSITIONS))
def composition(request):
    profile, auth, network, key, table, fleet = COMPOSITIONS[request.param]
    return synth(lambda stack: compose(stack, profile=profile, auth=auth, network=network, key=key, table=table,
                                       fleet=fleet))


def _own(finding) -> bool:
    return finding.path.split("/")[1:2] != [] and finding.path.split("/")[1].startswith("Own")


def test_library_constructs_have_no_findings(composition):
    # cfn-guard also reports some findings once more without a construct path: those are attributed
    # to the user's own constructs when the same rule is reported there.
    own_rules = {f.rule for f in composition.findings if _own(f)}
    library = [str(f) for f in composition.findings
               if not _own(f) and not (f.path == "" and f.rule in own_rules)]
    assert library == []


def test_endpoint_rules_use_a_literal_cidr_when_the_app_knows_it(composition, request):
    if "imported-vpc" in request.node.callspec.id:
        return  # a deploy-time CIDR: acknowledged on the endpoint security group instead
    for rule in composition.resources("AWS::EC2::SecurityGroup").values():
        for ingress in rule["Properties"].get("SecurityGroupIngress", []):
            assert isinstance(ingress.get("CidrIp", ""), str), ingress  # checkable at synth: no Fn::GetAtt
