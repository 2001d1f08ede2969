"""Bad props, table-driven across every construct: each fails at construction with a ValueError (or
TypeError) that names the prop, never a jsii stack trace at synth."""

from __future__ import annotations

import pytest
from aws_cdk import Annotations, App, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from cdk_payments import (
    AlertChannel,
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostAnomalyMonitor,
    CostOptimizedVpc,
    FlowLogDestination,
    NatStrategy,
    NetworkLayout,
    PaymentApiAuthorization,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    ResilienceTier,
    SecurePaymentApi,
)


def vpc(stack):
    return CostOptimizedVpc(stack, "Net").vpc


def topic(stack):
    return sns.Topic(stack, "Topic")


def no_nat_vpc(stack):
    return CostOptimizedVpc(stack, "Net", nat=NatStrategy.NONE).vpc


def key(stack):
    return kms.Key.from_key_arn(stack, "ImportedKey", "arn:aws:kms:us-east-1:111111111111:key/imported")


def table(stack):
    return dynamodb.Table.from_table_name(stack, "ImportedTable", "payments")


def api(stack):
    return SecurePaymentApi(stack, "Api")


def caller_role(stack):
    """The same role each time it is asked for in one stack."""
    return stack.node.try_find_child("Caller") or iam.Role.from_role_arn(stack, "Caller",
                                                                           "arn:aws:iam::111122223333:role/r")


