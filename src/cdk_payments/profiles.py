"""Deployment profiles: every cost-versus-resilience default of the library, in one place.

Each construct takes ``profile=Profile.DEV`` (or ``PROD``) and reads its defaults from
:data:`PROFILE_DEFAULTS`; every value can still be overridden by the construct's own props.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs


class Profile(enum.Enum):
    """Which set of defaults a construct starts from."""

    DEV = "dev"
    """Cheapest configuration with the same capabilities: idle cost well under $20/month."""
    PROD = "prod"
    """Resilience first: per-AZ NAT, interface endpoints, backups, deletion protection."""

    @classmethod
    def parse(cls, value: str) -> "Profile":
        """Return the profile named ``value`` (``dev`` or ``prod``), or raise ``ValueError``."""
        try:
            return cls(str(value).lower())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise ValueError(f"profile: unknown profile {value!r}; allowed: {allowed}") from None


class NatStrategy(enum.Enum):
    """How private subnets reach the internet, from most resilient to cheapest."""

    GATEWAY_PER_AZ = "gateway-per-az"
    """One managed NAT gateway per AZ (about $33/month each, plus its public IPv4 address)."""
    SINGLE_GATEWAY = "single-gateway"
    """One managed NAT gateway shared by all AZs (the original design)."""
    INSTANCE = "instance"
    """One Graviton NAT instance (t4g.nano, about $3/month plus its public IPv4 address)."""
    NONE = "none"
    """No NAT: isolated subnets reach AWS only through VPC endpoints."""


@dataclass(frozen=True)
class ProfileDefaults:
    """The defaults one profile gives every construct."""

    max_azs: int
    nat: NatStrategy
    interface_endpoints: tuple[str, ...]
    """Interface endpoint service names (as in ``InterfaceVpcEndpointAwsService``), e.g. ``sqs``."""
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    """For stateful resources other than the audit trail, which is always retained."""
    deletion_protection: bool
    backup_plan: bool
    api_cache_size_gb: Optional[str]
    """API Gateway cache size (``0.5``, ``1.6``...), or None for no cache."""
    reserved_concurrency: Optional[int]
    waf_logging: bool
    fleet_min_capacity: int
    fleet_max_capacity: int
    on_demand_base_capacity: int
    spot_percentage_above_base: int
    audit_retention_days: int
    combined_dashboards: bool


PROFILE_DEFAULTS: dict[Profile, ProfileDefaults] = {
    Profile.DEV: ProfileDefaults(
        max_azs=2,
        nat=NatStrategy.INSTANCE,
        interface_endpoints=(),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
        deletion_protection=False,
        backup_plan=False,
        api_cache_size_gb=None,
        reserved_concurrency=None,
        waf_logging=True,
        fleet_min_capacity=0,
        fleet_max_capacity=2,
        on_demand_base_capacity=0,
        spot_percentage_above_base=100,
        audit_retention_days=365,
        combined_dashboards=True,
    ),
    Profile.PROD: ProfileDefaults(
        max_azs=3,
        nat=NatStrategy.GATEWAY_PER_AZ,
        interface_endpoints=("sqs", "secretsmanager", "kms", "logs", "events", "monitoring"),
        log_retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=RemovalPolicy.RETAIN,
        deletion_protection=True,
        backup_plan=True,
        api_cache_size_gb="0.5",
        reserved_concurrency=100,
        waf_logging=True,
        fleet_min_capacity=1,
        fleet_max_capacity=6,
        on_demand_base_capacity=1,
        spot_percentage_above_base=50,
        audit_retention_days=365 * 7,
        combined_dashboards=False,
    ),
}


def defaults_for(profile: Profile) -> ProfileDefaults:
    """The defaults of ``profile``; raises ``ValueError`` for anything that is not a Profile."""
    if not isinstance(profile, Profile):
        allowed = ", ".join(f"Profile.{p.name}" for p in Profile)
        raise ValueError(f"profile: expected one of {allowed}, got {profile!r}")
    return PROFILE_DEFAULTS[profile]
