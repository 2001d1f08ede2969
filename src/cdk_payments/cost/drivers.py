"""The cost drivers: what each resource costs idle, and what each payment adds."""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

Resource = dict[str, Any]
GB = 1_048_576  # KB in a GB
DAYS_PER_MONTH = 365 / 12
SECONDS_PER_MONTH = 730 * 3600
ARCHIVED_OBJECT_KB = {"archive": 32, "standard": 8}  # S3 keeps 40 KB per archived object: 32 archived, 8 Standard
DEFAULT_ROOT_VOLUME_GB = 8  # Amazon Linux 2023 AMIs' root volume when BlockDeviceMappings gives no size
REPLICATION_METRICS = ("BytesPendingReplication", "OperationsPendingReplication", "ReplicationLatency",
                       "OperationsFailedReplication")


@dataclass(frozen=True)
class LineItem:
    name: str
    """A logical id (fixed costs) or a usage driver."""
    type: str
    monthly_usd: float
    detail: str
    service: str = ""
    """The billing service, for the free-tier statement (e.g. ``CloudWatch alarms``)."""


def _of_type(resources: dict[str, Resource], *types: str) -> dict[str, Resource]:
    return {name: r for name, r in sorted(resources.items()) if r.get("Type") in types}


def _props(r: Resource) -> dict[str, Any]:
    return r.get("Properties", {})