CASES = [
    # (construct, props (values may be callables taking the stack), prop named in the error)
    (CostOptimizedVpc, dict(profile="dev"), "profile"),
    (CostOptimizedVpc, dict(nat="instance"), "nat"),
    (CostOptimizedVpc, dict(layout="two-az"), "layout"),
    (CostOptimizedVpc, dict(max_azs=0), "max_azs"),
    (CostOptimizedVpc, dict(max_azs=7), "max_azs"),
    (CostOptimizedVpc, dict(max_azs="2"), "max_azs"),
    (CostOptimizedVpc, dict(nat=NatStrategy.SINGLE_GATEWAY, nat_gateways=3), "nat_gateways"),
    (CostOptimizedVpc, dict(nat=NatStrategy.INSTANCE, nat_gateways=1), "nat_gateways"),
    (CostOptimizedVpc, dict(cidr="10.0.0.0/33"), "cidr"),
    (CostOptimizedVpc, dict(cidr="banana"), "cidr"),
    (CostOptimizedVpc, dict(cidr="10.0.0.0/8"), "cidr"),
    (CostOptimizedVpc, dict(cidr=167772160), "cidr"),
    (CostOptimizedVpc, dict(subnet_cidr_mask=30), "subnet_cidr_mask"),
    (CostOptimizedVpc, dict(interface_endpoints="sqs"), "interface_endpoints"),
    (CostOptimizedVpc, dict(availability_zones="us-east-1a"), "availability_zones"),
    (CostOptimizedVpc, dict(availability_zones=["us-east-1a"], max_azs=2), "max_azs"),
    (CostOptimizedVpc, dict(flow_logs=FlowLogDestination.S3), "flow_log_bucket"),
    (CostOptimizedVpc, dict(flow_log_bucket=lambda s: s3.Bucket(s, "B")), "flow_log_bucket"),
    (CostOptimizedVpc, dict(flow_log_retention=30), "flow_log_retention"),
    (CostOptimizedVpc, dict(existing_vpc="vpc-123"), "existing_vpc"),
    (CostOptimizedVpc, dict(existing_vpc=vpc, nat=NatStrategy.NONE), "nat"),
    (CostOptimizedVpc, dict(existing_vpc=vpc, layout=NetworkLayout.TWO_AZ), "layout"),
    (CostOptimizedVpc, dict(encryption_key="arn:aws:kms:us-east-1:1:key/x"), "encryption_key"),
    (AuditBucket, dict(retention_days=20), "retention_days"),
    (AuditBucket, dict(glacier_after_days=-1), "glacier_after_days"),
    (AuditBucket, dict(deep_archive_after_days=100), "deep_archive_after_days"),
    (AuditBucket, dict(retention_days="365"), "retention_days"),
    (AuditBucket, dict(lock_mode="COMPLIANCE"), "lock_mode"),
    (AuditBucket, dict(replication_destination=lambda s: s3.Bucket(s, "R")), "replication_key"),
    (AuditBucket, dict(bucket_name=123), "bucket_name"),
    (AuditBucket, dict(encryption_key="alias/audit"), "encryption_key"),
    (AuditBucket, dict(access_log_bucket="logs-bucket"), "access_log_bucket"),
    (SecurePaymentApi, dict(authorization="iam"), "authorization"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.COGNITO), "user_pool"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY), "merchants"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants="m1"), "merchants"),
    (SecurePaymentApi, dict(merchants=["m1"]), "merchants"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m" * 65]), "merchants"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1", "m1"]), "merchants"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY,
                            merchants=[f"merchant-{i:04d}" for i in range(120)]), "merchants"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                            merchant_roles=lambda s: {"m1": caller_role(s)}), "merchant_roles"),
    (SecurePaymentApi, dict(merchant_roles=["arn:aws:iam::111122223333:role/r"]), "merchant_roles"),
    (SecurePaymentApi, dict(merchant_roles={"m1": "arn:aws:iam::111122223333:role/r"}), "merchant_roles"),
    (SecurePaymentApi, dict(merchant_roles=lambda s: {"not an id": caller_role(s)}), "merchant_roles"),
    (SecurePaymentApi, dict(merchant_roles=lambda s: {"m1": caller_role(s), "m2": caller_role(s)}),
     "merchant_roles"),
    (SecurePaymentApi, dict(cache_size_gb="0.5"), "cache_size_gb"),  # IAM: reads are never cached
    (SecurePaymentApi, dict(merchant_roles=lambda s: {f"merchant-{i:03d}": iam.Role.from_role_arn(
        s, f"R{i}", f"arn:aws:iam::111122223333:role/merchants/merchant-{i:03d}") for i in range(40)}),
     "merchant_roles"),
    (SecurePaymentApi, dict(memory_size=64), "memory_size"),
    (SecurePaymentApi, dict(memory_size=512.5), "memory_size"),
    (SecurePaymentApi, dict(waf_rate_limit=10), "waf_rate_limit"),
    (SecurePaymentApi, dict(throttling_rate_limit=100, throttling_burst_limit=50), "throttling_burst_limit"),
    (SecurePaymentApi, dict(cache_size_gb="2"), "cache_size_gb"),
    (SecurePaymentApi, dict(max_receive_count=0), "max_receive_count"),
    (SecurePaymentApi, dict(settlement_max_concurrency=1), "settlement_max_concurrency"),
    (SecurePaymentApi, dict(rotation_days=400), "rotation_days"),
    (SecurePaymentApi, dict(vpc="vpc-123"), "vpc"),
    (SecurePaymentApi, dict(vpc_subnets="private"), "vpc_subnets"),
    (SecurePaymentApi, dict(cors_allowed_origins="*"), "cors_allowed_origins"),
    (SecurePaymentApi, dict(latency_alarm_threshold=2), "latency_alarm_threshold"),
    (SecurePaymentApi, dict(log_retention="one-week"), "log_retention"),
    (SecurePaymentApi, dict(resilience="backup-and-restore"), "resilience"),
    (SecurePaymentApi, dict(resilience=ResilienceTier.BACKUP_AND_RESTORE), "backup_copy_vault"),
    (SecurePaymentApi, dict(resilience=ResilienceTier.WARM_STANDBY), "resilience"),
    (SecurePaymentApi, dict(backup_copy_vault="arn:aws:backup:us-west-2:111122223333:backup-vault:v"),
     "backup_copy_vault"),
    (SecurePaymentApi, dict(existing_table="payments"), "existing_table"),
    (SecurePaymentApi, dict(alarm_topic="arn:aws:sns:us-east-1:1:ops"), "alarm_topic"),
    (SecurePaymentApi, dict(waf_logging="yes"), "waf_logging"),
    (SecurePaymentApi, dict(waf_managed_rule_groups="AWSManagedRulesSQLiRuleSet"), "waf_managed_rule_groups"),
    (SecurePaymentApi, dict(waf_managed_rule_groups=["AWSManagedRulesBotControlRuleSet"]), "waf_managed_rule_groups"),
    (AlertTopics, dict(emails={AlertChannel.COST: "finance@example.com"}), "emails"),
    (AlertTopics, dict(emails={"cost": ["finance@example.com"]}), "emails"),
    (AlertTopics, dict(emails=["finance@example.com"]), "emails"),
    (AlertTopics, dict(https_endpoints={AlertChannel.OPERATIONS: ["http://plain"]}), "https_endpoints"),
    (ComplianceBaseline, dict(security_topic=None, cost_topic=topic), "security_topic"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, required_tags="owner"), "required_tags"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, create_recorder=True), "recorder_bucket"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, guardduty_min_severity=0), "guardduty_min_severity"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, monthly_budget_usd="50"), "monthly_budget_usd"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, create_guardduty_detector="true"),
     "create_guardduty_detector"),
    (PaymentWorkerFleet, dict(vpc=None), "vpc"),
    (PaymentWorkerFleet, dict(vpc=vpc, min_capacity=5, max_capacity=2), "min_capacity"),
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types="t4g.small"), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types=["m7i.large"]), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, spot_percentage_above_base=-1), "spot_percentage_above_base"),
    (PaymentWorkerFleet, dict(vpc=vpc, cpu_target_percent=95), "cpu_target_percent"),
    (PaymentWorkerFleet, dict(vpc=vpc, queue="https://sqs.us-east-1.amazonaws.com/1/q"), "queue"),
    (PaymentWorkerFleet, dict(vpc=vpc, user_data_commands="systemctl start worker"), "user_data_commands"),
    (PaymentWorkerFleet, dict(vpc=vpc, root_volume_size_gb=4), "root_volume_size_gb"),
    (PlatformParameters, dict(payment_api=None), "payment_api"),
    (PaymentDashboards, dict(payment_api="api"), "payment_api"),
]

