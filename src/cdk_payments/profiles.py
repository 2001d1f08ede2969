"""Deployment profiles: every default of every construct, in one place.

Each construct takes ``profile=Profile.DEV`` (or ``PROD``) and reads its defaults from
``defaults_for(profile).<construct>``; every value can still be overridden by the construct's own
prop of the same name. What differs between the profiles is a cost-versus-resilience choice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Optional

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from .choices import (
    AuditLockMode,
    CostAnomalyMonitor,
    FlowLogDestination,
    NatStrategy,
    NetworkLayout,
    PaymentApiAuthorization,
    ResilienceTier,
)


class Profile(enum.Enum):
    """Which set of defaults a construct starts from."""

    DEV = "dev"
    """Cheapest configuration with the same capabilities: idle cost about $24/month at list prices (docs/cost.md)."""
    PROD = "prod"
    """Resilience first: two AZs with a NAT gateway each, the Secrets Manager endpoint, backups,
    deletion protection, four WAF rule groups (about $140/month idle, docs/cost.md)."""

    @classmethod
    def parse(cls, value: str) -> "Profile":
        """Return the profile named ``value`` (``dev`` or ``prod``), or raise ``ValueError``."""
        try:
            return cls(str(value).lower())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise ValueError(f"profile: unknown profile {value!r}; allowed: {allowed}") from None


@dataclass(frozen=True)
class NetworkDefaults:
    """CostOptimizedVpc."""

    nat: NatStrategy
    max_azs: int
    interface_endpoints: tuple[str, ...]
    """Interface endpoint service names (as in ``InterfaceVpcEndpointAwsService``), e.g. ``sqs``."""
    flow_log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    cidr: str = "10.0.0.0/16"
    subnet_cidr_mask: int = 24
    data_subnets: bool = True
    flow_logs: FlowLogDestination = FlowLogDestination.CLOUDWATCH_LOGS
    flow_log_traffic_type: ec2.FlowLogTrafficType = ec2.FlowLogTrafficType.ALL
    single_nat_gateways: int = 1
    nat_instance_type: str = "t4g.nano"


@dataclass(frozen=True)
class NetworkLayoutSettings:
    """What a NetworkLayout sets: the three network props that decide most of a VPC's bill."""

    nat: NatStrategy
    max_azs: int
    interface_endpoints: tuple[str, ...]


SECURITY_ENDPOINTS = ("secretsmanager",)
"""The interface endpoints security asks for: the one API call whose payload is a credential (the
provider secret). docs/network-costs.md gives the evidence, endpoint by endpoint."""
CODE_ENDPOINTS = ("sqs", "secretsmanager", "kms", "logs", "events", "monitoring")
"""Every AWS API the functions and workers call that has an interface endpoint (S3 and DynamoDB use the
free gateway endpoints)."""

NETWORK_LAYOUTS: dict[NetworkLayout, NetworkLayoutSettings] = {
    NetworkLayout.NAT_INSTANCE: NetworkLayoutSettings(NatStrategy.INSTANCE, 2, ()),
    NetworkLayout.TWO_AZ: NetworkLayoutSettings(NatStrategy.GATEWAY_PER_AZ, 2, SECURITY_ENDPOINTS),
    NetworkLayout.TWO_AZ_NO_ENDPOINTS: NetworkLayoutSettings(NatStrategy.GATEWAY_PER_AZ, 2, ()),
    NetworkLayout.THREE_AZ: NetworkLayoutSettings(NatStrategy.GATEWAY_PER_AZ, 3, SECURITY_ENDPOINTS),
    NetworkLayout.LOCKED_DOWN: NetworkLayoutSettings(NatStrategy.GATEWAY_PER_AZ, 3, CODE_ENDPOINTS),
}


def layout_settings(layout: NetworkLayout) -> dict[str, object]:
    """``{nat, max_azs, interface_endpoints}`` of ``layout``, as NetworkDefaults fields."""
    settings = NETWORK_LAYOUTS[layout]
    return {"nat": settings.nat, "max_azs": settings.max_azs, "interface_endpoints": settings.interface_endpoints}


@dataclass(frozen=True)
class AuditDefaults:
    """AuditBucket."""

    lock_mode: AuditLockMode
    retention_days: int
    glacier_after_days: int = 30
    deep_archive_after_days: int = 180
    noncurrent_version_expiration_days: int = 30
    abort_incomplete_upload_days: int = 7
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN  # audit trails outlive stacks, in every profile


@dataclass(frozen=True)
class PaymentApiDefaults:
    """SecurePaymentApi."""

    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    deletion_protection: bool
    backup_plan: bool
    cache_size_gb: Optional[str]
    """API Gateway cache size (``0.5``, ``1.6``...), or None for no cache."""
    reserved_concurrency: Optional[int]
    waf_logging: bool = True
    waf_managed_rule_groups: tuple[str, ...] = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet")
    """Rate rule + these = 3 WAF rules in dev ($8/month): XSS (common set) and SQLi stay at the edge."""
    authorization: PaymentApiAuthorization = PaymentApiAuthorization.IAM
    memory_size: int = 512
    throttling_rate_limit: int = 50
    throttling_burst_limit: int = 100
    waf_rate_limit: Optional[int] = None
    """None: the stage's steady rate over WAF's 5-minute window (``throttling_rate_limit`` x 300), so that a
    merchant's backend behind one NAT address can use the whole stage rate before WAF blocks it."""
    max_receive_count: int = 3
    settlement_max_concurrency: int = 5
    """Event handler invocations the queue may run at once: half a new account's 10, so a backlog
    never throttles the API (raise it with the account's Lambda quota)."""
    rotation_days: int = 30
    configure_api_gateway_account: bool = True
    powertools_layer_version: Optional[int] = None
    """None: the layer of the Powertools release the library is tested with (functions.POWERTOOLS_VERSION)."""
    latency_alarm_threshold: Duration = field(default_factory=lambda: Duration.seconds(2))
    resilience: ResilienceTier = ResilienceTier.SINGLE_REGION
    """One region in both profiles: a second region doubles part of the bill (docs/regions.md)."""
    webhook_rotation_days: int = 90
    """Each merchant's webhook signing secret is rotated this often (the old one verifies for a day more)."""


