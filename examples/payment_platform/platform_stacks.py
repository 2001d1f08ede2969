"""Every stack of the example in one place: ``build_platform`` makes them in an app (``app.py``) or in a
``cdk.Stage`` (``PaymentPlatformStage``, for CDK Pipelines: ``examples/pipeline``), with the same stack ids,
stack names and physical names in both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import aws_cdk as cdk
from audit_replica import AuditReplica
from aws_cdk import aws_iam as iam
from constructs import Construct, Node
from payment_platform import PaymentPlatform
from standby_platform import StandbyPlatform

from cdk_payments import AccountTrailMode, NetworkLayout, Profile, ProviderAdapter, ResilienceTier


@dataclass(frozen=True)
class PlatformStacks:
    """What ``build_platform`` made: the platform, prod's audit replica in its own region, and with warm standby
    the standby platform there (with active-active, the peer platform)."""

    platform: PaymentPlatform
    audit_replica: Optional[AuditReplica] = None
    standby: Optional[StandbyPlatform] = None

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [s for s in (self.audit_replica, self.platform, self.standby) if s is not None]


def build_platform(
    scope: Construct,
    *,
    profile: Profile,
    cost_center: str,
    stack_id: Optional[str] = None,
    replica_region: Optional[str] = None,
    replica_generation: Optional[int] = None,
    provider_adapter: Optional[ProviderAdapter] = None,
    network_layout: Optional[NetworkLayout] = None,
    account_trail: Optional[AccountTrailMode] = None,
    alert_email: Optional[str] = None,
    alert_https_endpoint: Optional[str] = None,
    finding_sources: str = "existing",
    resilience: ResilienceTier = ResilienceTier.SINGLE_REGION,
    webhook_endpoints: Optional[Mapping[str, str]] = None,
    smoke_test_principal: Optional[iam.IPrincipal] = None,
    primary_region: Optional[str] = None,
    domain_name: Optional[str] = None,
    hosted_zone_id: Optional[str] = None,
    zone_name: Optional[str] = None,
    witness_region: Optional[str] = None,
) -> PlatformStacks:
    """The example's stacks in ``scope`` (an app or a Stage), each named after its id.

    :param stack_id: the platform stack's id and name. Default: ``PaymentPlatform-<profile>``; prod's audit
        replica is ``<stack_id>-audit-replica``, in ``replica_region``, deployed first.
    :param replica_generation: names a new replica bucket after a destroy (the kept one holds its name).
    :param smoke_test_principal: who may assume the stack's ``SmokeTestRole`` to run ``cdk-payments smoke``
        after a deploy (a pipeline's account). Default: no such role
    :param primary_region: place the platform stack in this region (warm standby needs it: a global table names
        its regions). Default: environment-agnostic
    :param domain_name: serve the API under this name of the public zone ``hosted_zone_id``/``zone_name``; with
        warm standby the standby (``<stack_id>-standby``, in ``replica_region``, deployed last) answers under it
        when the primary's health check fails; with active-active the peer (``<stack_id>-peer``, in
        ``replica_region``, deployed last) answers under it too, for the clients it is nearer to.
    :param witness_region: active-active's third region, which only witnesses the table's writes.

    The other keywords are :class:`PaymentPlatform`'s. Inside a Stage CDK would name a stack
    ``<stage>-<id>``; every stack here keeps its id as its name instead, so that a deployed app moves into a
    pipeline as it is (the pipeline updates the same stacks, and every physical name that derives from a
    stack name stays). The price: two Stages of one profile in one account and region would share stacks,
    so give the second another ``stack_id``.
    """
    stack_id = stack_id or f"PaymentPlatform-{profile.value}"
    audit_replica = None
    if replica_region:
        replica_id = f"{stack_id}-audit-replica"
        # With backup and restore, the replica's region also holds the vault the table's backups are copied to.
        audit_replica = AuditReplica(scope, replica_id, stack_name=replica_id, region=replica_region,
                                     backup_vault=resilience is ResilienceTier.BACKUP_AND_RESTORE,
                                     generation=replica_generation,
                                     description="cdk-payments example: cross-region audit replica")
    platform = PaymentPlatform(
        scope, stack_id, stack_name=stack_id, profile=profile, cost_center=cost_center, audit_replica=audit_replica,
        env=cdk.Environment(region=primary_region) if primary_region else None, domain_name=domain_name,
        hosted_zone_id=hosted_zone_id, zone_name=zone_name, witness_region=witness_region,
        provider_adapter=provider_adapter, network_layout=network_layout, account_trail=account_trail,
        alert_email=alert_email, alert_https_endpoint=alert_https_endpoint, finding_sources=finding_sources,
        resilience=resilience, webhook_endpoints=webhook_endpoints, smoke_test_principal=smoke_test_principal,
        description=f"cdk-payments example payment platform ({profile.value} profile)",
    )
    standby = None
    if resilience in (ResilienceTier.WARM_STANDBY, ResilienceTier.ACTIVE_ACTIVE) and audit_replica is not None:
        active = resilience is ResilienceTier.ACTIVE_ACTIVE
        standby_id = f"{stack_id}-peer" if active else f"{stack_id}-standby"
        standby = StandbyPlatform(
            scope, standby_id, stack_name=standby_id, primary=platform, audit_replica=audit_replica,
            resilience=resilience,
            merchant_role_names=platform.merchant_role_names, provider_adapter=provider_adapter,
            network_layout=network_layout, alert_email=alert_email, alert_https_endpoint=alert_https_endpoint,
            domain_name=domain_name, hosted_zone_id=hosted_zone_id, zone_name=zone_name, cost_center=cost_center,
            description="cdk-payments example: " + ("active-active peer" if active else "warm standby") +
                        " payment API")
    return PlatformStacks(platform, audit_replica, standby)


# `-c provider=http` authorizes through the generic HTTPS adapter (set base_url and api_key in the secret).
PROVIDERS = {"sandbox": ProviderAdapter.sandbox, "http": ProviderAdapter.http}
DEFAULT_WEBHOOKS = {"demo-merchant": "https://webhooks.demo-merchant.example/payments"}


def settings_from_context(node: Node) -> dict[str, Any]:
    """``build_platform``'s keywords from the app's context (cdk.json, ``-c key=value``); every bad value at once."""
    context = node.try_get_context
    profile = Profile.parse(context("profile"))
    provider = context("provider") or "sandbox"
    # `-c networkLayout=three-az` (or two-az-no-endpoints, locked-down...) instead of the profile's network.
    layout = context("networkLayout")
    # The sandbox approves any token: a prod stack with it would take "payments" that no provider saw.
    sandbox_allowed = str(context("allowSandboxInProd")).lower() == "true"
    errors = []
    if provider not in PROVIDERS:
        errors.append(f"provider: unknown provider {provider!r}; allowed: {', '.join(PROVIDERS)}")
    elif profile is Profile.PROD and provider == "sandbox" and not sandbox_allowed:
        errors.append("provider: the prod profile refuses the sandbox adapter, which approves any token; pass "
                      "-c provider=http (and store base_url and api_key in the provider secret), or opt in to the "
                      "sandbox by name with -c allowSandboxInProd=true (a rehearsal, never real payments)")
    if layout and layout not in {choice.value for choice in NetworkLayout}:
        errors.append(f"networkLayout: unknown layout {layout!r}; allowed: "
                      f"{', '.join(c.value for c in NetworkLayout)}")
    # `-c resilience=backup-and-restore` (prod, with auditReplicaRegion) copies the table's backups there (docs/regions.md).
    resilience = context("resilience") or ResilienceTier.SINGLE_REGION.value
    if resilience not in {tier.value for tier in ResilienceTier}:
        errors.append(f"resilience: unknown tier {resilience!r}; allowed: {', '.join(t.value for t in ResilienceTier)}")
    elif resilience != ResilienceTier.SINGLE_REGION.value and not (
            profile is Profile.PROD and context("auditReplicaRegion")):
        errors.append(f"resilience: {resilience} copies to a second region: pass -c profile=prod and "
                      "-c auditReplicaRegion=<region> (the audit replica's region holds the copies)")
    # `-c resilience=warm-standby -c primaryRegion=us-east-1`: the global table names its regions, so the platform
    # stack is placed in one (the standby goes to auditReplicaRegion).
    # `-c resilience=active-active -c primaryRegion=us-east-1 -c witnessRegion=us-west-2`: the peer API goes to
    # auditReplicaRegion (us-east-2), and the three regions are one of DynamoDB's strong-consistency region sets.
    primary_region = context("primaryRegion")
    global_table = resilience in (ResilienceTier.WARM_STANDBY.value, ResilienceTier.ACTIVE_ACTIVE.value)
    if global_table and not primary_region:
        errors.append(f"primaryRegion: {resilience} needs the platform's region (-c primaryRegion=us-east-1): a global "
                      "table names its regions")
    elif primary_region and primary_region == context("auditReplicaRegion"):
        errors.append(f"primaryRegion: is the audit replica's region ({primary_region}): the standby must be elsewhere")
    witness_region = context("witnessRegion")
    if resilience == ResilienceTier.ACTIVE_ACTIVE.value and not witness_region:
        errors.append("witnessRegion: active-active needs a third region that witnesses each write "
                      "(-c witnessRegion=us-west-2 beside us-east-1 and us-east-2)")
    elif witness_region and resilience != ResilienceTier.ACTIVE_ACTIVE.value:
        errors.append("witnessRegion: is used only with -c resilience=active-active")
    # `-c domainName=pay.example.com -c hostedZoneId=Z... -c hostedZoneName=example.com`: the API under its own name.
    domain = {key: context(key) for key in ("domainName", "hostedZoneId", "hostedZoneName")}
    if any(domain.values()) and not all(domain.values()):
        errors.append("domainName: domainName, hostedZoneId and hostedZoneName go together")
    # After `cdk destroy`, the kept replica bucket keeps its name: `-c auditReplicaGeneration=2` names a new one.
    generation = context("auditReplicaGeneration")
    if generation is not None and not (str(generation).isdigit() and 1 <= int(generation) <= 999):
        errors.append(f"auditReplicaGeneration: expected a whole number from 1 to 999, got {generation!r}")
    # Webhooks to each merchant's HTTPS endpoint: `-c webhookEndpoints=demo-merchant=https://...,second-merchant=...`
    # (or a JSON object), `-c webhookEndpoints=none` for none. The default names a reserved .example host,
    # which never resolves: deliveries are attempted, logged and retried, then dead-lettered (and alarm).
    webhooks = context("webhookEndpoints")
    webhook_endpoints = DEFAULT_WEBHOOKS
    if isinstance(webhooks, dict):
        webhook_endpoints = webhooks
    elif webhooks == "none":
        webhook_endpoints = {}
    elif webhooks:
        pairs = [pair.partition("=") for pair in str(webhooks).split(",")]
        if any(not separator for _, separator, _ in pairs):
            errors.append(f"webhookEndpoints: expected merchant=https://url,... or none, got {webhooks!r}")
        webhook_endpoints = {merchant.strip(): url.strip() for merchant, _, url in pairs}
    if errors:
        raise ValueError("invalid context:\n  - " + "\n  - ".join(errors))
    return dict(
        profile=profile,
        # Prod replicates the audit trail to a stack of its own in another region, deployed first.
        replica_region=context("auditReplicaRegion") if profile is Profile.PROD else None,
        replica_generation=int(generation) if generation is not None else None,
        provider_adapter=PROVIDERS[provider](),
        network_layout=NetworkLayout(layout) if layout else None,
        # `-c accountTrail=existing` (or `none`) where an organization trail already records the account.
        account_trail=AccountTrailMode(context("accountTrail") or "create"),
        # Where every alert goes: `-c alertEmail=you@example.com` (confirm the e-mail SNS sends), and/or HTTPS.
        alert_email=context("alertEmail"),
        alert_https_endpoint=context("alertHttpsEndpoint"),
        # Create the account's finding sources (a fresh account), or `-c findingSources=existing` where they
        # exist (AWS Control Tower; or the second of dev and prod in one account and region).
        finding_sources=context("findingSources") or "create",
        cost_center=context("costCenter"),
        resilience=ResilienceTier(resilience),
        webhook_endpoints=webhook_endpoints,
        primary_region=primary_region,
        witness_region=witness_region,
        domain_name=domain["domainName"],
        hosted_zone_id=domain["hostedZoneId"],
        zone_name=domain["hostedZoneName"],
    )


class PaymentPlatformStage(cdk.Stage):
    """The example's stacks as one deployable unit of a CDK pipeline.

    ``env`` places the platform stack (and the Stage); prod's audit replica goes to ``replica_region`` in the
    same account. Without ``env`` the stacks are environment-agnostic, deployed where the pipeline deploys.
    Stack names and physical names are those of the same stacks built at an app's top level.
    """

    def __init__(self, scope: Construct, id: str, *, env: Optional[cdk.Environment] = None,
                 **platform: Any) -> None:
        super().__init__(scope, id, env=env)
        self.platform_stacks = build_platform(self, **platform)

    @property
    def platform(self) -> PaymentPlatform:
        return self.platform_stacks.platform