# Issue 14, class 1: inputs that used to reach CDK and fail there with a jsii error.
RAW_ERRORS = [
    (CostOptimizedVpc, dict(cidr="10.0.0.0/24"), "cidr"),  # 6 default /24 subnets cannot fit
    (CostOptimizedVpc, dict(cidr="10.0.0.0/20", max_azs=6), "cidr"),
    (CostOptimizedVpc, dict(cidr="10.0.0.0/20", subnet_cidr_mask=19), "subnet_cidr_mask"),
    (CostOptimizedVpc, dict(interface_endpoints=["sqs", "sqs"]), "interface_endpoints"),
    (SecurePaymentApi, dict(vpc=no_nat_vpc), "vpc_subnets"),
    (SecurePaymentApi, dict(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_group_name="nope")), "vpc_subnets"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1", "m1"]), "merchants"),
    (PaymentWorkerFleet, dict(vpc=no_nat_vpc), "vpc_subnets"),
    (SecurePaymentApi, dict(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
     "vpc_subnets"),
    (AuditBucket, dict(bucket_name="My_Audit_Bucket"), "bucket_name"),
    (AlertTopics, dict(emails={AlertChannel.COST: ["a@example.com", "a@example.com"]}), "emails"),
    (PlatformParameters, dict(payment_api=api, extra={"count": 1}), "extra"),
    (PlatformParameters, dict(payment_api=api, extra="bucket"), "extra"),
    (PaymentDashboards, dict(payment_api=api, period=300), "period"),
    (PlatformParameters, dict(payment_api=api, extra={"a" * 1100: "x"}), "extra"),
]

# Issue 14, class 2: props that could not apply and used to be dropped silently.
SILENT_DROPS = [
    (CostOptimizedVpc, dict(existing_vpc=vpc, encryption_key=key), "encryption_key"),
    (CostOptimizedVpc, dict(interface_endpoints=["bogus"]), "interface_endpoints"),
    (CostOptimizedVpc, dict(availability_zones=["us-east-1a", "us-east-1a"]), "availability_zones"),
    (CostOptimizedVpc, dict(flow_logs=FlowLogDestination.NONE, flow_log_retention=logs.RetentionDays.ONE_DAY),
     "flow_log_retention"),
    (CostOptimizedVpc, dict(flow_logs=FlowLogDestination.NONE, flow_log_traffic_type=ec2.FlowLogTrafficType.REJECT),
     "flow_log_traffic_type"),
    (CostOptimizedVpc, dict(flow_logs=FlowLogDestination.S3, flow_log_bucket=lambda s: s3.Bucket(s, "B"),
                            encryption_key=key), "encryption_key"),
    (SecurePaymentApi, dict(existing_table=table, backup_plan=True), "backup_plan"),
    (SecurePaymentApi, dict(existing_table=table, deletion_protection=False), "deletion_protection"),
    (SecurePaymentApi, dict(cors_allowed_origins=["shop.example"]), "cors_allowed_origins"),
    (PaymentWorkerFleet, dict(vpc=vpc, container_image=""), "container_image"),
    (PaymentWorkerFleet, dict(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
     "vpc_subnets"),  # no public IP: no egress
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, guardduty_min_severity=True),
     "guardduty_min_severity"),
    (PaymentWorkerFleet, dict(vpc=vpc, spot=False, instance_types=["t4g.small", "t4g.medium"]), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types=["t4g.small", "t4g.small"]), "instance_types"),
    (PlatformParameters, dict(payment_api=api, extra={"api-url": "https://elsewhere"}), "extra"),
    (PaymentDashboards, dict(payment_api=api, finding_rules="GuardDutyFindings"), "finding_rules"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, required_tags=["owner", "owner"]),
     "required_tags"),
]
# Issue 25: free-form strings AWS validates only at deploy time, refused at construction.
DEPLOY_TIME_FORMATS = [
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types=["t4g.bogus"]), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types=["t4g"]), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, instance_types=["T4G.small"]), "instance_types"),
    (PaymentWorkerFleet, dict(vpc=vpc, container_image="Nginx:Latest"), "container_image"),
    (PaymentWorkerFleet, dict(vpc=vpc, container_image="nginx latest"), "container_image"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, required_tags=["aws:owner"]), "required_tags"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, required_tags=["cost#center"]), "required_tags"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, required_tags=["k" * 129]), "required_tags"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, existing_anomaly_monitor_arn="monitor-1"),
     "existing_anomaly_monitor_arn"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, existing_anomaly_monitor_arn=(
        "arn:aws:sns:us-east-1:111122223333:ops")), "existing_anomaly_monitor_arn"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG,
                              cost_tag_key="aws:createdBy"), "cost_tag_key"),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG,
                              cost_tag_value=""), "cost_tag_value"),
    (AlertTopics, dict(emails={AlertChannel.COST: ["finance@example"]}), "emails"),
    (AlertTopics, dict(emails={AlertChannel.COST: ["@example.com"]}), "emails"),
    (AlertTopics, dict(emails={AlertChannel.COST: ["two words@example.com"]}), "emails"),
    (AlertTopics, dict(https_endpoints={AlertChannel.OPERATIONS: ["https://"]}), "https_endpoints"),
    (AlertTopics, dict(https_endpoints={AlertChannel.OPERATIONS: ["https://hooks example.com/x"]}), "https_endpoints"),
    (CostOptimizedVpc, dict(availability_zones=["us-east-1", "us-east-1b"]), "availability_zones"),
    (CostOptimizedVpc, dict(availability_zones=["useast1a", "us-east-1b"]), "availability_zones"),
    (AuditBucket, dict(bucket_name="192.168.5.4"), "bucket_name"),
    (AuditBucket, dict(bucket_name="xn--audit"), "bucket_name"),
    (AuditBucket, dict(bucket_name="audit-s3alias"), "bucket_name"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                            cors_allowed_origins=["https://shop.example/checkout"]), "cors_allowed_origins"),
    (SecurePaymentApi, dict(authorization=PaymentApiAuthorization.API_KEY, merchants=["m1"],
                            cors_allowed_origins=["https://shop.example/"]), "cors_allowed_origins"),
    (PlatformParameters, dict(payment_api=api, prefix="/aws/payments"), "prefix"),
    (PlatformParameters, dict(payment_api=api, prefix="/SSM/payments"), "prefix"),
]
CASES = CASES + RAW_ERRORS + SILENT_DROPS + DEPLOY_TIME_FORMATS


