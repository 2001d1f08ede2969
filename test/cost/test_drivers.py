"""One small hand-made template per cost driver: each line's amount, unit and assumption."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from cdk_payments.cost import estimate_assembly, estimate_template, load_prices, supported_regions

US = {name: p["usd"] for name, p in load_prices()["regions"]["us-east-1"]["prices"].items()}
A = {k: v["value"] for section in load_prices()["assumptions"].values() for k, v in section.items()}
GB = 1_048_576
MILLION = 1_000_000
API = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "runtime.api.handler", "MemorySize": 512}}


def _template(**resources):
    return {"Resources": resources}


def fixed(template, **kwargs):
    return {f"{i.name}:{i.detail}": i.monthly_usd for i in estimate_template(template, **kwargs).fixed}


def usage(template, payments=MILLION, **kwargs):
    return {f"{i.name}:{i.detail}": i.monthly_usd
            for i in estimate_template(template, payments_per_month=payments, **kwargs).usage}


def line(items, pattern):
    found = [v for k, v in items.items() if re.search(pattern, k)]
    assert len(found) == 1, (pattern, items)
    return found[0]


def test_prices_each_idle_resource_kind():
    template = _template(
        Nat={"Type": "AWS::EC2::NatGateway", "Properties": {}},
        Ip={"Type": "AWS::EC2::EIP", "Properties": {}},
        Endpoint={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface",
                                                                   "SubnetIds": ["a", "b", "c"]}},
        Gateway={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        Key={"Type": "AWS::KMS::Key", "Properties": {}},
        Alarm={"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"MetricStat": {}}, {"MetricStat": {}},
                                                                            {"Expression": "a+b"}]}},
        Acl={"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [{}, {}, {}]}},
        Stage={"Type": "AWS::ApiGateway::Stage", "Properties": {"CacheClusterEnabled": True, "CacheClusterSize": "0.5"}},
        Bucket={"Type": "AWS::S3::Bucket", "Properties": {}},
    )
    assert fixed(template) == {
        "Nat:NAT gateway hours": pytest.approx(32.85),
        "Ip:public IPv4 address": pytest.approx(3.65),
        "Endpoint:interface endpoint in 3 AZs": pytest.approx(21.90),
        "Key:customer-managed key": 1.0,
        "Alarm:alarm on 2 metric(s)": pytest.approx(0.20),  # metric math: counted by the metrics it uses
        "Acl:web ACL with 3 rules": 8.0,
        "Stage:0.5 GB API cache": pytest.approx(14.60),
    }


def test_kms_rotation_adds_the_first_two_rotations():
    items = fixed(_template(Key={"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True,
                                                                           "RotationPeriodInDays": 180}}))
    assert line(items, "customer-managed key") == 1.0
    assert line(items, "rotation every 180 days") == 2 * US["kms_rotation_monthly"] == 2.0


def test_auto_scaling_group_at_zero_costs_nothing_and_spot_is_discounted():
    def group(min_size, mixed, custom_metric=False):
        lt = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "InstanceType": "t4g.small", "BlockDeviceMappings": [{"Ebs": {"VolumeSize": 10}}]}}}
        props = {"MinSize": str(min_size)}
        ref = {"LaunchTemplateId": {"Ref": "Lt"}}
        if mixed:
            props["MixedInstancesPolicy"] = {
                "LaunchTemplate": {"LaunchTemplateSpecification": ref, "Overrides": [{"InstanceType": "t4g.small"}]},
                "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0}}
        else:
            props["LaunchTemplate"] = ref
        resources = dict(Lt=lt, Asg={"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": props})
        if custom_metric:
            resources["Memory"] = {"Type": "AWS::AutoScaling::ScalingPolicy", "Properties": {
                "AutoScalingGroupName": {"Ref": "Asg"}, "PolicyType": "StepScaling",
                "TargetTrackingConfiguration": {"CustomizedMetricSpecification": {
                    "Namespace": "CWAgent", "MetricName": "mem_used_percent"}}}}
        return estimate_template(_template(**resources)).fixed_total

    assert group(0, mixed=False) == 0
    on_demand = 0.0168 * 730 + 10 * 0.08
    assert group(1, mixed=False) == pytest.approx(on_demand, abs=0.01)
    assert group(2, mixed=True) == pytest.approx(on_demand + 0.0168 * 0.35 * 730 + 10 * 0.08, abs=0.01)
    # The CloudWatch agent's memory metric, per host and per group, while instances run.
    assert group(1, mixed=False, custom_metric=True) == pytest.approx(on_demand + 2 * 0.30, abs=0.01)


def test_config_guardduty_and_security_hub_are_assumption_driven_lines():
    rules = {f"Rule{i}": {"Type": "AWS::Config::ConfigRule", "Properties": {}} for i in range(3)}
    without_recorder = fixed(_template(**rules))
    assert line(without_recorder, r"3 rules x 30 evaluations.*only where the account records") == pytest.approx(
        3 * A["config_evaluations_per_rule"] * US["config_rule_evaluation"])
    items = fixed(_template(**rules, Recorder={"Type": "AWS::Config::ConfigurationRecorder", "Properties": {}},
                            Detector={"Type": "AWS::GuardDuty::Detector", "Properties": {}},
                            Hub={"Type": "AWS::SecurityHub::Hub", "Properties": {}}))
    assert line(items, "^Recorder:usage-driven: 1,000 configuration items") == pytest.approx(1000 * 0.003)
    assert line(items, "^Detector:usage-driven: 200,000 CloudTrail events") == pytest.approx(0.2 * 4.0 + 2 * 1.0)
    assert line(items, "^Hub:usage-driven: 3,000 security checks") == pytest.approx(3.0)
    assert not any("only where" in k for k in items)


def test_no_usage_without_payments_and_audit_storage_alone_in_a_replica_stack():
    assert estimate_template(_template(Api=API), payments_per_month=0).usage == []
    assert usage(_template(Queue={"Type": "AWS::SQS::Queue", "Properties": {}})) == {}


def test_dynamodb_storage_pitr_and_backup_copies():
    template = _template(Api=API, Table={"Type": "AWS::DynamoDB::Table", "Properties": {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}},
        Plan={"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [
            {"RuleName": "Daily", "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35}},
            {"RuleName": "Weekly", "ScheduleExpression": "rate(7 days)", "Lifecycle": {"DeleteAfterDays": 91}}]}}})
    items = usage(template)
    gb = MILLION * A["table_months_retained"] * A["table_kb"] / GB
    assert line(items, r"DynamoDB:storage \(22.9 GB: 12 months") == pytest.approx(gb * 0.25, abs=1e-3)
    assert line(items, "DynamoDB:point-in-time recovery") == pytest.approx(gb * 0.20, abs=1e-3)
    assert line(items, r"35 retained copies.*Daily") == pytest.approx(35 * gb * 0.10, abs=1e-3)
    assert line(items, r"13 retained copies.*Weekly") == pytest.approx(13 * gb * 0.10, abs=1e-3)


def test_backup_and_restore_prices_the_copies_and_their_transfer_to_the_second_region():
    """ResilienceTier.BACKUP_AND_RESTORE: each daily full backup crosses regions and is kept 35 days there."""
    rule = {"RuleName": "Daily", "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35},
            "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:1:backup-vault:v",
                             "Lifecycle": {"DeleteAfterDays": 35}}]}
    template = _template(Api=API, Table={"Type": "AWS::DynamoDB::Table", "Properties": {}},
                         Plan={"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [rule]}}})
    items = usage(template)
    gb = MILLION * A["table_months_retained"] * A["table_kb"] / GB
    assert line(items, r"35 copies .* second region") == pytest.approx(35 * gb * 0.10, abs=1e-3)
    assert line(items, r"cross-region copy transfer") == pytest.approx(gb * 365 / 12 * US["inter_region_transfer_per_gb"],
                                                                      abs=1e-3)
    # Idle, the copies cost nothing: there is no table data yet.
    assert not [i for i in estimate_template(template, payments_per_month=0).usage if i.monthly_usd]


def test_warm_standby_prices_the_replica_its_replicated_writes_and_transfer_and_the_failover_pieces():
    """ResilienceTier.WARM_STANDBY's data and routing: a global table with a replica in a second region,
    a replicated secret, a health check on a composite alarm, a hosted zone."""
    template = _template(
        Api=API,
        Table={"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": [
            {"Region": "us-east-1", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
            {"Region": "us-west-2", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}]}},
        Secret={"Type": "AWS::SecretsManager::Secret", "Properties": {"ReplicaRegions": [{"Region": "us-west-2"}]}},
        Health={"Type": "AWS::Route53::HealthCheck", "Properties": {}},
        Zone={"Type": "AWS::Route53::HostedZone", "Properties": {}},
        Unhealthy={"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}})
    idle = fixed(template)
    assert line(idle, "Secret:secret and 1 replica") == pytest.approx(2 * 0.40)
    assert line(idle, "Health:health check") == line(idle, "Zone:hosted zone") == line(
        idle, "Unhealthy:composite alarm") == pytest.approx(0.50)
    items = usage(template)
    gb = MILLION * A["table_months_retained"] * A["table_kb"] / GB
    assert line(items, r"storage in 2 replica") == pytest.approx(2 * gb * 0.25, abs=1e-3)
    assert line(items, r"point-in-time recovery in 2 replica") == pytest.approx(2 * gb * 0.20, abs=1e-3)
    assert line(items, r"replicated writes to 1 other") == pytest.approx(A["dynamodb_write_units"] * 0.625)
    assert line(items, r"cross-region replication transfer") == pytest.approx(
        MILLION * A["table_kb"] / GB * US["inter_region_transfer_per_gb"], abs=1e-4)


def test_a_global_tables_backups_are_priced_like_a_tables():
    rule = {"RuleName": "Daily", "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35}}
    template = _template(Api=API, Table={"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": [
        {"Region": "us-east-1"}, {"Region": "us-west-2"}]}},
        Plan={"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanRule": [rule]}}})
    items = usage(template)
    gb = MILLION * A["table_months_retained"] * A["table_kb"] / GB
    assert line(items, r"35 retained copies.*Daily") == pytest.approx(35 * gb * 0.10, abs=1e-3)
    assert not [k for k in items if re.search(r"DynamoDB:storage \(", k)]  # the replicas' storage lines price it


def test_a_warm_standby_takes_no_payments_while_its_primary_is_healthy():
    """The SECONDARY of a failover pair: its API, functions and audit trail see no traffic until a failover."""
    record = {"Type": "AWS::Route53::RecordSet", "Properties": {"Failover": "SECONDARY"}}
    audit = {"Type": "AWS::S3::Bucket", "Properties": {"ObjectLockEnabled": True}}
    estimate = estimate_template(_template(Api=API, Record=record, Audit=audit), payments_per_month=MILLION)
    assert estimate.usage == []
    assert any("takes no payments while its primary is healthy" in note for note in estimate.notes)
    primary = _template(Api=API, Record={**record, "Properties": {"Failover": "PRIMARY"}})
    assert usage(primary)  # the primary takes them


def test_active_active_regions_share_the_payments_but_the_table_holds_them_all(tmp_path):
    """ResilienceTier.ACTIVE_ACTIVE: every region's latency record under one name takes an even share of the
    requests; the strongly consistent table (in the owner's stack) stores, backs up and replicates every payment,
    its witness's writes priced like a replica's."""
    record = {"Type": "AWS::Route53::RecordSet", "Properties": {"Name": "pay.example.com.", "Region": "us-east-1"}}
    table = {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        "Replicas": [{"Region": "us-east-1"}, {"Region": "us-east-2"}], "GlobalTableWitnesses": [{"Region": "us-west-2"}]}}
    owner = _template(Api=API, Table=table, Record=record)
    peer = _template(Api=API, Record={**record, "Properties": {**record["Properties"], "Region": "us-east-2"}})
    for name, template in (("Owner", owner), ("Peer", peer)):
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
    estimates = estimate_assembly(tmp_path, payments_per_month=MILLION)
    alone = {i.name + ":" + i.detail: i.monthly_usd for i in estimate_template(owner, payments_per_month=MILLION).usage}
    shared = {i.name + ":" + i.detail: i.monthly_usd for i in estimates["Owner"].usage}
    assert line(shared, "REST requests") == pytest.approx(line(alone, "REST requests") / 2, rel=1e-3)
    assert line(shared, "storage in 2 replica") == line(alone, "storage in 2 replica")
    assert line(shared, r"replicated writes to 2 other region\(s\) \(one a witness\)") == pytest.approx(
        2 * A["dynamodb_write_units"] * 0.625)
    assert line({i.name + ":" + i.detail: i.monthly_usd for i in estimates["Peer"].usage}, "REST requests") == \
        line(shared, "REST requests")
    assert any("One of 2 regions behind latency routing" in note for note in estimates["Peer"].notes)
    assert not any("latency routing" in note for note in estimate_template(owner, payments_per_month=MILLION).notes)


def test_log_storage_follows_each_groups_retention_and_flow_logs_are_ingested():
    template = _template(
        Api={**API, "Properties": {**API["Properties"], "LoggingConfig": {"LogGroup": {"Ref": "ApiLogs"}}}},
        ApiLogs={"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
        Stage={"Type": "AWS::ApiGateway::Stage", "Properties": {
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["AccessLogs", "Arn"]}}}},
        AccessLogs={"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        WafLogs={"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "aws-waf-logs-x"}},
        FlowGroup={"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        Flow={"Type": "AWS::EC2::FlowLog", "Properties": {"LogDestinationType": "cloud-watch-logs",
                                                          "LogGroupName": {"Ref": "FlowGroup"}}})
    items = usage(template)
    month = 365 / 12
    api_gb = MILLION * A["function_log_kb"] * 0.8 / GB
    access_gb, waf_gb = MILLION * A["access_log_kb"] / GB, MILLION * A["waf_log_kb"] / GB
    flow_gb = MILLION * A["flow_log_kb"] / GB
    assert line(items, "CloudWatch Logs:ingestion .*3 log groups") == pytest.approx(
        (api_gb + access_gb + waf_gb) * 0.50, abs=1e-3)
    assert line(items, "storage, Api logs .*365-day") == pytest.approx(api_gb * 365 / month * 0.03, abs=1e-3)
    assert line(items, "storage, API access log .*30-day") == pytest.approx(access_gb * 30 / month * 0.03, abs=1e-3)
    assert line(items, "storage, WAF log .*never expires") == pytest.approx(waf_gb * 12 * 0.03, abs=1e-3)
    assert line(items, "VPC flow log ingestion") == pytest.approx(flow_gb * US["logs_vended_per_gb"], abs=1e-3)
    assert line(items, "VPC flow log storage.*30-day") == pytest.approx(flow_gb * 30 / month * 0.03, abs=1e-3)


def test_custom_metrics_are_counted_in_the_functions_code(tmp_path):
    code = tmp_path / "asset.abc" / "runtime"
    code.mkdir(parents=True)
    (code / "api.py").write_text(
        "metrics.add_metric(name='PaymentAccepted', unit='Count', value=1)\n"
        "metrics.add_metric(name='PaymentAccepted', unit='Count', value=1)\n"
        "metrics.add_metric(name=f'Payment{status}', unit='Count', value=1)\n"
        "@metrics.log_metrics(capture_cold_start_metric=True)\ndef handler(e, c): ...\n")
    function = {**API, "Metadata": {"aws:asset:path": "asset.abc"}}
    template = tmp_path / "Stack.template.json"
    template.write_text(json.dumps(_template(Api=function)))
    estimate = estimate_assembly(template, payments_per_month=1000)["Stack"]
    count = 1 + A["formatted_metric_names"] + 1
    assert line({f"{i.name}:{i.detail}": i.monthly_usd for i in estimate.usage},
                f"{count} EMF metrics") == pytest.approx(count * 0.30)
    without_code = estimate_template(_template(Api=API), payments_per_month=1000)
    assert "Custom metrics not priced" in " ".join(without_code.notes)


def _endpoint(service, azs=("a", "b")):
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcEndpointType": "Interface", "SubnetIds": list(azs),
        "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]}}}


NAT = {"Type": "AWS::EC2::NatGateway", "Properties": {}}


def test_each_services_api_traffic_goes_through_its_endpoint_else_the_nat_gateway():
    sqs_gb, events_gb = MILLION * A["sqs_api_kb"] / GB, MILLION * A["events_api_kb"] / GB
    split = usage(_template(Api=API, Endpoint=_endpoint("sqs"), Nat=NAT))
    assert line(split, r"PrivateLink:interface endpoint data processed .*sqs\)") == pytest.approx(sqs_gb * 0.01, abs=1e-3)
    assert line(split, r"NAT gateway:data processed .*events API") == pytest.approx(events_gb * 0.045, abs=1e-3)
    # Only a Secrets Manager endpoint (prod's default): the per-payment calls all take the NAT gateway.
    secrets = usage(_template(Api=API, Endpoint=_endpoint("secretsmanager"), Nat=NAT))
    assert not any(k.startswith("PrivateLink") for k in secrets)
    assert line(secrets, "NAT gateway:data processed") == pytest.approx((sqs_gb + events_gb) * 0.045, abs=1e-3)
    # A NAT instance bills no processing.
    assert not any(k.startswith("NAT gateway") for k in usage(_template(Api=API)))


def test_secrets_manager_calls_at_the_cache_rate():
    items = usage(_template(Api=API, Secret={"Type": "AWS::SecretsManager::Secret", "Properties": {}}), payments=1)
    calls = A["warm_processor_environments"] * 730 * 3600 / A["secret_cache_seconds"]
    assert line(items, f"{calls:,.0f} GetSecretValue calls") == pytest.approx(calls / 10_000 * 0.05, abs=1e-3)


def test_xray_reservoir_then_percentage():
    traced = {**API, "Properties": {**API["Properties"], "TracingConfig": {"Mode": "Active"}}}
    seconds = 730 * 3600
    low = usage(_template(Api=traced), payments=1000)  # 2,000 requests: nearly all in the 1/s reservoir
    assert line(low, "X-Ray") == pytest.approx(2000 / 1e6 * 5.0, rel=0.01)
    high = usage(_template(Api=traced), payments=100 * MILLION)  # the reservoir is full every second
    requests = 200 * MILLION
    assert line(high, "X-Ray") == pytest.approx((seconds + 0.05 * (requests - seconds)) / 1e6 * 5.0, rel=0.01)
    rule = {"Type": "AWS::XRay::SamplingRule", "Properties": {"SamplingRule": {"ReservoirSize": 0, "FixedRate": 0.1}}}
    assert line(usage(_template(Api=traced, Rule=rule)), "X-Ray") == pytest.approx(0.1 * 2 * 5.0, rel=0.01)


def test_audit_storage_by_tier_with_archive_overhead_and_transitions():
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"ObjectLockEnabled": True, "LifecycleConfiguration": {"Rules": [
        {"ExpirationInDays": 365, "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30},
                                                  {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180}]}]},
        "ReplicationConfiguration": {"Rules": []}}}
    items = usage(_template(Audit=bucket))
    gb, objects, month = MILLION * A["audit_kb"] / GB, MILLION * A["audit_objects"], 365 / 12
    assert line(items, "Audit:Standard") == pytest.approx(gb * 30 / month * 0.023, abs=1e-4)
    assert line(items, "Audit:Glacier") == pytest.approx(gb * 150 / month * 0.0036, abs=1e-4)
    assert line(items, "Audit:Deep Archive") == pytest.approx(gb * 185 / month * 0.00099, abs=1e-4)
    archived = objects * 335 / month
    overhead = (objects * 150 / month * 32 / GB * 0.0036 + objects * 185 / month * 32 / GB * 0.00099
                + archived * 8 / GB * 0.023)
    assert line(items, "archived-object overhead") == pytest.approx(overhead, abs=1e-4)
    assert line(items, "PUTs and lifecycle transitions") == pytest.approx(objects / 1000 * (0.005 + 0.03 + 0.05), abs=1e-4)
    assert line(items, "cross-region replication") == pytest.approx(gb * 0.02, abs=1e-4)
    assert not [k for k in items if "Replication Time Control" in k]
    bucket["Properties"]["ReplicationConfiguration"]["Rules"] = [
        {"Destination": {"ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}}]
    assert line(usage(_template(Audit=bucket)), "Replication Time Control") == pytest.approx(gb * 0.015, abs=1e-4)


def test_free_tier_statement_names_the_lines_it_affects():
    estimate = estimate_template(_template(Api=API, Dashboard={"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
                                           Key={"Type": "AWS::KMS::Key", "Properties": {}}), payments_per_month=1000)
    assert estimate.free_tier["CloudWatch dashboards"] == {"allowance": "3 dashboards of up to 50 metrics",
                                                           "lines": ["Dashboard"]}
    assert "KMS keys" not in estimate.free_tier  # a key-month is never free
    assert estimate.to_dict()["free_tier"]["statement"].startswith("List prices before free tiers")


@pytest.mark.parametrize("kwargs,message", [
    (dict(region="mars-north-1"), "region: no price table for 'mars-north-1'"),
    (dict(payments_per_month=-1), "payments_per_month: must be a whole number >= 0"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_template(_template(), **kwargs)


def test_a_stack_pinned_to_an_unpriced_region_is_refused(tmp_path):
    (tmp_path / "Far.template.json").write_text(json.dumps(_template()))
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"Far": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/ap-south-2",
        "properties": {"templateFile": "Far.template.json"}}}}))
    with pytest.raises(ValueError, match="region: no price table for 'ap-south-2'"):
        estimate_assembly(tmp_path)


def test_instance_types_without_a_regional_price_are_refused():
    instance = {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "c7g.medium"}}
    assert fixed(_template(Nat=instance))  # priced in us-east-1
    with pytest.raises(ValueError, match="no price for instance type 'c7g.medium' in this region"):
        estimate_template(_template(Nat=instance), region="eu-central-1")


def test_every_price_has_a_source_and_a_date():
    regions = load_prices()["regions"]
    assert {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"} <= set(supported_regions())
    names = set(regions["us-east-1"]["prices"])
    for region, table in regions.items():
        assert set(table["prices"]) == names, region  # every region prices every driver
        assert table["notes"], region
        for name, price in table["prices"].items():
            where = f"{region}.{name}"
            assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9/-]*pricing/([a-z-]+/)?", price["source"]), where
            assert date.fromisoformat(price["read"]) <= date(2026, 12, 31), where
            assert price["basis"] in ("stored", "recalled"), where
            assert price["unit"] and price["usd"] is not None, where


# -- the drivers an audit found missing (issue 28) -----------------------------------------------

def test_nat_instance_root_volume_is_the_amis_8_gib_unless_sized():
    instance = {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t4g.nano", "BlockDeviceMappings": [
        {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeType": "gp3"}}]}}
    assert line(fixed(_template(Nat=instance)), "8 GiB gp3 root volume \\(AMI default\\)") == pytest.approx(8 * 0.08)
    sized = {**instance, "Properties": {**instance["Properties"], "BlockDeviceMappings": [{"Ebs": {"VolumeSize": 20}}]}}
    assert line(fixed(_template(Nat=sized)), "20 GiB gp3 root volume$") == pytest.approx(20 * 0.08)


def test_s3_replication_metrics_are_four_custom_metrics_per_rule():
    def bucket(metrics):
        destination = {"Bucket": "arn:aws:s3:::replica", **({"Metrics": {"Status": "Enabled"}} if metrics else {})}
        return {"Type": "AWS::S3::Bucket", "Properties": {"ReplicationConfiguration": {
            "Role": "r", "Rules": [{"Destination": destination, "Status": "Enabled"}]}}}
    assert line(fixed(_template(Audit=bucket(True))), "4 S3 replication metrics") == pytest.approx(1.20)
    assert fixed(_template(Audit=bucket(False))) == {}


def test_lambda_long_polls_an_empty_queue_every_month():
    mapping = {"Type": "AWS::Lambda::EventSourceMapping",
               "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": "f"}}
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    requests = A["sqs_idle_pollers"] * 730 * 3600 / A["sqs_poll_wait_seconds"]
    assert requests == 657_000  # 5 pollers, a 20 s poll each: inside SQS's free million at this scale
    assert line(fixed(_template(Queue=queue, Poll=mapping)), "657,000 empty ReceiveMessage calls") == pytest.approx(
        requests / 1e6 * 0.40)
    stream = {**mapping, "Properties": {**mapping["Properties"], "EventSourceArn": "arn:aws:kinesis:::s"}}
    assert fixed(_template(Poll=stream)) == {}


def _stage(level="ERROR", metrics=True, cache=False):
    return {"Type": "AWS::ApiGateway::Stage", "Properties": {
        "CacheClusterEnabled": cache, "MethodSettings": [{"HttpMethod": "*", "ResourcePath": "/*",
                                                          "LoggingLevel": level, "MetricsEnabled": metrics}],
        "AccessLogSetting": {"DestinationArn": {"Fn::Join": ["", ["arn:aws:logs:r:a:log-group:", {"Ref": "Access"}]]}}}}


def _methods(*verbs):
    return {f"M{i}": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": verb}} for i, verb in enumerate(verbs)}


def test_per_method_api_metrics_under_traffic():
    template = _template(Api=API, Stage=_stage(), **_methods("POST", "GET", "GET", "OPTIONS"))
    assert line(usage(template), "15 per-method API Gateway metrics") == pytest.approx(15 * 0.30)
    cached = _template(Api=API, Stage=_stage(cache=True), **_methods("GET"))
    assert line(usage(cached), "7 per-method API Gateway metrics") == pytest.approx(7 * 0.30)
    assert not any("per-method" in k for k in usage(_template(Api=API, Stage=_stage(metrics=False), **_methods("GET"))))
    assert estimate_template(template).usage == []  # billed only once methods have traffic


def test_execution_log_group_and_an_access_log_named_inside_a_join():
    groups = dict(Access={"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
                  Exec={"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365, "LogGroupName": {
                      "Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": "Api"}, "/v1"]]}}})
    month = 365 / 12
    for level, kb in (("ERROR", A["execution_log_error_kb"]), ("INFO", A["execution_log_info_kb"])):
        items = usage(_template(Api=API, Stage=_stage(level), **groups))
        gb = MILLION * A["api_requests"] * kb / GB
        assert line(items, f"storage, API execution log \\({level}\\) .*365-day") == pytest.approx(
            gb * 365 / month * 0.03, abs=1e-3)
        access_gb = MILLION * A["access_log_kb"] / GB
        assert line(items, "storage, API access log .*30-day") == pytest.approx(access_gb * 30 / month * 0.03, abs=1e-3)


def test_access_log_bucket_keeps_a_record_per_audit_request():
    audit = {"Type": "AWS::S3::Bucket", "Properties": {
        "ObjectLockEnabled": True, "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}},
        "ReplicationConfiguration": {"Rules": []},
        "LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 2555, "Transitions": [
            {"StorageClass": "GLACIER", "TransitionInDays": 30}, {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180}]}]}}}
    logs = {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 2555}]}}}
    requests = MILLION * A["audit_objects"] * (1 + 2 + 1)  # put, two transitions, the replication read
    gb = requests * A["s3_access_log_record_kb"] / GB * 2555 / (365 / 12)
    assert line(usage(_template(Audit=audit, Logs=logs)), "S3 Logs:server access logs") == pytest.approx(gb * 0.023,
                                                                                                      abs=1e-4)


def test_eu_prices_the_audit_corrected_say_where_they_were_checked():
    regions = load_prices()["regions"]
    corrected = {("eu-central-1", "guardduty_per_million_events"): 4.6, ("eu-central-1", "guardduty_per_gb_logs"): 1.15,
                 ("eu-west-1", "guardduty_per_million_events"): 4.4, ("eu-west-1", "guardduty_per_gb_logs"): 1.1,
                 ("eu-central-1", "s3_glacier_per_gb_monthly"): 0.00405,
                 ("eu-west-1", "s3_transition_glacier_per_1k"): 0.033,
                 ("eu-west-1", "s3_transition_deep_archive_per_1k"): 0.055,
                 ("eu-west-1", "dynamodb_pitr_per_gb_monthly"): 0.22, ("eu-west-1", "backup_dynamodb_per_gb_monthly"): 0.11}
    for (region, name), usd in corrected.items():
        price = regions[region]["prices"][name]
        assert price["usd"] == usd, (region, name)
        assert price["checked"]["date"] == price["read"] == "2026-12-03"
        assert price["checked"]["confirmed"] is False and "audit" in price["checked"]["note"]
    checked = {(r, n) for r, t in regions.items() for n, price in t["prices"].items() if "checked" in price}
    assert checked == set(corrected)


def test_audit_events_bill_firehose_per_5_kb_record_and_a_trail_only_beyond_the_first_copy():
    from cdk_payments.cost.drivers import FixedPricer

    stream = {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {}}
    trail = {"Type": "AWS::CloudTrail::Trail", "Properties": {}}
    items = usage(_template(Stream=stream))
    assert line(items, r"^Firehose Stream:1,000,000 audit events") == pytest.approx(
        MILLION * A["eventbridge_events"] * 5 / GB * US["firehose_per_gb_ingested"], abs=1e-4)
    assert not any("Trail" in k for k in fixed(_template(Trail=trail)))  # the account's first copy is free
    second = FixedPricer(_template(Trail=trail), US, {**A, "cloudtrail_paid_copies": 1})
    [item] = list(second.items())
    assert item.monthly_usd == pytest.approx(A["cloudtrail_events"] / 100_000 * 2.0)
