"""The enums of the public API, in one module so that profiles.py can use them as defaults."""

from __future__ import annotations

import enum


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


class NetworkLayout(enum.Enum):
    """A whole network choice at once: AZs, NAT and interface endpoints (``CostOptimizedVpc(layout=...)``).

    Monthly figures are the example's idle cost in us-east-1 (docs/cost.md, "Prod network layouts");
    docs/network-costs.md says what each endpoint protects and when it pays for itself."""

    NAT_INSTANCE = "nat-instance"
    """Two AZs, one Graviton NAT instance, no interface endpoints (the dev profile's)."""
    TWO_AZ = "two-az"
    """Two AZs, a NAT gateway in each, and the Secrets Manager endpoint only (the prod profile's):
    multi-AZ, and the provider credential never leaves the VPC."""
    TWO_AZ_NO_ENDPOINTS = "two-az-no-endpoints"
    """Two AZs, a NAT gateway in each, no interface endpoints: the cheapest high-availability layout;
    every AWS API call goes through NAT (TLS, on the AWS network)."""
    THREE_AZ = "three-az"
    """Three AZs, a NAT gateway in each, the Secrets Manager endpoint: loses a third of capacity,
    not half, with an AZ."""
    LOCKED_DOWN = "locked-down"
    """Three AZs, a NAT gateway in each, an endpoint for every AWS API the code calls (sqs,
    secretsmanager, kms, logs, events, monitoring): the 0.1 prod layout."""


class FlowLogDestination(enum.Enum):
    """Where VPC flow logs go."""

    CLOUDWATCH_LOGS = "cloudwatch-logs"
    """A log group owned by the construct, with a retention (and the KMS key, when given)."""
    S3 = "s3"
    """The bucket passed as ``flow_log_bucket`` (the audit bucket, for example)."""
    NONE = "none"
    """No flow logs (not recommended: PCI DSS 10 wants network activity recorded)."""


class AuditLockMode(enum.Enum):
    """S3 Object Lock mode for the audit records' default retention."""

    GOVERNANCE = "governance"
    """Principals with s3:BypassGovernanceRetention can still delete (the dev default)."""
    COMPLIANCE = "compliance"
    """Nobody, the root user included, can delete a record before its retention ends (prod)."""


class PaymentApiAuthorization(enum.Enum):
    """How callers of the payment API authenticate."""

    IAM = "iam"
    """AWS SigV4 with IAM: grant callers ``execute-api:Invoke`` (the default); the caller's role
    names its merchant through ``merchant_roles``."""
    COGNITO = "cognito"
    """A Cognito user pool you pass as ``user_pool``; the ID token's ``custom:merchant_id`` claim
    names the merchant."""
    API_KEY = "api-key"
    """An API key and usage plan per merchant in ``merchants`` (identification and quotas only);
    the key names its merchant."""


class AlertChannel(enum.Enum):
    """The three kinds of alert, each with its own topic and its own publishers."""

    COST = "cost"
    """Budgets, Cost Anomaly Detection and billing alarms."""
    SECURITY = "security"
    """GuardDuty, Security Hub and AWS Config findings routed by EventBridge."""
    OPERATIONS = "operations"
    """CloudWatch alarms of the payment API and the worker fleet."""


class CostAnomalyMonitor(enum.Enum):
    """Which Cost Anomaly Detection monitor ``ComplianceBaseline`` creates (Cost Explorer lives in
    us-east-1, so a monitor is created only in a us-east-1 stack)."""

    NONE = "none"
    """No monitor (the default): every monitor type is either an account singleton or needs the
    management account; subscribe to the one you have with ``existing_anomaly_monitor_arn``."""
    AWS_SERVICES = "aws-services"
    """The account's AWS services monitor (DIMENSIONAL, SERVICE): works in any account without a tag,
    but an account has at most one, so create it only where no other app or console user has."""
    COST_ALLOCATION_TAG = "cost-allocation-tag"
    """A custom monitor of ``cost_tag_key`` = ``cost_tag_value``: only in the management (payer)
    account, and only after that cost allocation tag is activated there (Billing, Cost allocation tags);
    until then it watches nothing."""


class AccountTrailMode(enum.Enum):
    """Whether the account's CloudTrail trail is created here."""

    CREATE = "create"
    """Create a multi-region trail of management events into the audit bucket (a fresh account)."""
    EXISTING = "existing"
    """An organization or platform trail already records the account (AWS Control Tower's does)."""
    NONE = "none"
    """No trail from this app."""



class ResilienceTier(enum.Enum):
    """How much of a region's loss the platform survives, from cheapest to most resilient
    (docs/regions.md gives each tier's RPO, RTO and cost, after AWS's "Disaster Recovery of Workloads
    on AWS" strategies)."""

    SINGLE_REGION = "single-region"
    """One region (the default): point-in-time recovery and, in prod, daily backups in that region.
    A region's loss stops payments until it returns."""
    BACKUP_AND_RESTORE = "backup-and-restore"
    """Daily backups of the table copied to a vault in a second region (``backup_copy_vault``), and
    the audit trail replicated there: RPO up to 24 hours, RTO hours (restore, then deploy)."""
    WARM_STANDBY = "warm-standby"
    """A global table with a replica in a second region (``standby_region``), where a second, running
    API serves it behind Route 53 failover on the primary's health check: RPO seconds (the replication
    lag), RTO minutes."""
    ACTIVE_ACTIVE = "active-active"
    """A global table with multi-Region strong consistency across three regions of one region set (two
    ``peer_regions``, or one and a ``witness_region``), every region's API taking payments behind
    Route 53 latency routing: RPO zero, RTO the health check's minutes, writes slower by the
    cross-region round trip."""