def resolve(stack, props):
    made = {}  # each helper builds its resource once per stack, however many props use it
    for value in props.values():
        if callable(value) and value not in made:
            made[value] = value(stack)
    return {k: made.get(v, v) if callable(v) else v for k, v in props.items()}


@pytest.mark.parametrize("construct,props,prop", CASES,
                         ids=[f"{c.__name__}-{p}-{i}" for i, (c, _, p) in enumerate(CASES)])
def test_bad_prop_is_named_at_construction(construct, props, prop):
    stack = Stack(App(), "Props")
    with pytest.raises((ValueError, TypeError)) as error:
        construct(stack, "Subject", **resolve(stack, props))
    message = str(error.value)
    assert f"{prop}:" in message or f"{prop} " in message, message
    assert "jsii" not in message and "@jsii" not in message


def test_every_error_is_reported_at_once():
    with pytest.raises(ValueError) as error:
        SecurePaymentApi(Stack(App(), "Props"), "Api", memory_size=64, waf_rate_limit=1, max_receive_count=0,
                         cache_size_gb="2", latency_alarm_threshold=5)
    message = str(error.value)
    for prop in ("memory_size", "waf_rate_limit", "max_receive_count", "cache_size_gb", "latency_alarm_threshold"):
        assert f"{prop}:" in message
    assert message.startswith("SecurePaymentApi: invalid props:")


