"""PaymentPlatform: the example stack that composes every cdk-payments construct."""

from __future__ import annotations

from typing import Any, Optional

from audit_replica import AuditReplica
from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct
from keys import platform_key

from cdk_payments import (
    AccountTrailMode,
    AlertChannel,
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    NetworkLayout,
    PaymentAuditTrail,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    ProviderAdapter,
    SecurePaymentApi,
)

# "create": this stack creates the account's GuardDuty detector, Security Hub and Config recorder;
# "existing": they exist already (one per account and region), so only the Config rules and routes are made.
FINDING_SOURCES = ("create", "existing")


class PaymentPlatform(Stack):
    """A whole payment platform; every cost-versus-resilience choice comes from ``profile``.

    The VPC, the audit bucket and the alert topics come first and are handed to the payment API,
    the worker fleet and the compliance baseline as props.

    With ``replica_region`` the audit trail is replicated to an :class:`AuditReplica` stack in that
    region (``<id>-audit-replica``), which this stack depends on: ``cdk deploy --all`` (or deploying
    this stack alone) deploys the replica first; ``replica_generation`` names a new replica bucket after a
    destroy (the kept one holds its name).

    Day one (README "Deploying"): ``alert_email``/``alert_https_endpoint`` subscribe every alert topic;
    ``finding_sources`` ``"create"`` makes the account's GuardDuty detector, Security Hub and Config
    recorder (a fresh account; the app's default), ``"existing"`` uses those already there (the class
    default, so that a second copy in one account and region never collides); ``account_trail`` creates
    the account's CloudTrail trail or not; the merchant roles may call the API, and payment events land in
    the audit bucket under ``AuditEventsPrefix``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        cost_center: str,
        replica_region: Optional[str] = None,
        replica_generation: Optional[int] = None,
        provider_adapter: Optional[ProviderAdapter] = None,
        network_layout: Optional[NetworkLayout] = None,
        account_trail: Optional[AccountTrailMode] = None,
        alert_email: Optional[str] = None,
        alert_https_endpoint: Optional[str] = None,
        finding_sources: str = "existing",
        **kwargs: Any,
    ) -> None:
        if finding_sources not in FINDING_SOURCES:
            raise ValueError(f"finding_sources: expected one of {', '.join(FINDING_SOURCES)}, got {finding_sources!r}")
        super().__init__(scope, id, **kwargs)
        # One customer-managed key for the platform's data, queues, topics and logs: $1/month, not one per construct.
        key = platform_key(self, "PlatformKey", description="cdk-payments example: payment data, queues, topics and logs")
        self.network = CostOptimizedVpc(self, "Network", profile=profile, layout=network_layout, encryption_key=key)
        # Every topic (cost, security, operations: the API's alarms go to operations) reaches someone.
        self.alerts = AlertTopics(
            self, "Alerts", encryption_key=key,
            emails={channel: [alert_email] for channel in AlertChannel} if alert_email else None,
            https_endpoints={channel: [alert_https_endpoint] for channel in AlertChannel} if alert_https_endpoint else None,
        )
        self.audit_replica: Optional[AuditReplica] = None
        replica, replica_key = None, None
        if replica_region:
            self.audit_replica = AuditReplica(
                scope, f"{id}-audit-replica", region=replica_region, generation=replica_generation,
                description="cdk-payments example: cross-region audit replica")
            # S3 accepts a replication configuration only when its destination bucket exists.
            self.add_stack_dependency(self.audit_replica, "audit replication needs its destination bucket")
            replica, replica_key = self.audit_replica.replication_target(self)
        self.audit = AuditBucket(
            self, "Audit", profile=profile, encryption_key=key,
            replication_destination=replica, replication_key=replica_key,
            alarm_topic=self.alerts.operations_topic,
        )

        # The roles merchants' backends assume to call the API with SigV4: a session acts for its role's
        # merchant (the API maps the role, never the request body, to the merchant). Two, so that one
        # merchant can check it never sees the other's payments. A backend in another account uses a
        # role of its own account, mapped here (see the README).
        self.merchant_role = iam.Role(self, "DemoMerchantRole", assumed_by=iam.AccountRootPrincipal(),
                                      description="cdk-payments example: the demo merchant's API caller")
        self.second_merchant_role = iam.Role(self, "SecondMerchantRole", assumed_by=iam.AccountRootPrincipal(),
                                             description="cdk-payments example: a second merchant's API caller")
        self.payments = SecurePaymentApi(
            self,
            "Payments",
            profile=profile,
            merchant_roles={"demo-merchant": self.merchant_role, "second-merchant": self.second_merchant_role},
            vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets,
            encryption_key=key,
            alarm_topic=self.alerts.operations_topic,
            provider_adapter=provider_adapter,
        )
        for role in (self.merchant_role, self.second_merchant_role):
            self.payments.grant_invoke(role)
        # Every payment state change lands in the audit bucket within a minute (and so in prod's replica).
        self.audit_trail = PaymentAuditTrail(self, "AuditTrail", audit=self.audit, event_bus=self.payments.event_bus,
                                             account_trail=account_trail, alarm_topic=self.alerts.operations_topic)
        # Settlement and reconciliation batches that outgrow Lambda: scale to zero in dev.
        self.workers = PaymentWorkerFleet(
            self,
            "Workers",
            profile=profile,
            vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets,
            table=self.payments.table,
            encryption_key=key,
            alarm_topic=self.alerts.operations_topic,
            user_data_commands=["echo 'install and start your settlement worker here' >> /var/log/payment-worker.log"],
        )
        # GuardDuty, Security Hub and the Config recorder are one per account and region: created here in a
        # fresh account (findings then reach the security topic), used where they exist (AWS Control Tower).
        create = finding_sources == "create"
        self.compliance = ComplianceBaseline(
            self,
            "Compliance",
            security_topic=self.alerts.security_topic,
            cost_topic=self.alerts.cost_topic,
            encryption_key=key,
            create_recorder=create, recorder_bucket=self.audit.access_log_bucket if create else None,
            account_has_recorder=not create, create_guardduty_detector=create, enable_security_hub=create,
            monthly_budget_usd=30 if profile is Profile.DEV else 500,
            # This stack's spend only (dev and prod side by side in one account): activate both keys as cost
            # allocation tags first (docs/day-one.md), or the budget sees nothing.
            budget_tags={"application": "cdk-payments", "environment": profile.value},
            alarm_topic=self.alerts.operations_topic,
        )
        PaymentDashboards(
            self, "Dashboards", profile=profile, payment_api=self.payments,
            finding_rules=self.compliance.finding_rule_names,
        )
        PlatformParameters(
            self,
            "Parameters",
            payment_api=self.payments,
            extra={"audit-bucket": self.audit.bucket.bucket_name},
        )

        # What the README's commands (`cdk-payments smoke`) read from the stack.
        for name, value, description in (
            ("ApiUrl", self.payments.rest_api.url, "The payment API's stage URL"),
            ("DemoMerchantRoleArn", self.merchant_role.role_arn, "Role that calls the API as demo-merchant"),
            ("SecondMerchantRoleArn", self.second_merchant_role.role_arn, "Role that calls the API as second-merchant"),
            ("ProviderSecretArn", self.payments.secret.secret_arn, "Payment provider credentials"),
            ("AuditBucketName", self.audit.bucket.bucket_name, "The Object Lock audit bucket"),
            ("AuditEventsPrefix", self.audit_trail.prefix, "Where payment state changes land in the audit bucket"),
            ("EventBusName", self.payments.event_bus.event_bus_name, "Where payment state changes are published"),
        ):
            CfnOutput(self, name, value=value, description=description)

        # The tags ComplianceBaseline requires (and Cost Anomaly Detection watches).
        for stack in filter(None, (self, self.audit_replica)):
            for key_, value in (("application", "cdk-payments"), ("cost-center", cost_center),
                                ("environment", profile.value)):
                Tags.of(stack).add(key_, value)
