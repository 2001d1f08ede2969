"""Where a choice exists, what it costs and the traffic at which it pays for itself.

Each line is one resource the template chose (an interface endpoint, a NAT gateway or instance, the
API cache, a WAF rule, per-method metrics): its monthly cost, the break-even volume against the
alternative, and whether the deployment, at the payments per month given, is above or below it.
A choice bought for security (endpoints, WAF rules) has no traffic at which it stops being worth it;
the line says what it costs beyond what it saves, and docs/network-costs.md says what it protects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .drivers import (
    DEFAULT_ROOT_VOLUME_GB,
    GB,
    SECONDS_PER_MONTH,
    Resource,
    _of_type,
    _props,
    api_traffic_gb,
    interface_endpoints,
    method_metric_count,
)

SECRET_CALL_KB = 4  # a GetSecretValue request and its response
HOURS = 730


@dataclass(frozen=True)
class Advice:
    choice: str
    """What was chosen: ``interface endpoint``, ``NAT gateway``, ``API cache``..."""
    resource: str
    monthly_usd: float
    """What the choice costs a month at the volume given (fixed and usage)."""
    break_even: str
    """The volume at which it pays for itself against the alternative, or why there is none."""
    verdict: str
    """``above``, ``below`` or ``no break-even``, at the volume given."""
    detail: str


def advise(template: dict[str, Any], p: dict[str, Any], a: dict[str, Any], payments: int) -> list[Advice]:
    """Every choice the template made that has a cheaper or dearer alternative, at ``payments`` a month."""
    resources: dict[str, Resource] = template.get("Resources", {})
    return (_endpoints(resources, p, a, payments) + _nat(resources, p, a, payments) + _cache(resources, p, a, payments)
            + _waf(resources, p) + _method_metrics(resources, p))


def _verdict(volume: float, break_even: float) -> str:
    return "above" if volume >= break_even else "below"


def _payments_for(gb: float, kb_per_payment: float) -> str:
    return f" (~{gb * GB / kb_per_payment:,.0f} payments)" if kb_per_payment else ""


def _endpoints(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any],
               payments: int) -> list[Advice]:
    has_gateway = bool(_of_type(resources, "AWS::EC2::NatGateway"))
    traffic = api_traffic_gb(a, payments)
    per_payment_kb = {"sqs": a["sqs_api_kb"], "events": a["events_api_kb"]}
    secret_calls = a["warm_processor_environments"] * SECONDS_PER_MONTH / a["secret_cache_seconds"]
    traffic["secretsmanager"] = secret_calls * SECRET_CALL_KB / GB if payments else 0
    saving = p["nat_gateway_per_gb"] - p["interface_endpoint_per_gb"]
    advice = []
    for service, (name, azs) in sorted(interface_endpoints(resources).items()):
        gb = traffic.get(service, 0.0)
        fixed = p["interface_endpoint_hourly_per_az"] * HOURS * azs
        cost = fixed + gb * p["interface_endpoint_per_gb"]
        if not has_gateway:
            advice.append(Advice("interface endpoint", f"{service} ({name})", cost,
                                 "none: no NAT gateway processing to save (NAT instance or no NAT)", "no break-even",
                                 f"{azs} AZs; {gb:.2f} GB/month through it. Worth it only for what it protects, or "
                                 "as the only path to the API without NAT (docs/network-costs.md)."))
            continue
        even = fixed / saving
        verdict = _verdict(gb, even)
        net = gb * saving - fixed
        advice.append(Advice(
            "interface endpoint", f"{service} ({name})", cost,
            f"{even:,.0f} GB/month through it{_payments_for(even, per_payment_kb.get(service, 0))}", verdict,
            f"{azs} AZs at ${fixed:.2f}/month; saves ${saving:.3f}/GB of NAT processing; {gb:.2f} GB/month at this "
            f"volume: {'saves' if net >= 0 else 'costs'} ${abs(net):.2f}/month net"
            + ("" if verdict == "above" else ". Kept for what it protects, not for cost (docs/network-costs.md).")))
    return advice


def _nat(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any], payments: int) -> list[Advice]:
    gateways = sorted(_of_type(resources, "AWS::EC2::NatGateway"))
    endpoints = interface_endpoints(resources)
    nat_gb = sum(gb for service, gb in api_traffic_gb(a, payments).items() if service not in endpoints)
    instance = p["ec2_hourly"]["t4g.nano"] * HOURS + DEFAULT_ROOT_VOLUME_GB * p["ebs_gp3_per_gb_monthly"]
    gateway = p["nat_gateway_hourly"] * HOURS
    ip = p["public_ipv4_hourly"] * HOURS
    advice = []
    for index, name in enumerate(gateways):
        share = nat_gb / len(gateways)
        cost = gateway + ip + share * p["nat_gateway_per_gb"]
        if index == 0:
            advice.append(Advice(
                "NAT gateway", name, cost, "none: a t4g.nano NAT instance costs less at any traffic it can carry",
                "no break-even",
                f"${gateway - instance:.2f}/month more than a NAT instance (${instance:.2f} with its 8 GiB disk) plus "
                f"${p['nat_gateway_per_gb']:.3f}/GB processing ({share:.2f} GB/month here); buys a managed, "
                "self-healing gateway that scales to 100 Gbps (NatStrategy.INSTANCE is the cheaper choice)."))
            continue
        # A second and later gateway, against routing that AZ through the first gateway across AZs.
        cross = 2 * p["inter_az_transfer_per_gb"]
        even = (gateway + ip) / cross
        advice.append(Advice(
            "NAT gateway", name, cost, f"{even:,.0f} GB/month of that AZ's egress", _verdict(share, even),
            f"against sharing one gateway (SINGLE_GATEWAY: ${cross:.2f}/GB cross-AZ); {share:.2f} GB/month here. Below "
            "break-even it buys availability: egress that survives the loss of another AZ."))
    for name, r in _of_type(resources, "AWS::EC2::Instance").items():
        if any(i.get("AssociatePublicIpAddress") for i in _props(r).get("NetworkInterfaces", [])):
            advice.append(Advice(
                "NAT instance", name, instance + ip, "none: cheaper than a NAT gateway at any traffic it can carry",
                "no break-even",
                f"${gateway - instance:.2f}/month less than a gateway and no processing fee; one instance in one AZ "
                "(egress pauses while it is replaced), t4g.nano bandwidth up to 5 Gbps burst."))
    return advice


def _saving_per_cached_read(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any]) -> float:
    """What one read served from the cache saves: the processor invocation and its DynamoDB read."""
    memory = next((_props(r).get("MemorySize", 128) for r in _of_type(resources, "AWS::Lambda::Function").values()
                   if _props(r).get("Handler") == "runtime.api.handler"), 512)
    return (p["lambda_per_million_requests"] / 1e6 + a["processor_seconds"] * memory / 1024 * p["lambda_arm_per_gb_second"]
            + p["dynamodb_per_million_rru"] / 1e6)


def _cache(resources: dict[str, Resource], p: dict[str, Any], a: dict[str, Any], payments: int) -> list[Advice]:
    stages = _of_type(resources, "AWS::ApiGateway::Stage")
    if not stages:
        return []
    saving = _saving_per_cached_read(resources, p, a)
    reads = payments * max(0, a["api_requests"] - 1)  # every request but the POST is a read
    advice = []
    for name, r in stages.items():
        props = _props(r)
        cached = bool(props.get("CacheClusterEnabled"))
        size = str(props.get("CacheClusterSize", "0.5"))
        fixed = p["api_cache_hourly"][size] * HOURS
        even = fixed / saving
        advice.append(Advice(
            "API cache", name if cached else f"{name} (no cache)", fixed if cached else 0.0,
            f"{even / 1e6:,.1f}M cached reads/month", _verdict(reads, even),
            f"a {size} GB cache costs ${fixed:.2f}/month and saves ${saving * 1e6:.2f} per million reads it serves "
            f"(processor invocation and DynamoDB read); {reads / 1e6:.1f}M reads/month here, at most all hits"
            + ("" if cached else "; with IAM authorization the library turns caching off (per-caller data)")))
    return advice


def _waf(resources: dict[str, Resource], p: dict[str, Any]) -> list[Advice]:
    advice = []
    for name, r in _of_type(resources, "AWS::WAFv2::WebACL").items():
        for rule in _props(r).get("Rules", []):
            statement = rule.get("Statement", {})
            managed = statement.get("ManagedRuleGroupStatement", {}).get("Name")
            what = managed or ("rate-based rule" if "RateBasedStatement" in statement else "rule")
            advice.append(Advice(
                "WAF rule", f"{what} ({name})", p["waf_rule_monthly"], "none: a security choice", "no break-even",
                "fixed monthly fee; AWS baseline managed groups add no per-request fee beyond the web ACL's "
                f"${p['waf_per_million_requests']:.2f}/M requests"))
    return advice


def _method_metrics(resources: dict[str, Resource], p: dict[str, Any]) -> list[Advice]:
    count = method_metric_count(resources)
    if not count:
        return []
    stage = next(iter(_of_type(resources, "AWS::ApiGateway::Stage")))
    return [Advice("per-method metrics", stage, count * p["custom_metric_monthly"],
                   "none: billed per metric once a method has traffic, whatever the volume", "no break-even",
                   f"{count} detailed metrics at ${p['custom_metric_monthly']:.2f}; the stage-level metrics the alarms "
                   "use are free (turn detailed metrics off to save this)")]


def advice_table(advice: list[Advice], payments: Optional[int]) -> list[str]:
    """The CLI's lines for the choices section."""
    lines = [f"Choices and their break-even at {payments or 0:,} payments/month:"]
    lines += [f"  {a.choice:20} {a.resource[:44]:44} {a.monthly_usd:8.2f}  {a.verdict:13} break-even {a.break_even}"
              f"\n  {'':20} {a.detail}" for a in advice]
    return lines