# Issue 14, class 4: an imported key's policy cannot be edited; every construct says what it needs.
IMPORTED_KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_USERS = [
    # (construct, props, services its key policy must let in (logs: CloudWatch Logs of the region))
    (CostOptimizedVpc, dict(), {"logs"}),
    (AuditBucket, dict(), set()),
    (AlertTopics, dict(emails={AlertChannel.COST: ["finance@example.com"]}),
     {"budgets.amazonaws.com", "cloudwatch.amazonaws.com", "costalerts.amazonaws.com", "events.amazonaws.com",
      "sns.amazonaws.com"}),
    (SecurePaymentApi, dict(), {"logs", "cloudwatch.amazonaws.com"}),
    (PaymentWorkerFleet, dict(vpc=vpc, alarm_topic=topic), {"logs", "events.amazonaws.com"}),
    (ComplianceBaseline, dict(security_topic=topic, cost_topic=topic, enforce_required_tags=False),
     {"events.amazonaws.com"}),
]


def _services(stack, statements):
    found = set()
    for statement in statements:
        services = stack.resolve(statement.to_statement_json())["Principal"]["Service"]
        for service in services if isinstance(services, list) else [services]:
            found.add("logs" if isinstance(service, dict) else service)  # logs.<region> is a Fn::Join
    return found


@pytest.mark.parametrize("construct,props,services", KEY_USERS, ids=[c.__name__ for c, _, _ in KEY_USERS])
def test_imported_key_statements_are_exposed_and_warned_about(construct, props, services):
    app = App()
    stack = Stack(app, "Keys")
    imported = kms.Key.from_key_arn(stack, "Imported", IMPORTED_KEY_ARN)
    subject = construct(stack, "Subject", encryption_key=imported, **resolve(stack, props))
    assert _services(stack, subject.key_policy_statements()) == services
    warnings = [m for m in app.synth().get_stack_by_name("Keys").messages
                if "encryption_key is imported" in str(m.entry.data)]
    assert len(warnings) == len(subject.key_policy_statements())
    # Once the key's policy has them, the user acknowledges the warning by its id (as README.md shows).
    app = App()
    stack = Stack(app, "Keys")
    subject = construct(stack, "Subject", encryption_key=kms.Key.from_key_arn(stack, "Imported", IMPORTED_KEY_ARN),
                        **resolve(stack, props))
    Annotations.of(subject).acknowledge_warning("cdk-payments:importedKeyPolicy", "the key policy has them")
    assert not [m for m in app.synth().get_stack_by_name("Keys").messages
                if "encryption_key is imported" in str(m.entry.data)]
    # The same construct with a key of its own: the statements are in that key's policy, no warning.
    app = App()
    stack = Stack(app, "Keys")
    owned = kms.Key(stack, "Owned")
    subject = construct(stack, "Subject", encryption_key=owned, **resolve(stack, props))
    assert _services(stack, subject.key_policy_statements()) == services
    assert not [m for m in app.synth().get_stack_by_name("Keys").messages
                if "encryption_key is imported" in str(m.entry.data)]
    policy = stack.resolve(owned.node.default_child.key_policy)
    assert _services(stack, [s for s in subject.key_policy_statements()]) <= _policy_services(policy)