class FixedPricer:
    """Fixed monthly cost of each resource type that costs money while idle."""

    def __init__(self, template: dict[str, Any], prices: dict[str, Any], assumptions: dict[str, Any]) -> None:
        self.resources: dict[str, Resource] = template.get("Resources", {})
        self.p, self.a = prices, assumptions
        self.hours = 730

    def hourly(self, rate: float, count: float = 1) -> float:
        return rate * self.hours * count

    def instance_hourly(self, instance_type: str) -> float:
        try:
            return self.p["ec2_hourly"][instance_type]
        except KeyError:
            raise ValueError(f"no price for instance type {instance_type!r} in this region; add it to "
                             "cost/prices.json with its source") from None

    def items(self) -> Iterable[LineItem]:
        handlers: dict[str, Callable[[str, Resource], Iterable[LineItem]]] = {
            "AWS::EC2::NatGateway": lambda n, r: [LineItem(
                n, r["Type"], self.hourly(self.p["nat_gateway_hourly"]), "NAT gateway hours", "NAT gateway")],
            "AWS::EC2::EIP": lambda n, r: [LineItem(
                n, r["Type"], self.hourly(self.p["public_ipv4_hourly"]), "public IPv4 address", "public IPv4")],
            "AWS::EC2::Instance": self.instance,
            "AWS::EC2::VPCEndpoint": self.endpoint,
            "AWS::KMS::Key": self.key,
            "AWS::SecretsManager::Secret": self.secret,
            "AWS::Route53::HostedZone": lambda n, r: [LineItem(
                n, r["Type"], self.p["route53_hosted_zone_monthly"], "hosted zone", "Route 53")],
            "AWS::Route53::HealthCheck": lambda n, r: [LineItem(
                n, r["Type"], self.p["route53_health_check_monthly"], "health check", "Route 53")],
            "AWS::CloudWatch::CompositeAlarm": lambda n, r: [LineItem(
                n, r["Type"], self.p["composite_alarm_monthly"], "composite alarm", "CloudWatch alarms")],
            "AWS::CloudWatch::Alarm": self.alarm,
            "AWS::CloudWatch::Dashboard": lambda n, r: [LineItem(
                n, r["Type"], self.p["dashboard_monthly"], "dashboard", "CloudWatch dashboards")],
            "AWS::WAFv2::WebACL": self.web_acl,
            "AWS::ApiGateway::Stage": self.stage,
            "AWS::AutoScaling::AutoScalingGroup": self.auto_scaling_group,
            "AWS::AutoScaling::ScalingPolicy": self.scaling_policy,
            "AWS::Config::ConfigurationRecorder": lambda n, r: [LineItem(
                n, r["Type"], self.a["config_items"] * self.p["config_item"],
                f"usage-driven: {self.a['config_items']:,} configuration items a month (assumed)", "AWS Config")],
            "AWS::GuardDuty::Detector": self.guardduty,
            "AWS::S3::Bucket": self.replication_metrics,
            "AWS::Lambda::EventSourceMapping": self.idle_polling,
            "AWS::CloudTrail::Trail": self.trail,
            "AWS::SecurityHub::Hub": lambda n, r: [LineItem(
                n, r["Type"], self.a["securityhub_checks"] * self.p["securityhub_per_check"],
                f"usage-driven: {self.a['securityhub_checks']:,} security checks a month (assumed)", "Security Hub")],
        }
        for name, resource in sorted(self.resources.items()):
            handler = handlers.get(resource.get("Type", ""))
            if handler:
                yield from (item for item in handler(name, resource) if item.monthly_usd)
        yield from self.config_rules()

    def instance(self, name: str, r: Resource) -> list[LineItem]:
        props = _props(r)
        items = [LineItem(name, r["Type"], self.hourly(self.instance_hourly(props["InstanceType"])),
                          f"{props['InstanceType']} on-demand", "EC2")]
        if any(i.get("AssociatePublicIpAddress") for i in props.get("NetworkInterfaces", [])):
            items.append(LineItem(name, r["Type"], self.hourly(self.p["public_ipv4_hourly"]), "public IPv4 address",
                                  "public IPv4"))
        return items + [self.root_volume(name, r)]

    def secret(self, name: str, r: Resource) -> list[LineItem]:
        """A secret and each of its replicas in other regions (each billed as a secret)."""
        replicas = len(_props(r).get("ReplicaRegions", []))
        return [LineItem(name, r["Type"], self.p["secret_monthly"] * (1 + replicas),
                         f"secret and {replicas} replica(s)" if replicas else "secret", "Secrets Manager")]

    def endpoint(self, name: str, r: Resource) -> list[LineItem]:
        props = _props(r)
        if props.get("VpcEndpointType") != "Interface":
            return []
        azs = len(props.get("SubnetIds", [])) or 1
        return [LineItem(name, r["Type"], self.hourly(self.p["interface_endpoint_hourly_per_az"], azs),
                         f"interface endpoint in {azs} AZs", "PrivateLink")]

    def key(self, name: str, r: Resource) -> list[LineItem]:
        items = [LineItem(name, r["Type"], self.p["kms_key_monthly"], "customer-managed key", "KMS keys")]
        props = _props(r)
        if props.get("EnableKeyRotation"):
            days = int(props.get("RotationPeriodInDays", 365))
            items.append(LineItem(name, r["Type"], 2 * self.p["kms_rotation_monthly"],
                                  f"automatic rotation every {days} days: +$1 after each of the first two "
                                  "rotations (steady state shown; $0 before the first)", "KMS keys"))
        return items

    def alarm(self, name: str, r: Resource) -> list[LineItem]:
        metrics = _props(r).get("Metrics")
        count = sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
        return [LineItem(name, r["Type"], self.p["alarm_per_metric_monthly"] * count, f"alarm on {count} metric(s)",
                         "CloudWatch alarms")]

    def web_acl(self, name: str, r: Resource) -> list[LineItem]:
        rules = len(_props(r).get("Rules", []))
        return [LineItem(name, r["Type"], self.p["waf_web_acl_monthly"] + self.p["waf_rule_monthly"] * rules,
                         f"web ACL with {rules} rules", "WAF")]

    def stage(self, name: str, r: Resource) -> list[LineItem]:
        props = _props(r)
        if not props.get("CacheClusterEnabled"):
            return []
        size = str(props.get("CacheClusterSize", "0.5"))
        return [LineItem(name, r["Type"], self.hourly(self.p["api_cache_hourly"][size]), f"{size} GB API cache",
                         "API Gateway cache")]

    def scaling_policy(self, name: str, r: Resource) -> list[LineItem]:
        if _props(r).get("PolicyType") != "TargetTrackingScaling":
            return []  # step scaling alarms are in the template and priced there
        return [LineItem(name, r["Type"], self.p["alarm_per_metric_monthly"] * 2,
                         "the 2 alarms Auto Scaling creates for target tracking", "CloudWatch alarms")]

    def auto_scaling_group(self, name: str, r: Resource) -> list[LineItem]:
        props = _props(r)
        running = int(props.get("DesiredCapacity") or props.get("MinSize") or 0)
        if not running:
            return []  # scaled to zero while idle
        mixed = props.get("MixedInstancesPolicy")
        template_ref = (mixed["LaunchTemplate"]["LaunchTemplateSpecification"] if mixed
                        else props["LaunchTemplate"])["LaunchTemplateId"]["Ref"]
        data = self.resources[template_ref]["Properties"]["LaunchTemplateData"]
        instance_type = (mixed["LaunchTemplate"]["Overrides"][0]["InstanceType"] if mixed else data["InstanceType"])
        on_demand = float(running)
        if mixed:
            distribution = mixed.get("InstancesDistribution", {})
            base = min(running, int(distribution.get("OnDemandBaseCapacity", 0)))
            share = int(distribution.get("OnDemandPercentageAboveBaseCapacity", 100)) / 100
            on_demand = base + (running - base) * share
        spot = running - on_demand
        hourly = self.instance_hourly(instance_type)
        compute = self.hourly(hourly, on_demand) + self.hourly(hourly * (1 - self.p["spot_discount"]), spot)
        volume = sum(m.get("Ebs", {}).get("VolumeSize", 8) for m in data.get("BlockDeviceMappings", []))
        monitored = data.get("Monitoring", {}).get("Enabled")
        monitoring = self.p["detailed_monitoring_per_instance_monthly"] if monitored else 0
        items = [LineItem(name, r["Type"], compute + running * (volume * self.p["ebs_gp3_per_gb_monthly"] + monitoring),
                          f"{running} x {instance_type} ({on_demand:g} on-demand, {spot:g} Spot), {volume} GB gp3",
                          "EC2")]
        custom = self._custom_scaling_metrics(name)
        if custom:
            # The CloudWatch agent publishes each metric per host and aggregated per group.
            count = len(custom) * (running + 1)
            items.append(LineItem(name, r["Type"], count * self.p["custom_metric_monthly"],
                                  f"{count} CloudWatch agent metrics ({', '.join(sorted(custom))}, per host and "
                                  "per group)", "CloudWatch custom metrics"))
        return items

    def _custom_scaling_metrics(self, group: str) -> set[str]:
        names = set()
        for r in _of_type(self.resources, "AWS::AutoScaling::ScalingPolicy").values():
            props = _props(r)
            spec = props.get("TargetTrackingConfiguration", {}).get("CustomizedMetricSpecification")
            ours = props.get("AutoScalingGroupName") == {"Ref": group}
            if ours and spec and not spec["Namespace"].startswith("AWS/"):
                names.add(spec["MetricName"])
        return names

    def guardduty(self, name: str, r: Resource) -> list[LineItem]:
        events, gb = self.a["cloudtrail_events"], self.a["guardduty_log_gb"]
        cost = events / 1_000_000 * self.p["guardduty_per_million_events"] + gb * self.p["guardduty_per_gb_logs"]
        return [LineItem(name, r["Type"], cost, f"usage-driven: {events:,} CloudTrail events and {gb} GB of flow/DNS "
                                                "logs a month (assumed)", "GuardDuty")]

    # Drivers an audit found missing (issue 28): each is a resource the bill shows while idle.

    def root_volume(self, name: str, r: Resource) -> LineItem:
        """An instance's EBS volumes: the AMI's 8 GiB root when the template does not size it."""
        mappings = [m.get("Ebs", {}) for m in _props(r).get("BlockDeviceMappings", [])] or [{}]
        size = sum(int(ebs.get("VolumeSize", DEFAULT_ROOT_VOLUME_GB)) for ebs in mappings)
        return LineItem(name, r["Type"], size * self.p["ebs_gp3_per_gb_monthly"],
                        f"{size} GiB gp3 root volume{'' if any('VolumeSize' in e for e in mappings) else ' (AMI default)'}",
                        "EC2")

    def replication_metrics(self, name: str, r: Resource) -> list[LineItem]:
        """S3 replication metrics: four CloudWatch metrics per rule with Metrics enabled."""
        rules = [rule for rule in _props(r).get("ReplicationConfiguration", {}).get("Rules", [])
                 if rule.get("Destination", {}).get("Metrics", {}).get("Status") == "Enabled"]
        if not rules:
            return []
        count = len(rules) * len(REPLICATION_METRICS)
        return [LineItem(name, r["Type"], count * self.p["custom_metric_monthly"],
                         f"{count} S3 replication metrics ({', '.join(REPLICATION_METRICS)})",
                         "CloudWatch custom metrics")]

    def idle_polling(self, name: str, r: Resource) -> list[LineItem]:
        """Lambda long-polls an SQS queue even when it is empty: ReceiveMessage requests every month."""
        source = _props(r).get("EventSourceArn", {})
        target = source.get("Fn::GetAtt", [""])[0] if isinstance(source, dict) else ""
        if self.resources.get(target, {}).get("Type") != "AWS::SQS::Queue":
            return []
        pollers, wait = self.a["sqs_idle_pollers"], self.a["sqs_poll_wait_seconds"]
        requests = pollers * SECONDS_PER_MONTH / wait
        return [LineItem(name, r["Type"], requests / 1e6 * self.p["sqs_per_million_requests"],
                         f"{requests:,.0f} empty ReceiveMessage calls: {pollers} pollers, {wait} s long polls "
                         "(assumed)", "SQS")]
    def trail(self, name: str, r: Resource) -> list[LineItem]:
        copies, events = self.a["cloudtrail_paid_copies"], self.a["cloudtrail_events"]
        cost = copies * events / 100_000 * self.p["cloudtrail_extra_copy_per_100k_events"]
        return [LineItem(name, r["Type"], cost, f"usage-driven: {copies} paid copies of {events:,} management events "
                                                "a month (assumed; the account's first copy is free)", "CloudTrail")]

    def config_rules(self) -> list[LineItem]:
        rules = _of_type(self.resources, "AWS::Config::ConfigRule")
        if not rules:
            return []
        evaluations = len(rules) * self.a["config_evaluations_per_rule"]
        where = ("" if _of_type(self.resources, "AWS::Config::ConfigurationRecorder")
                 else "; they evaluate only where the account records configuration")
        return [LineItem("Config rules", "AWS::Config::ConfigRule", evaluations * self.p["config_rule_evaluation"],
                         f"usage-driven: {len(rules)} rules x {self.a['config_evaluations_per_rule']} evaluations a "
                         f"month (assumed){where}", "AWS Config")]


