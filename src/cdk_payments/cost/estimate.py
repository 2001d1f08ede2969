"""Price a synthesized template: fixed monthly costs per resource, usage costs per payment volume.

Reads CloudFormation JSON only (never aws_cdk), so it runs without Node.js, in CI or on a laptop.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

PRICES_FILE = Path(__file__).with_name("prices.json")
Resource = dict[str, Any]


@dataclass(frozen=True)
class LineItem:
    name: str
    """A logical id (fixed costs) or a usage driver."""
    type: str
    monthly_usd: float
    detail: str


@dataclass
class CostEstimate:
    region: str
    payments_per_month: int
    fixed: list[LineItem] = field(default_factory=list)
    usage: list[LineItem] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def fixed_total(self) -> float:
        return round(sum(item.monthly_usd for item in self.fixed), 2)

    @property
    def usage_total(self) -> float:
        return round(sum(item.monthly_usd for item in self.usage), 2)

    @property
    def total(self) -> float:
        return round(self.fixed_total + self.usage_total, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "payments_per_month": self.payments_per_month, "source": self.source,
            "fixed_total_usd": self.fixed_total, "usage_total_usd": self.usage_total, "total_usd": self.total,
            "fixed": [asdict(i) for i in self.fixed], "usage": [asdict(i) for i in self.usage],
            "assumptions": self.assumptions,
        }


@cache
def load_prices() -> dict[str, Any]:
    return json.loads(PRICES_FILE.read_text())


def _regional(region: str) -> dict[str, Any]:
    regions = load_prices()["regions"]
    if region not in regions:
        raise ValueError(f"region: no prices for {region!r}; known: {', '.join(sorted(regions))}")
    return regions[region]


class _Pricer:
    """Fixed monthly cost of each resource type that costs money while idle."""

    def __init__(self, template: dict[str, Any], prices: dict[str, Any]) -> None:
        self.resources: dict[str, Resource] = template.get("Resources", {})
        self.p = prices
        self.hours = prices["hours_per_month"]

    def hourly(self, rate: float, count: float = 1) -> float:
        return rate * self.hours * count

    def instance_hourly(self, instance_type: str) -> float:
        try:
            return self.p["ec2_hourly"][instance_type]
        except KeyError:
            raise ValueError(f"no price for instance type {instance_type!r}; add it to prices.json") from None

    def items(self) -> Iterable[LineItem]:
        handlers: dict[str, Callable[[str, Resource], Iterable[LineItem]]] = {
            "AWS::EC2::NatGateway": self.nat_gateway,
            "AWS::EC2::EIP": self.eip,
            "AWS::EC2::Instance": self.instance,
            "AWS::EC2::VPCEndpoint": self.endpoint,
            "AWS::KMS::Key": lambda n, r: [LineItem(n, r["Type"], self.p["kms_key_monthly"], "customer-managed key")],
            "AWS::SecretsManager::Secret": lambda n, r: [LineItem(n, r["Type"], self.p["secret_monthly"], "secret")],
            "AWS::CloudWatch::Alarm": self.alarm,
            "AWS::CloudWatch::Dashboard": lambda n, r: [LineItem(
                n, r["Type"], self.p["dashboard_monthly"], "dashboard (an account's first 3 are free)")],
            "AWS::WAFv2::WebACL": self.web_acl,
            "AWS::ApiGateway::Stage": self.stage,
            "AWS::AutoScaling::AutoScalingGroup": self.auto_scaling_group,
            "AWS::AutoScaling::ScalingPolicy": self.scaling_policy,
        }
        for name, resource in sorted(self.resources.items()):
            handler = handlers.get(resource.get("Type", ""))
            if handler:
                yield from (item for item in handler(name, resource) if item.monthly_usd)

    def nat_gateway(self, name: str, r: Resource) -> list[LineItem]:
        return [LineItem(name, r["Type"], self.hourly(self.p["nat_gateway_hourly"]), "NAT gateway hours")]

    def eip(self, name: str, r: Resource) -> list[LineItem]:
        return [LineItem(name, r["Type"], self.hourly(self.p["public_ipv4_hourly"]), "public IPv4 address")]

    def instance(self, name: str, r: Resource) -> list[LineItem]:
        props = r["Properties"]
        items = [LineItem(name, r["Type"], self.hourly(self.instance_hourly(props["InstanceType"])),
                          f"{props['InstanceType']} on-demand")]
        if any(i.get("AssociatePublicIpAddress") for i in props.get("NetworkInterfaces", [])):
            items.append(LineItem(name, r["Type"], self.hourly(self.p["public_ipv4_hourly"]), "public IPv4 address"))
        return items

    def endpoint(self, name: str, r: Resource) -> list[LineItem]:
        props = r["Properties"]
        if props.get("VpcEndpointType") != "Interface":
            return []
        azs = len(props.get("SubnetIds", [])) or 1
        return [LineItem(name, r["Type"], self.hourly(self.p["interface_endpoint_hourly_per_az"], azs),
                         f"interface endpoint in {azs} AZs")]

    def alarm(self, name: str, r: Resource) -> list[LineItem]:
        metrics = r["Properties"].get("Metrics")
        count = sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
        return [LineItem(name, r["Type"], self.p["alarm_per_metric_monthly"] * count, f"alarm on {count} metric(s)")]

    def web_acl(self, name: str, r: Resource) -> list[LineItem]:
        rules = len(r["Properties"].get("Rules", []))
        return [LineItem(name, r["Type"], self.p["waf_web_acl_monthly"] + self.p["waf_rule_monthly"] * rules,
                         f"web ACL with {rules} rules")]

    def stage(self, name: str, r: Resource) -> list[LineItem]:
        props = r["Properties"]
        if not props.get("CacheClusterEnabled"):
            return []
        size = str(props.get("CacheClusterSize", "0.5"))
        return [LineItem(name, r["Type"], self.hourly(self.p["api_cache_hourly"][size]), f"{size} GB API cache")]

    def scaling_policy(self, name: str, r: Resource) -> list[LineItem]:
        if r["Properties"].get("PolicyType") != "TargetTrackingScaling":
            return []  # step scaling alarms are in the template and priced there
        return [LineItem(name, r["Type"], self.p["alarm_per_metric_monthly"] * 2,
                         "the 2 alarms Auto Scaling creates for target tracking")]

    def auto_scaling_group(self, name: str, r: Resource) -> list[LineItem]:
        props = r["Properties"]
        running = int(props.get("DesiredCapacity") or props.get("MinSize") or 0)
        if not running:
            return [LineItem(name, r["Type"], 0.0, "scaled to zero while idle")]
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
        monitoring = self.p["detailed_monitoring_per_instance_monthly"] if data.get("Monitoring", {}).get("Enabled") else 0
        return [LineItem(name, r["Type"], compute + running * (volume * self.p["ebs_gp3_per_gb_monthly"] + monitoring),
                         f"{running} x {instance_type} ({on_demand:g} on-demand, {spot:g} Spot), {volume} GB gp3")]


def _usage(template: dict[str, Any], prices: dict[str, Any], assumptions: dict[str, float], payments: int) -> list[LineItem]:
    resources = template.get("Resources", {}).values()
    functions = {r["Properties"].get("Handler"): r["Properties"] for r in resources
                 if r.get("Type") == "AWS::Lambda::Function"}
    if "runtime.api.handler" not in functions:
        return []  # no payment API in this template
    types = {r.get("Type") for r in resources}
    a, p, million = assumptions, prices, payments / 1_000_000

    def gb_seconds(handler: str, invocations: float, seconds: float) -> float:
        memory_gb = functions.get(handler, {}).get("MemorySize", 128) / 1024
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
        ("CloudWatch Logs", "ingestion", payments * a["log_kb"] / 1_048_576 * p["logs_ingest_per_gb"]),
        ("KMS", "requests", payments * a["kms_requests"] / 10_000 * p["kms_per_10k_requests"]),
        ("X-Ray", "traces", million * a["api_requests"] * a["traced_share"] * p["xray_per_million_traces"]),
    ]
    if "AWS::WAFv2::WebACL" in types:
        items.append(("WAF", "inspected requests", million * a["waf_requests"] * p["waf_per_million_requests"]))
    if "AWS::EC2::NatGateway" in types:
        items.append(("NAT gateway", "data processed", payments * a["nat_kb"] / 1_048_576 * p["nat_gateway_per_gb"]))
    return [LineItem(service, "usage", round(cost, 4), detail) for service, detail, cost in items]


def estimate_template(template: dict[str, Any], *, payments_per_month: int = 0,
                      region: str = "us-east-1") -> CostEstimate:
    """Price one template: fixed monthly costs per resource and usage at ``payments_per_month``."""
    if not isinstance(payments_per_month, int) or isinstance(payments_per_month, bool) or payments_per_month < 0:
        raise ValueError(f"payments_per_month: must be a whole number >= 0, got {payments_per_month!r}")
    prices, table = _regional(region), load_prices()
    assumptions = table["per_payment"]
    return CostEstimate(
        region=region, payments_per_month=payments_per_month, source=f"{table['source']} ({table['date']})",
        fixed=[LineItem(i.name, i.type, round(i.monthly_usd, 4), i.detail) for i in _Pricer(template, prices).items()],
        usage=_usage(template, prices, assumptions, payments_per_month) if payments_per_month else [],
        assumptions={k: {"value": v, "why": table["per_payment_notes"][k]} for k, v in assumptions.items()},
    )


def estimate_assembly(path: Path | str, *, payments_per_month: int = 0, region: str = "us-east-1",
                      stack: Optional[str] = None) -> dict[str, CostEstimate]:
    """Price every ``*.template.json`` of a cloud assembly (``cdk.out``), or one template file."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*.template.json"))
    if stack:
        files = [f for f in files if f.name == f"{stack}.template.json"]
    if not files:
        raise ValueError(f"path: no CloudFormation template found at {path} (synthesize first)")
    return {f.name.removesuffix(".template.json"): estimate_template(
        json.loads(f.read_text()), payments_per_month=payments_per_month, region=region) for f in files}