@dataclass(frozen=True)
class WorkerDefaults:
    """PaymentWorkerFleet."""

    min_capacity: int
    max_capacity: int
    on_demand_base_capacity: int
    spot_percentage_above_base: int
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    spot: bool = True
    architecture: ec2.InstanceArchitecture = ec2.InstanceArchitecture.ARM_64
    cpu_target_percent: int = 60
    memory_target_percent: int = 70
    backlog_per_instance: int = 100
    root_volume_size_gb: int = 16


@dataclass(frozen=True)
class ComplianceDefaults:
    """ComplianceBaseline."""

    required_tags: tuple[str, ...] = ("application", "cost-center", "environment")
    enforce_required_tags: bool = True
    create_recorder: bool = False
    account_has_recorder: bool = False
    create_guardduty_detector: bool = False
    enable_security_hub: bool = False
    pci_dss_standard_versions: tuple[str, ...] = ("4.0.1",)  # 3.2.1 was retired on 31 March 2024
    guardduty_min_severity: float = 7.0
    anomaly_monitor: CostAnomalyMonitor = CostAnomalyMonitor.NONE
    cost_tag_key: str = "application"
    cost_tag_value: str = "cdk-payments"
    anomaly_threshold_usd: float = 10
    monthly_budget_usd: float = 50
    budget_actual_percent: float = 80
    budget_forecast_percent: float = 100


@dataclass(frozen=True)
class DashboardDefaults:
    """PaymentDashboards."""

    combined: bool
    """One dashboard with three sections: a dashboard costs $3/month past an account's first three."""
    period: Duration = field(default_factory=lambda: Duration.minutes(5))


@dataclass(frozen=True)
class ProfileDefaults:
    """The defaults one profile gives every construct."""

    network: NetworkDefaults
    audit: AuditDefaults
    payment_api: PaymentApiDefaults
    workers: WorkerDefaults
    dashboards: DashboardDefaults
    compliance: ComplianceDefaults = ComplianceDefaults()


_DEV = ProfileDefaults(
    network=NetworkDefaults(**layout_settings(NetworkLayout.NAT_INSTANCE),  # type: ignore[arg-type]
                            flow_log_retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY),
    audit=AuditDefaults(lock_mode=AuditLockMode.GOVERNANCE, retention_days=365),
    payment_api=PaymentApiDefaults(log_retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY,
                                   deletion_protection=False, backup_plan=False, cache_size_gb=None,
                                   # Opt-in in every profile: Lambda keeps 100 unreserved and new accounts have
                                   # a quota of 10, so reserving N per function needs a quota of 2 * N + 100.
                                   reserved_concurrency=None),
    workers=WorkerDefaults(min_capacity=0, max_capacity=2, on_demand_base_capacity=0, spot_percentage_above_base=100,
                           log_retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY),
    dashboards=DashboardDefaults(combined=True),
)

PROFILE_DEFAULTS: dict[Profile, ProfileDefaults] = {
    Profile.DEV: _DEV,
    Profile.PROD: replace(
        _DEV,
        # Multi-AZ with the endpoints security needs and no more (docs/network-costs.md).
        network=replace(_DEV.network, **layout_settings(NetworkLayout.TWO_AZ),  # type: ignore[arg-type]
                        flow_log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN),
        audit=replace(_DEV.audit, lock_mode=AuditLockMode.COMPLIANCE, retention_days=365 * 7),
        payment_api=replace(_DEV.payment_api, log_retention=logs.RetentionDays.ONE_YEAR,
                            removal_policy=RemovalPolicy.RETAIN, deletion_protection=True, backup_plan=True,
                            cache_size_gb="0.5",
                            waf_managed_rule_groups=("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                                                     "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList")),
        workers=replace(_DEV.workers, min_capacity=1, max_capacity=6, on_demand_base_capacity=1,
                        spot_percentage_above_base=50, log_retention=logs.RetentionDays.ONE_YEAR,
                        removal_policy=RemovalPolicy.RETAIN),
        dashboards=DashboardDefaults(combined=False),
    ),
}


def defaults_for(profile: Profile) -> ProfileDefaults:
    """The defaults of ``profile``; raises ``ValueError`` for anything that is not a Profile."""
    if not isinstance(profile, Profile):
        allowed = ", ".join(f"Profile.{p.name}" for p in Profile)
        raise ValueError(f"profile: expected one of {allowed}, got {profile!r}")
    return PROFILE_DEFAULTS[profile]