def _policy_services(policy):
    found = set()
    for statement in policy["Statement"]:
        services = statement.get("Principal", {}).get("Service", [])
        for service in services if isinstance(services, list) else [services]:
            found.add("logs" if isinstance(service, dict) else service)
    return found


def test_profile_endpoints_are_not_added_to_an_existing_vpc():
    """Decided (issue 14): an existing VPC gets only the endpoints named in interface_endpoints."""
    stack = Stack(App(), "Props")
    own = ec2.Vpc(stack, "Own", max_azs=2, nat_gateways=1)
    assert CostOptimizedVpc(stack, "Prod", profile=Profile.PROD, existing_vpc=own).interface_endpoints == {}
    named = CostOptimizedVpc(stack, "Named", profile=Profile.PROD, existing_vpc=own, interface_endpoints=["sqs"])
    assert list(named.interface_endpoints) == ["sqs"]


# Issue 25: account and region singletons (and names unique per account, region or partition)
# created twice in one app's environment are refused at construction, naming the first.
def _baseline(stack, id="Baseline", **props):
    return ComplianceBaseline(stack, id, security_topic=sns.Topic(stack, f"{id}Sec"),
                              cost_topic=sns.Topic(stack, f"{id}Cost"), **props)


@pytest.mark.parametrize("props,prop", [
    (dict(), "scope"),  # one baseline per stack, whatever it creates
])
def test_a_second_baseline_in_one_stack_is_refused(props, prop):
    stack = Stack(App(), "Twice")
    _baseline(stack)
    with pytest.raises(ValueError, match=f"{prop}: .*Twice/Baseline"):
        _baseline(stack, "Again", **props)


@pytest.mark.parametrize("props,prop", [
    (dict(create_guardduty_detector=True), "create_guardduty_detector"),
    (dict(enable_security_hub=True), "enable_security_hub"),
    (dict(anomaly_monitor=CostAnomalyMonitor.AWS_SERVICES), "anomaly_monitor"),
])
def test_an_account_singleton_twice_in_one_environment_is_refused(props, prop):
    app = App()
    _baseline(Stack(app, "First"), **props)
    with pytest.raises(ValueError, match=f"{prop}: .*First/Baseline"):
        _baseline(Stack(app, "Second"), **props)
    # Another region (or account) of the same app is another environment.
    if prop != "anomaly_monitor":  # the AWS services monitor is one per account, whatever the region
        app = App()
        _baseline(Stack(app, "East", env={"account": "111122223333", "region": "us-east-1"}), **props)
        _baseline(Stack(app, "West", env={"account": "111122223333", "region": "us-west-2"}), **props)


def test_a_second_config_recorder_is_refused():
    app = App()
    for name in ("First", "Second"):
        stack = Stack(app, name)
        props = dict(create_recorder=True, recorder_bucket=s3.Bucket(stack, "Records"))
        if name == "First":
            _baseline(stack, **props)
    with pytest.raises(ValueError, match="create_recorder: .*First/Baseline"):
        _baseline(stack, **props)


def test_a_bucket_name_or_parameter_prefix_used_twice_is_refused():
    app = App()
    AuditBucket(Stack(app, "One"), "Audit", bucket_name="acme-audit-0001")
    with pytest.raises(ValueError, match="bucket_name: .*One/Audit"):
        AuditBucket(Stack(app, "Two", env={"region": "eu-west-1"}), "Audit", bucket_name="acme-audit-0001")
    stack = Stack(App(), "Params")
    payments = SecurePaymentApi(stack, "Api")
    PlatformParameters(stack, "P1", payment_api=payments, prefix="/payments/shop")
    with pytest.raises(ValueError, match="prefix: .*Params/P1"):
        PlatformParameters(stack, "P2", payment_api=payments, prefix="/payments/shop")


def test_an_availability_zone_of_another_region_is_refused():
    stack = Stack(App(), "Zones", env={"account": "111122223333", "region": "eu-west-1"})
    with pytest.raises(ValueError, match="availability_zones: 'us-east-1a' is not in the stack's region eu-west-1"):
        CostOptimizedVpc(stack, "Net", availability_zones=["us-east-1a", "eu-west-1b"])
