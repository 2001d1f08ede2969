"""SecurePaymentApi's props: validated all at once, checked against the defaults they override, and
resolved with the profile's defaults into one frozen :class:`PaymentApiSettings` that the builders read.

As Solutions Constructs' ``consolidateProps`` and ``flagOverriddenDefaults`` do, this is the one place
where a user's value meets its default: the override warnings are raised here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence
from urllib.parse import urlsplit

from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._overrides import flag_overridden_defaults
from .._validation import WORKLOAD_SUBNETS_HINT, PropErrors, pick
from ..choices import PaymentApiAuthorization, ResilienceTier
from ..profiles import PaymentApiDefaults, Profile, defaults_for
from . import resilience as tiers
from .adapter import ProviderAdapter
from .overrides import payment_api_overrides
from .waf import MANAGED_RULE_GROUPS, WINDOW_SECONDS

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "runtime" / "payment_request.schema.json"
MERCHANT_ID = re.compile(json.loads(SCHEMA_FILE.read_text())["properties"]["merchant_id"]["pattern"])
# The processor's environment holds the merchant map; Lambda allows 4 KB for all variables.
MERCHANT_MAP_BUDGET = 2500
WEBHOOK_MAP_BUDGET = 3500
DEFAULT_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
# The props whose override can weaken a default (payment_api_overrides judges each).
OVERRIDABLE = ("waf_managed_rule_groups", "waf_logging", "waf_rate_limit", "throttling_rate_limit",
               "throttling_burst_limit", "deletion_protection", "backup_plan", "log_retention",
               "cors_allowed_origins", "rotation_days", "configure_api_gateway_account", "webhook_rotation_days")


@dataclass(frozen=True, kw_only=True)
class PaymentApiProps:
    """The props as given (None: the profile's default); see ``SecurePaymentApi`` for each one."""

    profile: Profile = Profile.DEV
    vpc: Optional[ec2.IVpc] = None
    vpc_subnets: Optional[ec2.SubnetSelection] = None
    encryption_key: Optional[kms.IKey] = None
    existing_table: Optional[dynamodb.ITable] = None
    alarm_topic: Optional[sns.ITopic] = None
    event_bus: Optional[events.IEventBus] = None
    authorization: Optional[PaymentApiAuthorization] = None
    user_pool: Optional[cognito.IUserPool] = None
    merchants: Optional[Sequence[str]] = None
    merchant_roles: Optional[Mapping[str, iam.IRole]] = None
    throttling_rate_limit: Optional[int] = None
    throttling_burst_limit: Optional[int] = None
    waf_rate_limit: Optional[int] = None
    waf_logging: Optional[bool] = None
    waf_managed_rule_groups: Optional[Sequence[str]] = None
    memory_size: Optional[int] = None
    reserved_concurrency: Optional[int] = None
    max_receive_count: Optional[int] = None
    settlement_max_concurrency: Optional[int] = None
    log_retention: Optional[logs.RetentionDays] = None
    cors_allowed_origins: Optional[Sequence[str]] = None
    cache_size_gb: Optional[str] = None
    provider_adapter: Optional[ProviderAdapter] = None
    rotation_function: Optional[lambda_.IFunction] = None
    rotation_days: Optional[int] = None
    deletion_protection: Optional[bool] = None
    backup_plan: Optional[bool] = None
    configure_api_gateway_account: Optional[bool] = None
    powertools_layer_version: Optional[int] = None
    latency_alarm_threshold: Optional[Duration] = None
    webhook_endpoints: Optional[Mapping[str, str]] = None
    webhook_rotation_days: Optional[int] = None
    resilience: Optional[ResilienceTier] = None
    backup_copy_vault: Optional[backup.IBackupVault] = None
    standby_region: Optional[str] = None
    standby_encryption_key: Optional[kms.IKey] = None
    peer_regions: Optional[Mapping[str, kms.IKey]] = None
    witness_region: Optional[str] = None
    global_table_name: Optional[str] = None
    domain_name: Optional[str] = None
    hosted_zone: Optional[route53.IHostedZone] = None


@dataclass(frozen=True, kw_only=True)
class PaymentApiSettings:
    """Every prop with its default applied: what the builders read, never the raw props."""

    defaults: PaymentApiDefaults
    authorization: PaymentApiAuthorization
    vpc: Optional[ec2.IVpc]
    vpc_subnets: Optional[ec2.SubnetSelection]
    """None without ``vpc``."""
    encryption_key: Optional[kms.IKey]
    existing_table: Optional[dynamodb.ITable]
    alarm_topic: Optional[sns.ITopic]
    event_bus: Optional[events.IEventBus]
    user_pool: Optional[cognito.IUserPool]
    merchants: tuple[str, ...]
    merchant_roles: Mapping[str, iam.IRole]
    throttling_rate_limit: int
    throttling_burst_limit: int
    waf_rate_limit: int
    waf_logging: bool
    waf_managed_rule_groups: tuple[str, ...]
    memory_size: int
    reserved_concurrency: Optional[int]
    max_receive_count: int
    settlement_max_concurrency: int
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    cors_allowed_origins: tuple[str, ...]
    cache_size_gb: Optional[str]
    """None: no cache (always with IAM, see ``SecurePaymentApi``)."""
    provider_adapter: ProviderAdapter
    rotation_function: Optional[lambda_.IFunction]
    rotation_days: int
    deletion_protection: bool
    backup_plan: bool
    configure_api_gateway_account: bool
    powertools_layer_version: Optional[int]
    latency_alarm_threshold: Duration
    webhook_endpoints: Mapping[str, str]
    """Empty: no webhooks."""
    webhook_rotation_days: int
    resilience: ResilienceTier
    backup_copy_vault: Optional[backup.IBackupVault]
    """None: no copies in a second region."""
    standby_region: Optional[str]
    """None: no replica of the table (every tier but warm standby)."""
    standby_encryption_key: Optional[kms.IKey]
    peer_regions: Mapping[str, kms.IKey]
    """Empty: no peers (every tier but active-active, and an active-active peer itself)."""
    witness_region: Optional[str]
    global_table_name: Optional[str]
    """None: the name derived from the construct's path (store.global_table_name)."""
    domain_name: Optional[str]
    """None: the API is reached at its execute-api URL only."""
    hosted_zone: Optional[route53.IHostedZone]

    @classmethod
    def resolve(cls, scope: Construct, props: PaymentApiProps) -> "PaymentApiSettings":
        """Validate every prop (one ``ValueError`` naming all bad ones), warn on ``scope`` for each
        override that weakens a default, and apply the profile's defaults."""
        defaults = defaults_for(props.profile).payment_api
        auth = pick(props.authorization, defaults.authorization)
        _validate(scope, props, auth, defaults)
        flag_overridden_defaults(scope, payment_api_overrides(
            defaults, {prop: getattr(props, prop) for prop in OVERRIDABLE}))
        rate = pick(props.throttling_rate_limit, defaults.throttling_rate_limit)
        return cls(
            defaults=defaults, authorization=auth, vpc=props.vpc,
            vpc_subnets=pick(props.vpc_subnets, DEFAULT_SUBNETS) if props.vpc else None,
            encryption_key=props.encryption_key, existing_table=props.existing_table,
            alarm_topic=props.alarm_topic, event_bus=props.event_bus, user_pool=props.user_pool,
            merchants=tuple(props.merchants or ()), merchant_roles=dict(props.merchant_roles or {}),
            throttling_rate_limit=rate,
            throttling_burst_limit=pick(props.throttling_burst_limit, defaults.throttling_burst_limit),
            # Per IP, no lower than the stage allows everyone: one NAT address may carry a merchant's whole traffic.
            waf_rate_limit=pick(props.waf_rate_limit, defaults.waf_rate_limit) or rate * WINDOW_SECONDS,
            waf_logging=pick(props.waf_logging, defaults.waf_logging),
            waf_managed_rule_groups=tuple(pick(props.waf_managed_rule_groups, defaults.waf_managed_rule_groups)),
            memory_size=pick(props.memory_size, defaults.memory_size),
            reserved_concurrency=pick(props.reserved_concurrency, defaults.reserved_concurrency),
            max_receive_count=pick(props.max_receive_count, defaults.max_receive_count),
            settlement_max_concurrency=pick(props.settlement_max_concurrency, defaults.settlement_max_concurrency),
            log_retention=pick(props.log_retention, defaults.log_retention), removal_policy=defaults.removal_policy,
            cors_allowed_origins=tuple(props.cors_allowed_origins or ()),
            # Reads are cached per caller credential; SigV4 signatures differ on every request (and can
            # travel in the query string), so with IAM a cache could serve nobody safely: none.
            cache_size_gb=None if auth is PaymentApiAuthorization.IAM
            else pick(props.cache_size_gb, defaults.cache_size_gb) or None,
            provider_adapter=props.provider_adapter or ProviderAdapter.sandbox(),
            rotation_function=props.rotation_function,
            rotation_days=pick(props.rotation_days, defaults.rotation_days),
            deletion_protection=pick(props.deletion_protection, defaults.deletion_protection),
            backup_plan=pick(props.backup_plan, defaults.backup_plan),
            configure_api_gateway_account=pick(props.configure_api_gateway_account,
                                               defaults.configure_api_gateway_account),
            powertools_layer_version=pick(props.powertools_layer_version, defaults.powertools_layer_version),
            latency_alarm_threshold=pick(props.latency_alarm_threshold, defaults.latency_alarm_threshold),
            webhook_endpoints=dict(props.webhook_endpoints or {}),
            webhook_rotation_days=pick(props.webhook_rotation_days, defaults.webhook_rotation_days),
            resilience=pick(props.resilience, defaults.resilience), backup_copy_vault=props.backup_copy_vault,
            standby_region=props.standby_region, standby_encryption_key=props.standby_encryption_key,
            peer_regions=dict(props.peer_regions or {}), witness_region=props.witness_region,
            global_table_name=props.global_table_name, domain_name=props.domain_name, hosted_zone=props.hosted_zone,
        )

    @property
    def replica_keys(self) -> Mapping[str, kms.IKey]:
        """The other regions of the global table this API makes, each with its replica's key: the standby's, or
        the peers'. Empty: the table is not a global table made here."""
        if self.standby_region and self.standby_encryption_key is not None:
            return {self.standby_region: self.standby_encryption_key}
        return dict(self.peer_regions)


def _validate(scope: Construct, props: PaymentApiProps, auth: PaymentApiAuthorization,
              defaults: PaymentApiDefaults) -> None:
    errors = PropErrors("SecurePaymentApi")
    errors.check_enum(props.authorization, "authorization", PaymentApiAuthorization)
    for prop, interface, attribute in (
        ("vpc", "ec2.IVpc", "vpc_id"), ("encryption_key", "kms.IKey", "key_arn"),
        ("existing_table", "dynamodb.ITable", "table_name"), ("alarm_topic", "sns.ITopic", "topic_arn"),
        ("event_bus", "events.IEventBus", "event_bus_name"), ("user_pool", "cognito.IUserPool", "user_pool_id"),
        ("rotation_function", "lambda.IFunction", "function_arn"),
    ):
        errors.check_implements(getattr(props, prop), prop, interface, attribute, required=False)
    errors.check_type(props.vpc_subnets, "vpc_subnets", ec2.SubnetSelection)
    adapter = props.provider_adapter
    if errors.check_type(adapter, "provider_adapter", ProviderAdapter) and adapter is not None:
        for problem in adapter.problems():
            errors.add("provider_adapter", problem)
    errors.check_type(props.latency_alarm_threshold, "latency_alarm_threshold", Duration)
    errors.check_sequence(props.cors_allowed_origins, "cors_allowed_origins", str, "['https://shop.example']")
    errors.check_sequence(props.merchants, "merchants", str, "['merchant-1', 'merchant-2']")
    if errors.check_sequence(props.waf_managed_rule_groups, "waf_managed_rule_groups", str,
                             "['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesSQLiRuleSet']"):
        for group in props.waf_managed_rule_groups or ():
            errors.check_choice(group, "waf_managed_rule_groups", MANAGED_RULE_GROUPS)
    errors.check_enum(props.log_retention, "log_retention", logs.RetentionDays)
    errors.check_int(props.throttling_rate_limit, "throttling_rate_limit", minimum=1, maximum=10_000)
    errors.check_int(props.throttling_burst_limit, "throttling_burst_limit", minimum=1, maximum=5_000)
    errors.check_int(props.waf_rate_limit, "waf_rate_limit", minimum=100, maximum=20_000_000)
    errors.check_int(props.memory_size, "memory_size", minimum=128, maximum=10_240)
    errors.check_int(props.reserved_concurrency, "reserved_concurrency", minimum=1, maximum=1000)
    errors.check_int(props.max_receive_count, "max_receive_count", minimum=1, maximum=1000)
    errors.check_int(props.settlement_max_concurrency, "settlement_max_concurrency", minimum=2, maximum=1000)
    errors.check_int(props.rotation_days, "rotation_days", minimum=1, maximum=365)
    errors.check_int(props.webhook_rotation_days, "webhook_rotation_days", minimum=1, maximum=365)
    errors.check_int(props.powertools_layer_version, "powertools_layer_version", minimum=1)
    for flag in ("waf_logging", "deletion_protection", "backup_plan", "configure_api_gateway_account"):
        errors.check_type(getattr(props, flag), flag, bool)
    if errors.check_choice(props.cache_size_gb, "cache_size_gb",
                           ["", "0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"]):
        errors.check(not props.cache_size_gb or auth is not PaymentApiAuthorization.IAM, "cache_size_gb",
                     "has no effect with PaymentApiAuthorization.IAM: reads are cached per caller credential, "
                     "and every SigV4 signature differs; leave it unset or use COGNITO or API_KEY")
    errors.check(auth is not PaymentApiAuthorization.COGNITO or props.user_pool is not None, "user_pool",
                 "is required with PaymentApiAuthorization.COGNITO")
    errors.check(props.user_pool is None or auth is PaymentApiAuthorization.COGNITO, "user_pool",
                 "is used only with PaymentApiAuthorization.COGNITO")
    merchants = props.merchants
    errors.check(auth is not PaymentApiAuthorization.API_KEY or bool(merchants), "merchants",
                 "at least one merchant id is required with PaymentApiAuthorization.API_KEY")
    errors.check(not merchants or auth is PaymentApiAuthorization.API_KEY, "merchants",
                 "is used only with PaymentApiAuthorization.API_KEY")
    if isinstance(merchants, (list, tuple)):
        _check_merchant_ids(errors, "merchants", merchants)
        errors.check(len(set(merchants)) == len(merchants), "merchants", "must not repeat a merchant id")
        # Each entry of {"merchant": "10-char key id"} takes its id's length plus 16 bytes of JSON.
        size = sum(len(str(m)) + 16 for m in merchants)
        errors.check(size <= MERCHANT_MAP_BUDGET, "merchants",
                     f"the merchant-to-key map must fit the function's environment ({size} of at most "
                     f"{MERCHANT_MAP_BUDGET} bytes); use PaymentApiAuthorization.COGNITO for more merchants")
    roles = props.merchant_roles
    errors.check(not roles or auth is PaymentApiAuthorization.IAM, "merchant_roles",
                 "is used only with PaymentApiAuthorization.IAM")
    if roles is not None and errors.check(isinstance(roles, Mapping) and all(hasattr(r, "role_arn")
                                                                               for r in roles.values()),
                                          "merchant_roles", "expected a mapping {merchant id: iam.IRole}"):
        _check_merchant_ids(errors, "merchant_roles", list(roles))
        arns = [r.role_arn for r in roles.values()]
        known = [a for a in arns if not Token.is_unresolved(a)]
        errors.check(len({id(r) for r in roles.values()}) == len(roles) and len(set(known)) == len(known),
                     "merchant_roles", "each role identifies one merchant: give each merchant its own role")
        # A role ARN known only at deploy time is at most 31 + 64 characters without a path.
        size = sum(len(str(m)) + 6 + (95 if Token.is_unresolved(a) else len(a)) for m, a in zip(roles, arns, strict=True))
        errors.check(size <= MERCHANT_MAP_BUDGET, "merchant_roles",
                     f"the merchant-to-role map must fit the function's environment (about {size} of at most "
                     f"{MERCHANT_MAP_BUDGET} bytes); use PaymentApiAuthorization.COGNITO for more merchants")
    errors.check(props.vpc_subnets is None or props.vpc is not None, "vpc_subnets", "needs vpc")
    errors.check_unique(merchants, "merchants")
    origins = props.cors_allowed_origins
    if errors.check(not isinstance(origins, (list, tuple)) or all(isinstance(o, str) for o in origins),
                    "cors_allowed_origins", f"must be origins such as 'https://shop.example' (or '*'), got {origins!r}"):
        for origin in origins or () if isinstance(origins, (list, tuple)) else ():
            if origin != "*":
                errors.check_format(origin, "cors_allowed_origins", "origin")
    errors.check_subnets(props.vpc, pick(props.vpc_subnets, DEFAULT_SUBNETS), WORKLOAD_SUBNETS_HINT)
    existing = "existing_table"
    if getattr(props, existing) is not None:
        why = "the table is yours, so its settings are too"
        errors.check_not_with(props.deletion_protection, "deletion_protection", existing, why)
        errors.check_not_with(props.backup_plan, "backup_plan", existing, why + " (back it up where it is defined)")
    _check_webhook_endpoints(errors, props.webhook_endpoints)
    rate, burst = props.throttling_rate_limit, props.throttling_burst_limit
    if isinstance(rate, int) and isinstance(burst, int):
        errors.check(burst >= rate, "throttling_burst_limit", f"must be at least throttling_rate_limit ({rate})")
    _check_domain(errors, props.domain_name, props.hosted_zone)
    tiers.check(errors, scope, props, defaults.resilience)
    errors.raise_if_any()


def _check_domain(errors: PropErrors, name: object, zone: object) -> None:
    errors.check_implements(zone, "hosted_zone", "route53.IHostedZone", "hosted_zone_id", required=False)
    errors.check((name is None) == (zone is None), "domain_name" if name is None else "hosted_zone",
                 "domain_name and hosted_zone go together: the certificate is validated, and the name published, "
                 "in the zone")
    if not errors.check_format(name, "domain_name", "hostname") or name is None or zone is None \
            or Token.is_unresolved(name):
        return
    try:
        zone_name = getattr(zone, "zone_name", None)
    except Exception:  # noqa: BLE001 - HostedZone.from_hosted_zone_id raises on zone_name
        errors.add("hosted_zone", "has no zone name, which the alias record needs: import it with "
                                  "route53.HostedZone.from_hosted_zone_attributes(scope, 'Zone', hosted_zone_id=..., "
                                  "zone_name=...)")
        return
    if isinstance(zone_name, str) and not Token.is_unresolved(zone_name):
        zone_name = zone_name.rstrip(".")
        errors.check(name == zone_name or name.endswith("." + zone_name), "domain_name",
                     f"{name} is not in hosted_zone ({zone_name})")


def _check_merchant_ids(errors: PropErrors, prop: str, merchant_ids: Sequence[object]) -> None:
    bad = [m for m in merchant_ids if not (isinstance(m, str) and MERCHANT_ID.fullmatch(m))]
    errors.check(not bad, prop, f"merchant ids are 1 to 64 of letters, digits, - and _; got {bad!r}")


def _check_webhook_endpoints(errors: PropErrors, endpoints: object) -> None:
    if endpoints is None:
        return
    if not errors.check(isinstance(endpoints, Mapping) and all(isinstance(u, str) for u in endpoints.values()),
                        "webhook_endpoints", "expected a mapping {merchant id: 'https://...'}"):
        return
    _check_merchant_ids(errors, "webhook_endpoints", list(endpoints))
    for url in endpoints.values():
        if errors.check_format(url, "webhook_endpoints", "https_url"):
            host = urlsplit(url).hostname or ""
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                continue
            errors.check(address.is_global, "webhook_endpoints",
                         f"{url} names a private, loopback, link-local or reserved address; webhooks go to public "
                         "HTTPS endpoints only")
    # Each entry of {"merchant": "<secret ARN>"} takes its id's length plus about 110 bytes of ARN and JSON.
    size = sum(len(str(m)) + 110 for m in endpoints)
    errors.check(size <= WEBHOOK_MAP_BUDGET, "webhook_endpoints",
                 f"the merchant-to-secret map must fit the delivery function's environment ({size} of at most "
                 f"{WEBHOOK_MAP_BUDGET} bytes): at most about 25 merchants")