# -- usage ---------------------------------------------------------------------------------------

def _months(days: Optional[int], default_months: float) -> float:
    return days / DAYS_PER_MONTH if days else default_months


def _backup_copies(plan: Resource) -> Iterable[tuple[str, int, float, list[int]]]:
    """Per rule: its name, the backups it keeps, the backups it takes a month, and how many backups each
    copy action to another region (ResilienceTier.BACKUP_AND_RESTORE) keeps there."""
    for rule in _props(plan).get("BackupPlan", {}).get("BackupPlanRule", []):
        keep = rule.get("Lifecycle", {}).get("DeleteAfterDays")
        schedule = str(rule.get("ScheduleExpression", ""))
        every = re.match(r"rate\((\d+) days?\)", schedule)
        interval = int(every.group(1)) if every else 1  # cron expressions here run daily
        copies = [max(1, int(c.get("Lifecycle", {}).get("DeleteAfterDays") or keep or 35) // interval)
                  for c in rule.get("CopyActions", [])]
        if keep:
            yield rule.get("RuleName", "rule"), max(1, int(keep) // interval), DAYS_PER_MONTH / interval, copies


def _metric_names(code_dirs: Iterable[Path], variants: int) -> tuple[set[str], int, int]:
    """Metric names the Powertools code emits: literal names, formatted call sites, cold-start metrics."""
    literal: set[str] = set()
    formatted, cold_start = 0, 0
    for directory in code_dirs:
        for source in sorted(directory.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                if getattr(node.func, "attr", None) == "add_metric":
                    name = next((k.value for k in node.keywords if k.arg == "name"), None)
                    if isinstance(name, ast.Constant):
                        literal.add(str(name.value))
                    elif name is not None:
                        formatted += variants
                cold_start += any(k.arg == "capture_cold_start_metric" and getattr(k.value, "value", False)
                                  for k in node.keywords)
    return literal, formatted, cold_start


def _xray_traces(requests: float, resources: dict[str, Resource]) -> tuple[float, str]:
    rules = sorted((_props(r).get("SamplingRule", {}) for r in _of_type(resources, "AWS::XRay::SamplingRule").values()),
                   key=lambda rule: rule.get("Priority", 10000))
    rule = rules[0] if rules else {}
    reservoir, rate = int(rule.get("ReservoirSize", 1)), float(rule.get("FixedRate", 0.05))
    # Requests spread evenly over the month (Poisson per second): the reservoir traces up to
    # `reservoir` requests in each second, then `rate` of the rest.
    lam = requests / SECONDS_PER_MONTH
    per_second = sum(1 - sum(math.exp(-lam) * lam ** i / math.factorial(i) for i in range(k + 1))
                     for k in range(reservoir))
    in_reservoir = min(requests, SECONDS_PER_MONTH * per_second)
    traced = in_reservoir + rate * (requests - in_reservoir)
    return traced, (f"{traced / 1e6:.2f}M traces: {reservoir}/s reservoir ({in_reservoir / 1e6:.2f}M, traffic spread "
                    f"evenly) then {rate:.0%}")


def _audit_storage(name: str, props: dict[str, Any], p: dict[str, Any], a: dict[str, Any],
                   payments: int) -> list[tuple[str, str, float, str]]:
    rule = next((r for r in props.get("LifecycleConfiguration", {}).get("Rules", []) if r.get("Transitions")), None)
    if not (props.get("ObjectLockEnabled") and rule):
        return []
    transitions = {t["StorageClass"]: int(t["TransitionInDays"]) for t in rule["Transitions"]}
    expire = int(rule.get("ExpirationInDays", 0)) or 365 * 7
    glacier = transitions.get("GLACIER", expire)
    deep = transitions.get("DEEP_ARCHIVE", expire)
    gb, objects = payments * a["audit_kb"] / GB, payments * a["audit_objects"]
    standard_months, glacier_months = glacier / DAYS_PER_MONTH, max(0, deep - glacier) / DAYS_PER_MONTH
    deep_months = max(0, expire - deep) / DAYS_PER_MONTH
    archived_objects = objects * (glacier_months + deep_months)
    overhead = (objects * glacier_months * ARCHIVED_OBJECT_KB["archive"] / GB * p["s3_glacier_per_gb_monthly"]
                + objects * deep_months * ARCHIVED_OBJECT_KB["archive"] / GB * p["s3_deep_archive_per_gb_monthly"]
                + archived_objects * ARCHIVED_OBJECT_KB["standard"] / GB * p["s3_standard_per_gb_monthly"])
    requests = objects / 1000 * (p["s3_put_per_1k"] + ("GLACIER" in transitions) * p["s3_transition_glacier_per_1k"]
                                 + ("DEEP_ARCHIVE" in transitions) * p["s3_transition_deep_archive_per_1k"])
    when = f"steady state, once {expire} days are held"
    items = [
        (f"S3 {name}", "Standard", gb * standard_months * p["s3_standard_per_gb_monthly"],
         f"{glacier} days in Standard ({when})"),
        (f"S3 {name}", "Glacier Flexible Retrieval", gb * glacier_months * p["s3_glacier_per_gb_monthly"],
         f"days {glacier} to {deep} in Glacier Flexible Retrieval"),
        (f"S3 {name}", "Deep Archive", gb * deep_months * p["s3_deep_archive_per_gb_monthly"],
         f"days {deep} to {expire} in Deep Archive"),
        (f"S3 {name}", "archived-object overhead", overhead,
         f"{archived_objects / 1e6:.1f}M archived objects x 40 KB (32 KB at the archive rate, 8 KB in Standard)"),
        (f"S3 {name}", "PUTs and lifecycle transitions", requests,
         f"{objects / 1e6:.2f}M objects a month, each put then transitioned {len(transitions)} time(s)"),
    ]
    if props.get("ReplicationConfiguration"):
        items.append((f"S3 {name}", "cross-region replication", gb * p["inter_region_transfer_per_gb"],
                      f"{gb:.2f} GB a month sent to the replica region"))
        if any(rule.get("Destination", {}).get("ReplicationTime", {}).get("Status") == "Enabled"
               for rule in props["ReplicationConfiguration"].get("Rules", [])):
            items.append((f"S3 {name}", "Replication Time Control", gb * p["s3_rtc_per_gb"],
                          f"{gb:.2f} GB a month replicated within 15 minutes (S3's SLA)"))
    return items


def usage_items(template: dict[str, Any], p: dict[str, Any], a: dict[str, Any], payments: int,
                code_root: Optional[Path], notes: list[str], share: float = 1.0) -> list[LineItem]:
    """What ``payments`` a month add: the payment API's drivers, and audit storage in any stack. A warm
    standby (the SECONDARY of a Route 53 failover pair) takes none while its primary is healthy; a region
    behind latency routing takes its ``share`` of them, but its global table holds (and replicates) them all."""
    resources = template.get("Resources", {})
    table_payments, payments = payments, round(payments * share)
    if any(_props(r).get("Failover") == "SECONDARY" for r in _of_type(resources, "AWS::Route53::RecordSet").values()):
        notes.append("A warm standby (the SECONDARY of a failover pair) takes no payments while its primary is "
                     "healthy: its usage is priced at none; after a failover it costs what the primary's does.")
        return []
    items: list[tuple[str, str, float, str]] = []
    for name, r in _of_type(resources, "AWS::S3::Bucket").items():
        items += [(line, f"{what}: {detail}", cost, "S3")
                  for line, what, cost, detail in _audit_storage(name, _props(r), p, a, payments)]
    items += _server_access_logs(resources, p, a, payments)
    items += [(name, detail, cost, "Firehose") for name, detail, cost in _audit_delivery(resources, p, a, payments)]
    functions = {_props(r).get("Handler"): (n, r) for n, r in _of_type(resources, "AWS::Lambda::Function").items()}
    if "runtime.api.handler" in functions:
        api = _payment_api_usage(resources, functions, p, a, payments, code_root, notes, table_payments)
        items += [(service, detail, cost, service) for service, detail, cost in api]
    return [LineItem(name, "usage", round(cost, 4), detail, service) for name, detail, cost, service in items]


def _audit_delivery(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                    payments: int) -> list[tuple[str, str, float]]:
    """Firehose streams that write payment events to the audit bucket (PaymentAuditTrail)."""
    events = payments * a["eventbridge_events"]
    gb = events * a["firehose_record_kb"] / GB
    return [(f"Firehose {name}", f"{events:,.0f} audit events ({gb:.2f} GB billed at {a['firehose_record_kb']} KB each)",
             gb * p["firehose_per_gb_ingested"]) for name in _of_type(resources, "AWS::KinesisFirehose::DeliveryStream")]


def _payment_api_usage(resources: dict[str, Resource], functions: dict[str, tuple[str, Resource]],
                       p: dict[str, Any], a: dict[str, Any], payments: int, code_root: Optional[Path],
                       notes: list[str], table_payments: int) -> list[tuple[str, str, float]]:
    types = {r.get("Type") for r in resources.values()}
    million = payments / 1_000_000

    def gb_seconds(handler: str, invocations: float, seconds: float) -> float:
        memory_gb = _props(functions.get(handler, ("", {}))[1]).get("MemorySize", 128) / 1024
        return payments * invocations * seconds * memory_gb

    lambda_requests = a["processor_invocations"] + a["event_handler_invocations"]
    compute = gb_seconds("runtime.api.handler", a["processor_invocations"], a["processor_seconds"]) + gb_seconds(
        "runtime.events.handler", a["event_handler_invocations"], a["event_handler_seconds"])
    items = [
        ("API Gateway", "REST requests", million * a["api_requests"] * p["apigw_rest_per_million"]),
        ("Lambda", "requests and arm64 GB-seconds",
         million * lambda_requests * p["lambda_per_million_requests"] + compute * p["lambda_arm_per_gb_second"]),
        ("DynamoDB", "on-demand reads and writes", million * (a["dynamodb_write_units"] * p["dynamodb_per_million_wru"]
                                                             + a["dynamodb_read_units"] * p["dynamodb_per_million_rru"])),
        ("SQS", "requests", million * a["sqs_requests"] * p["sqs_per_million_requests"]),
        ("EventBridge", "settlement events", million * a["eventbridge_events"] * p["eventbridge_per_million_events"]),
        ("KMS", "requests", payments * a["kms_requests"] / 10_000 * p["kms_per_10k_requests"]),
    ]
    items += _table_storage(resources, p, a, table_payments)
    items += _global_table_replicas(resources, p, a, table_payments)
    items += _log_storage(resources, p, a, payments)
    if "AWS::SecretsManager::Secret" in types:
        calls = a["warm_processor_environments"] * SECONDS_PER_MONTH / a["secret_cache_seconds"]
        items.append(("Secrets Manager", f"{calls:,.0f} GetSecretValue calls ({a['warm_processor_environments']} warm "
                                         f"environments, {a['secret_cache_seconds']} s cache)",
                      calls / 10_000 * p["secrets_per_10k_api_calls"]))
    traced = any(_props(r).get("TracingConfig", {}).get("Mode") == "Active" for _, r in functions.values())
    if traced:
        traces, detail = _xray_traces(payments * a["api_requests"], resources)
        items.append(("X-Ray", detail, traces / 1e6 * p["xray_per_million_traces"]))
    items += _custom_metrics(functions, p, a, code_root, notes)
    if "AWS::WAFv2::WebACL" in types:
        items.append(("WAF", "inspected requests", million * a["waf_requests"] * p["waf_per_million_requests"]))
    items += _api_traffic(resources, p, a, payments)
    items += _method_metrics(resources, p)
    return items


def _table_storage(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                   payments: int) -> list[tuple[str, str, float]]:
    """A table's storage and point-in-time recovery (a global table's: ``_global_table_replicas``), and the
    backups of either."""
    tables = _of_type(resources, "AWS::DynamoDB::Table")
    if not tables and not _of_type(resources, "AWS::DynamoDB::GlobalTable"):
        return []
    months = a["table_months_retained"]
    gb = payments * months * a["table_kb"] / GB
    items = []
    if tables:
        items.append(("DynamoDB", f"storage ({gb:.1f} GB: {months} months of payments)",
                      gb * p["dynamodb_storage_per_gb_monthly"]))
    if any(_props(r).get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
           for r in tables.values()):
        items.append(("DynamoDB", f"point-in-time recovery ({gb:.1f} GB)", gb * p["dynamodb_pitr_per_gb_monthly"]))
    for plan in _of_type(resources, "AWS::Backup::BackupPlan").values():
        for rule, copies, monthly, copied in _backup_copies(plan):
            items.append(("AWS Backup", f"{copies} retained copies of the {gb:.1f} GB table ({rule} rule; each a full "
                                        "copy: DynamoDB backups are not incremental)",
                          gb * copies * p["backup_dynamodb_per_gb_monthly"]))
            for kept in copied:  # priced at this region's rates: the second region's are close
                items.append(("AWS Backup", f"{kept} copies of the {gb:.1f} GB table kept in a second region ({rule} rule)",
                              gb * kept * p["backup_dynamodb_per_gb_monthly"]))
                items.append(("AWS Backup", f"cross-region copy transfer ({gb * monthly:.0f} GB a month: each {rule} "
                                            "backup sent in full)", gb * monthly * p["inter_region_transfer_per_gb"]))
    return items


def _global_table_replicas(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                           payments: int) -> list[tuple[str, str, float]]:
    """A global table (TableV2) bills each replica's storage, and each write again in every other
    replica (replicated writes) plus the data sent there; priced at this region's rates. A strongly
    consistent table's witness holds no data; its writes are priced as a replica's, an upper bound."""
    items = []
    million = payments / 1_000_000
    for table in _of_type(resources, "AWS::DynamoDB::GlobalTable").values():
        replicas = _props(table).get("Replicas", [])
        witnesses = len(_props(table).get("GlobalTableWitnesses", []))
        others = max(0, len(replicas) - 1) + witnesses
        months = a["table_months_retained"]
        gb = payments * months * a["table_kb"] / GB
        pitr = sum(1 for r in replicas if r.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"))
        items += [
            ("DynamoDB", f"storage in {len(replicas)} replica(s) ({gb:.1f} GB each: {months} months of payments)",
             gb * len(replicas) * p["dynamodb_storage_per_gb_monthly"]),
            ("DynamoDB", f"point-in-time recovery in {pitr} replica(s) ({gb:.1f} GB each)",
             gb * pitr * p["dynamodb_pitr_per_gb_monthly"]),
        ]
        if others:
            sent = payments * a["table_kb"] * others / GB
            items += [
                ("DynamoDB", f"replicated writes to {others} other region(s)" + (" (one a witness)" if witnesses else ""),
                 million * a["dynamodb_write_units"] * others * p["dynamodb_per_million_replicated_wru"]),
                ("DynamoDB", f"cross-region replication transfer ({sent:.2f} GB a month)",
                 sent * p["inter_region_transfer_per_gb"]),
            ]
    return items


def _log_groups(resources: dict[str, Resource], a: dict[str, Any]) -> list[tuple[str, float, int]]:
    """(what, KB per payment, retention days) for each log group payments write to."""
    groups = _of_type(resources, "AWS::Logs::LogGroup")

    def retention(name: Optional[str]) -> int:
        return int(_props(groups.get(name or "", {})).get("RetentionInDays", 0))

    written = []
    # Per payment, the processor logs its request and the event handler its settlement; the rotation
    # function runs once per rotation and logs next to nothing.
    shares = {"runtime.api.handler": 0.8, "runtime.events.handler": 0.2}
    for name, r in _of_type(resources, "AWS::Lambda::Function").items():
        share = shares.get(str(_props(r).get("Handler")))
        if share:
            ref = _props(r).get("LoggingConfig", {}).get("LogGroup", {})
            written.append((f"{name} logs", a["function_log_kb"] * share,
                            retention(ref.get("Ref") if isinstance(ref, dict) else None)))
    for r in _of_type(resources, "AWS::ApiGateway::Stage").values():
        arn = _props(r).get("AccessLogSetting", {}).get("DestinationArn")
        if arn:
            written.append(("API access log", a["access_log_kb"], retention(_referenced_group(arn, groups))))
    for name, r in groups.items():
        group_name = _props(r).get("LogGroupName")
        # A literal name, or an Fn::Join whose first part is (the name ends in the stack ID's suffix).
        if str(group_name).startswith("aws-waf-logs-") or '["", ["aws-waf-logs-' in json.dumps(group_name):
            written.append(("WAF log", a["waf_log_kb"], retention(name)))
        elif "API-Gateway-Execution-Logs_" in json.dumps(group_name):
            level = _execution_log_level(resources)
            kb = a["api_requests"] * (a["execution_log_info_kb"] if level == "INFO" else a["execution_log_error_kb"])
            written.append((f"API execution log ({level or 'OFF'})", kb if level else 0, retention(name)))
    return written


def _log_storage(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                 payments: int) -> list[tuple[str, str, float]]:
    written = _log_groups(resources, a)
    ingested = payments * sum(kb for _, kb, _ in written) / GB
    items = [("CloudWatch Logs", f"ingestion ({ingested:.2f} GB into {len(written)} log groups)",
              ingested * p["logs_ingest_per_gb"])]
    for what, kb, days in written:
        gb = payments * kb / GB * _months(days, 12)
        kept = f"{days}-day retention" if days else "never expires, a year shown"
        items.append(("CloudWatch Logs", f"storage, {what} ({gb:.1f} GB: {kept}, as ingested)",
                      gb * p["logs_storage_per_gb_monthly"]))
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    flow_logs = [r for r in _of_type(resources, "AWS::EC2::FlowLog").values()
                 if _props(r).get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"]
    if flow_logs:
        refs = [_props(r).get("LogGroupName") for r in flow_logs]
        flow_retention = max((int(_props(groups[ref["Ref"]]).get("RetentionInDays", 0)) for ref in refs
                              if isinstance(ref, dict) and ref.get("Ref") in groups), default=0)
        flow_gb = payments * a["flow_log_kb"] / GB
        flow_months = _months(flow_retention, 12)
        items.append(("CloudWatch Logs", f"VPC flow log ingestion ({flow_gb:.2f} GB, vended logs)",
                      flow_gb * p["logs_vended_per_gb"]))
        items.append(("CloudWatch Logs", f"VPC flow log storage ({flow_gb * flow_months:.1f} GB: "
                                         f"{flow_retention or 'no'}-day retention)",
                      flow_gb * flow_months * p["logs_storage_per_gb_monthly"]))
    return items


def _custom_metrics(functions: dict[str, tuple[str, Resource]], p: dict[str, Any], a: dict[str, Any],
                    code_root: Optional[Path], notes: list[str]) -> list[tuple[str, str, float]]:
    assets = {r.get("Metadata", {}).get("aws:asset:path") for handler, (_, r) in functions.items()
              if str(handler).startswith("runtime.")}
    dirs = [code_root / asset for asset in assets if code_root and asset and (code_root / asset).is_dir()]
    if not dirs:
        notes.append("Custom metrics not priced: the functions' code was not found next to the template "
                     "(price a cdk.out directory synthesized with asset metadata).")
        return []
    literal, formatted, cold_start = _metric_names(dirs, a["formatted_metric_names"])
    count = len(literal) + formatted + cold_start
    return [("CloudWatch custom metrics", f"{count} EMF metrics the functions publish "
                                          f"({', '.join(sorted(literal))}; {formatted} from formatted names)",
             count * p["custom_metric_monthly"])]


# -- drivers an audit found missing (issue 28) ----------------------------------------------------

API_METHOD_METRICS = ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency")
API_CACHE_METRICS = ("CacheHitCount", "CacheMissCount")


def _referenced_group(arn: Any, groups: dict[str, Resource]) -> Optional[str]:
    """The logical id of the log group an ARN expression names (Fn::GetAtt, or a Ref inside Fn::Join)."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return arn["Fn::GetAtt"][0]
    refs = re.findall(r'"Ref": "([^"]+)"', json.dumps(arn))
    return next((ref for ref in refs if ref in groups), None)


def _execution_log_level(resources: dict[str, Resource]) -> Optional[str]:
    """The stages' execution logging level (INFO beats ERROR); None when execution logging is off."""
    levels = {str(m.get("LoggingLevel", "OFF")).upper() for r in _of_type(resources, "AWS::ApiGateway::Stage").values()
              for m in _props(r).get("MethodSettings", [])}
    return "INFO" if "INFO" in levels else "ERROR" if "ERROR" in levels else None


def endpoint_service(r: Resource) -> str:
    """``sqs`` from an endpoint's ServiceName: ``com.amazonaws.<region>.sqs``, literal or joined around the
    region's Ref."""
    name = _props(r).get("ServiceName", "")
    if isinstance(name, str):
        return name.removeprefix("com.amazonaws.").split(".", 1)[-1]
    parts = name.get("Fn::Join", ["", []])[1]
    return str(parts[-1]).lstrip(".") if parts and isinstance(parts[-1], str) else ""


def interface_endpoints(resources: dict[str, Resource]) -> dict[str, tuple[str, int]]:
    """``{service: (logical id, AZ count)}`` of the template's interface endpoints."""
    return {endpoint_service(r): (name, len(_props(r).get("SubnetIds", [])) or 1)
            for name, r in _of_type(resources, "AWS::EC2::VPCEndpoint").items()
            if _props(r).get("VpcEndpointType") == "Interface"}


def api_traffic_gb(a: dict[str, Any], payments: int) -> dict[str, float]:
    """GB a month of AWS API traffic from the VPC's functions, by service (the per-payment calls)."""
    return {"sqs": payments * a["sqs_api_kb"] / GB, "events": payments * a["events_api_kb"] / GB}


def _api_traffic(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                 payments: int) -> list[tuple[str, str, float]]:
    """Each service's API traffic through its interface endpoint, else through a NAT gateway (a NAT
    instance bills no processing)."""
    endpoints = interface_endpoints(resources)
    traffic = api_traffic_gb(a, payments)
    private = {service: gb for service, gb in traffic.items() if service in endpoints}
    nat = {service: gb for service, gb in traffic.items() if service not in endpoints}
    items = []
    if private:
        gb = sum(private.values())
        items.append(("PrivateLink", f"interface endpoint data processed ({gb:.2f} GB: {', '.join(sorted(private))})",
                      gb * p["interface_endpoint_per_gb"]))
    if nat and _of_type(resources, "AWS::EC2::NatGateway"):
        gb = sum(nat.values())
        items.append(("NAT gateway", f"data processed ({gb:.2f} GB: {', '.join(sorted(nat))} API calls)",
                      gb * p["nat_gateway_per_gb"]))
    return items


def method_metric_count(resources: dict[str, Resource]) -> int:
    """Detailed (per-method) API Gateway metrics the stages publish once each method has traffic."""
    detailed = any(m.get("MetricsEnabled") for r in _of_type(resources, "AWS::ApiGateway::Stage").values()
                   for m in _props(r).get("MethodSettings", []))
    if not detailed:
        return 0
    methods = [r for r in _of_type(resources, "AWS::ApiGateway::Method").values()
               if _props(r).get("HttpMethod") != "OPTIONS"]
    cached = any(_props(r).get("CacheClusterEnabled") for r in _of_type(resources, "AWS::ApiGateway::Stage").values())
    return len(methods) * (len(API_METHOD_METRICS) + cached * len(API_CACHE_METRICS))


def _method_metrics(resources: dict[str, Resource], p: dict[str, Any]) -> list[tuple[str, str, float]]:
    count = method_metric_count(resources)
    if not count:
        return []
    return [("CloudWatch custom metrics", f"{count} per-method API Gateway metrics (detailed metrics: "
                                          f"{', '.join(API_METHOD_METRICS)} per method with traffic)",
             count * p["custom_metric_monthly"])]


def _server_access_logs(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
                        payments: int) -> list[tuple[str, str, float, str]]:
    """The access-log bucket: one record per request to a logged bucket, kept for its expiration."""
    buckets = _of_type(resources, "AWS::S3::Bucket")
    items = []
    for name, r in buckets.items():
        target = _props(r).get("LoggingConfiguration", {}).get("DestinationBucketName")
        log_bucket = target.get("Ref") if isinstance(target, dict) else None
        if log_bucket not in buckets or not _audit_storage(name, _props(r), p, a, payments):
            continue
        rules = _props(buckets[log_bucket]).get("LifecycleConfiguration", {}).get("Rules", [])
        expire = min((int(rule["ExpirationInDays"]) for rule in rules if rule.get("ExpirationInDays")), default=0)
        transitions = len(next((rule["Transitions"] for rule in _props(r)["LifecycleConfiguration"]["Rules"]
                                if rule.get("Transitions")), []))
        requests = payments * a["audit_objects"] * (1 + transitions + bool(_props(r).get("ReplicationConfiguration")))
        gb = requests * a["s3_access_log_record_kb"] / GB * _months(expire, 12)
        kept = f"{expire}-day expiration" if expire else "never expires, a year shown"
        items.append((f"S3 {log_bucket}", "server access logs",
                      gb * p["s3_standard_per_gb_monthly"],
                      f"{gb:.2f} GB of {name}'s access log records ({requests:,.0f} requests a month: puts, transitions "
                      f"and replication; {kept})"))
    return [(line, f"{what}: {detail}", cost, "S3") for line, what, cost, detail in items]
