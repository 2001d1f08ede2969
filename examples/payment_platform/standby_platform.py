"""StandbyPlatform: the second region of warm standby (the standby) or of active-active (the peer), a running
payment API over the primary's table replica."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from audit_replica import AuditReplica
from aws_cdk import Arn, ArnComponents, CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from constructs import Construct
from foundation import Foundation

from cdk_payments import (
    AccountTrailMode,
    AuditBucket,
    NetworkLayout,
    PaymentAuditTrail,
    Profile,
    ProviderAdapter,
    ResilienceTier,
    SecurePaymentApi,
)


class StandbyPlatform(Stack):
    """The payment API in the audit replica's region, serving the primary's table replica
    (``ResilienceTier.WARM_STANDBY``), with its own network, key, provider secret, alert topics and audit
    trail: what the standby needs to take payments when the primary's region cannot. With
    ``ResilienceTier.ACTIVE_ACTIVE`` the same stack is a peer: it takes payments all the time, over a replica
    that is strongly consistent with the primary's, and its record is a latency record beside the primary's.

    It deploys after the primary (``add_dependency``): the replica and the merchant roles are the primary's,
    named at synthesis (a stack in another region cannot reference them). The replica's key is the audit
    replica stack's, by its alias. With ``domain_name`` its record is the SECONDARY of the failover pair (a
    latency record beside the primary's, for a peer). Its payment events are forwarded to the primary's bus,
    whose webhooks and audit trail cover them.
    """

    def __init__(self, scope: Construct, id: str, *, primary: Any, audit_replica: AuditReplica,
                 merchant_role_names: Mapping[str, str], provider_adapter: Optional[ProviderAdapter] = None,
                 network_layout: Optional[NetworkLayout] = None, alert_email: Optional[str] = None,
                 alert_https_endpoint: Optional[str] = None, domain_name: Optional[str] = None,
                 hosted_zone_id: Optional[str] = None, zone_name: Optional[str] = None, cost_center: str,
                 resilience: ResilienceTier = ResilienceTier.WARM_STANDBY, **kwargs: Any) -> None:
        super().__init__(scope, id, env=Environment(region=audit_replica.region), **kwargs)
        part = "peer" if resilience is ResilienceTier.ACTIVE_ACTIVE else "standby"
        self.add_stack_dependency(primary, f"the {part} serves the primary's table replica and merchant roles")
        profile = Profile.PROD
        foundation = Foundation.build(self, profile=profile, layout=network_layout, alert_email=alert_email,
                                      alert_https_endpoint=alert_https_endpoint,
                                      description=f"cdk-payments example: the {part}'s queues, topics and logs")
        key, self.network, self.alerts = foundation.key, foundation.network, foundation.alerts
        # The replica is encrypted with the audit replica stack's key (made first, in this region), by alias.
        replica_key = kms.Alias.from_alias_name(self, "ReplicaKey", audit_replica.key_alias)
        roles = {merchant: iam.Role.from_role_name(self, f"{merchant}-role", name)
                 for merchant, name in merchant_role_names.items()}
        self.event_bus = events.EventBus(self, "PaymentEvents", event_bus_name=f"{self.stack_name}-payment-events",
                                         description=f"cdk-payments: payment state changes ({part})")
        zone = route53.HostedZone.from_hosted_zone_attributes(self, "Zone", hosted_zone_id=hosted_zone_id,
                                                              zone_name=zone_name) if domain_name else None
        self.payments = SecurePaymentApi(
            self, "Payments", profile=profile, resilience=resilience,
            existing_table=primary.payments.replica_table(self, encryption_key=replica_key),
            event_bus=self.event_bus, merchant_roles=roles, vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets, encryption_key=key, alarm_topic=self.alerts.operations_topic,
            provider_adapter=provider_adapter, domain_name=domain_name, hosted_zone=zone,
        )
        for role in roles.values():
            self.payments.grant_invoke(role)
        # The payments taken here reach the merchants' webhooks through the primary's bus, whose region holds their
        # signing secrets, and land in the primary's audit trail too (this region's own files them here as well).
        primary_bus = events.EventBus.from_event_bus_arn(self, "PrimaryBus", Arn.format(ArnComponents(
            service="events", region=primary.region, resource="event-bus", resource_name=primary.event_bus_name), self))
        self.payments.forward_events(primary_bus)
        # Payments taken here land in an audit bucket of this region (the account's trail is the primary's).
        self.audit = AuditBucket(self, "Audit", profile=profile, encryption_key=key,
                                 alarm_topic=self.alerts.operations_topic)
        self.audit_trail = PaymentAuditTrail(self, "AuditTrail", audit=self.audit, event_bus=self.payments.event_bus,
                                             account_trail=AccountTrailMode.NONE,
                                             alarm_topic=self.alerts.operations_topic)
        # What `cdk-payments smoke --stack` reads (the merchant roles are the primary's), and the bus to subscribe to.
        for name, value, description in (
            ("ApiUrl", self.payments.rest_api.url, f"The {part} payment API's stage URL"),
            ("DemoMerchantRoleArn", roles["demo-merchant"].role_arn, "Role that calls the API as demo-merchant"),
            ("SecondMerchantRoleArn", roles["second-merchant"].role_arn, "Role that calls the API as second-merchant"),
            ("EventBusName", self.payments.event_bus.event_bus_name, "Where payment state changes are published"),
            ("ProviderSecretArn", self.payments.secret.secret_arn,
             f"The {part}'s payment provider credentials (store them here too)"),
            ("AuditBucketName", self.audit.bucket.bucket_name, f"The {part}'s Object Lock audit bucket"),
            ("AuditEventsPrefix", self.audit_trail.prefix, "Where payment state changes land in the audit bucket"),
        ):
            CfnOutput(self, name, value=value, description=description)
        for key_, value in (("application", "cdk-payments"), ("cost-center", cost_center),
                            ("environment", profile.value)):
            Tags.of(self).add(key_, value)
