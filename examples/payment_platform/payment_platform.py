"""PaymentPlatform: the example stack that composes every cdk-payments construct."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from audit_replica import AuditReplica
from aws_cdk import Annotations, CfnOutput, Stack, Tags, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct
from foundation import Foundation

from cdk_payments import (
    AccountTrailMode,
    AuditBucket,
    ComplianceBaseline,
    NetworkLayout,
    PaymentAuditTrail,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    ProviderAdapter,
    ResilienceTier,
    SecurePaymentApi,
    openapi,
)

# "create": this stack creates the account's GuardDuty detector, Security Hub and Config recorder;
# "existing": they exist already (one per account and region), so only the Config rules and routes are made.
FINDING_SOURCES = ("create", "existing")


class PaymentPlatform(Stack):
    """A whole payment platform; every cost-versus-resilience choice comes from ``profile``.

    The VPC, the audit bucket and the alert topics come first and are handed to the payment API,
    the worker fleet and the compliance baseline as props.

    With ``audit_replica`` (an :class:`AuditReplica` stack in another region, made beside this one by
    ``platform_stacks.build_platform``) the audit trail is replicated there, and this stack depends on it:
    ``cdk deploy --all`` (or deploying this stack alone) deploys the replica first.
    ``resilience=ResilienceTier.BACKUP_AND_RESTORE`` needs ``audit_replica`` made with ``backup_vault=True``:
    it then also holds the vault the table's daily backups are copied to (docs/regions.md).
    ``resilience=ResilienceTier.WARM_STANDBY`` (a stack in a known region) replicates the table to the audit
    replica's region, encrypted there with the audit replica's key, where a :class:`StandbyPlatform` serves it;
    the merchant roles are then named (``merchant_role_names``) so that the standby can map them.
    ``domain_name`` (with ``hosted_zone_id`` and ``zone_name``) serves the API under that name: with warm
    standby, the primary half of a Route 53 failover pair.

    Day one (README "Deploying"): ``alert_email``/``alert_https_endpoint`` subscribe every alert topic;
    ``finding_sources`` ``"create"`` makes the account's GuardDuty detector, Security Hub and Config
    recorder (a fresh account; the app's default), ``"existing"`` uses those already there (the class
    default, so that a second copy in one account and region never collides); ``account_trail`` creates
    the account's CloudTrail trail or not; the merchant roles may call the API, and payment events land in
    the audit bucket under ``AuditEventsPrefix``.

    ``smoke_test_principal`` (a pipeline's account) may assume a ``SmokeTestRole`` (output ``SmokeTestRoleArn``)
    that does what ``cdk-payments smoke`` does and nothing more (docs/pipeline.md).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        cost_center: str,
        audit_replica: Optional[AuditReplica] = None,
        provider_adapter: Optional[ProviderAdapter] = None,
        network_layout: Optional[NetworkLayout] = None,
        account_trail: Optional[AccountTrailMode] = None,
        alert_email: Optional[str] = None,
        alert_https_endpoint: Optional[str] = None,
        finding_sources: str = "existing",
        resilience: ResilienceTier = ResilienceTier.SINGLE_REGION,
        smoke_test_principal: Optional[iam.IPrincipal] = None,
        webhook_endpoints: Optional[Mapping[str, str]] = None,
        domain_name: Optional[str] = None,
        hosted_zone_id: Optional[str] = None,
        zone_name: Optional[str] = None,
        witness_region: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        errors = []
        if finding_sources not in FINDING_SOURCES:
            errors.append(f"finding_sources: expected one of {', '.join(FINDING_SOURCES)}, got {finding_sources!r}")
        copies = resilience is ResilienceTier.BACKUP_AND_RESTORE
        standby = resilience is ResilienceTier.WARM_STANDBY
        active = resilience is ResilienceTier.ACTIVE_ACTIVE
        # Both make a global table whose other region is the audit replica's, served by a second stack there.
        global_table = standby or active
        if copies and (audit_replica is None or audit_replica.backup_vault is None):
            errors.append("resilience: ResilienceTier.BACKUP_AND_RESTORE needs audit_replica, an AuditReplica made "
                          "with backup_vault=True in the region the table's backups and the audit trail are copied to")
        if global_table and audit_replica is None:
            errors.append(f"resilience: ResilienceTier.{resilience.name} needs audit_replica, an AuditReplica in the "
                          "second region: its key encrypts the table's replica there")
        if active and witness_region is None:
            errors.append("witness_region: ResilienceTier.ACTIVE_ACTIVE needs a third region, the witness of the "
                          "strongly consistent table")
        if (domain_name is None) != (hosted_zone_id is None) or (domain_name is None) != (zone_name is None):
            errors.append("domain_name: domain_name, hosted_zone_id and zone_name go together")
        if errors:
            raise ValueError("\n".join(errors))
        super().__init__(scope, id, **kwargs)
        if audit_replica is not None and not Token.is_unresolved(self.region) and audit_replica.region == self.region:
            raise ValueError(f"audit_replica: is in this stack's region ({self.region}), where a copy survives no "
                             "regional outage: make the AuditReplica in another region")
        foundation = Foundation.build(self, profile=profile, layout=network_layout, alert_email=alert_email,
                                      alert_https_endpoint=alert_https_endpoint,
                                      description="cdk-payments example: payment data, queues, topics and logs")
        key, self.network, self.alerts = foundation.key, foundation.network, foundation.alerts
        self.audit_replica = audit_replica
        replica, replica_key = None, None
        if audit_replica:
            # S3 accepts a replication configuration only when its destination bucket exists.
            self.add_stack_dependency(self.audit_replica, "audit replication needs its destination bucket")
            replica, replica_key = self.audit_replica.replication_target(self)
        self.audit = AuditBucket(
            self, "Audit", profile=profile, encryption_key=key,
            replication_destination=replica, replication_key=replica_key,
            # With a second region to recover in, the audit trail is what reconciles the table's lost
            # day (or, with warm standby, the seconds of replication lag): within 15 minutes under S3's SLA.
            replication_time_control=True if copies or global_table else None,
            alarm_topic=self.alerts.operations_topic,
        )

        # The roles merchants' backends assume to call the API with SigV4: a session acts for its role's
        # merchant (the API maps the role, never the request body, to the merchant). Two, so that one
        # merchant can check it never sees the other's payments. A backend in another account uses a
        # role of its own account, mapped here (see the README).
        # With warm standby or active-active they are named (after the stack and its region: IAM names are
        # account-wide), so that the second region's API maps them too.
        self.merchant_role_names = {merchant: f"{self.stack_name}-{self.region}-{merchant}"
                                    for merchant in ("demo-merchant", "second-merchant")} if global_table else {}
        too_long = [name for name in self.merchant_role_names.values() if len(name) > 64]
        if too_long:
            raise ValueError(f"stack_name: with a second region the merchant roles are named <stack>-<region>-<merchant>, "
                             f"at most 64 characters; {too_long[0]!r} is {len(too_long[0])}: use a shorter stack name")
        self.merchant_role = iam.Role(self, "DemoMerchantRole", assumed_by=iam.AccountRootPrincipal(),
                                      role_name=self.merchant_role_names.get("demo-merchant"),
                                      description="cdk-payments example: the demo merchant's API caller")
        self.second_merchant_role = iam.Role(self, "SecondMerchantRole", assumed_by=iam.AccountRootPrincipal(),
                                             role_name=self.merchant_role_names.get("second-merchant"),
                                             description="cdk-payments example: a second merchant's API caller")
        # A bus of this stack's own: on the account's default bus, a dev and a prod stack in one account and
        # region would each match the other's payment events (same source) and file them in their audit trails.
        # Named after the stack (unique per account and region), not after its construct path, which a Stage prefixes.
        self.event_bus_name = f"{self.stack_name}-payment-events"  # a string, for a second region's stack to name
        self.event_bus = events.EventBus(self, "PaymentEvents", event_bus_name=self.event_bus_name,
                                         description="cdk-payments: payment state changes")
        copy_vault = self.audit_replica.copy_vault(self) if copies and self.audit_replica else None
        zone = route53.HostedZone.from_hosted_zone_attributes(self, "Zone", hosted_zone_id=hosted_zone_id,
                                                              zone_name=zone_name) if domain_name else None
        self.payments = SecurePaymentApi(
            self,
            "Payments",
            profile=profile,
            event_bus=self.event_bus,
            merchant_roles={"demo-merchant": self.merchant_role, "second-merchant": self.second_merchant_role},
            vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets,
            encryption_key=key,
            alarm_topic=self.alerts.operations_topic,
            provider_adapter=provider_adapter,
            resilience=resilience,
            backup_copy_vault=copy_vault,
            # Warm standby: the table's replica in the audit replica's region, encrypted with its key there.
            standby_region=audit_replica.region if standby else None,
            standby_encryption_key=replica_key if standby else None,
            # Active-active: the same region and key serve a peer API, and a third region witnesses each write.
            peer_regions={audit_replica.region: replica_key} if active else None,
            witness_region=witness_region if active else None,
            domain_name=domain_name,
            hosted_zone=zone,
            # Each merchant's payment events, signed, to its HTTPS endpoint (docs/webhooks.md).
            webhook_endpoints=webhook_endpoints,
        )
        if copy_vault:  # a per-account setting that docs/regions.md turns on before the first deploy
            Annotations.of(self.payments).acknowledge_warning(
                "cdk-payments:dynamodbAdvancedBackup", "docs/regions.md: AWS Backup's advanced DynamoDB features are on")
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

        # The API's OpenAPI document, as shipped in the wheel, for merchants' developers: a file asset, so
        # synthesis stays offline and deterministic (the object key is the content's hash) and the deploy
        # uploads it beside the functions' code, with no extra resource.
        spec = s3_assets.Asset(self, "OpenApiDocument", path=str(openapi.SPEC_FILE))

        # What the README's commands (`cdk-payments smoke`) read from the stack (a pipeline step too: outputs).
        self.outputs: dict[str, CfnOutput] = {}
        for name, value, description in (
            ("ApiUrl", self.payments.rest_api.url, "The payment API's stage URL"),
            *((("DomainUrl", f"https://{domain_name}/", "The payment API under its own name"),) if domain_name else ()),
            ("DemoMerchantRoleArn", self.merchant_role.role_arn, "Role that calls the API as demo-merchant"),
            ("SecondMerchantRoleArn", self.second_merchant_role.role_arn, "Role that calls the API as second-merchant"),
            ("ProviderSecretArn", self.payments.secret.secret_arn, "Payment provider credentials"),
            ("AuditBucketName", self.audit.bucket.bucket_name, "The Object Lock audit bucket"),
            ("AuditEventsPrefix", self.audit_trail.prefix, "Where payment state changes land in the audit bucket"),
            ("EventBusName", self.payments.event_bus.event_bus_name, "Where payment state changes are published"),
            ("OpenApiUrl", spec.s3_object_url, "The payment API's OpenAPI 3.1 document (docs/openapi.md)"),
            *((("BackupCopyVaultArn", copy_vault.backup_vault_arn,
                "Where the table's daily backups are copied (restore from there)"),) if copy_vault else ()),
            *((("WebhookSecretArns", self.to_json_string({m: s.secret_arn for m, s in self.payments.webhooks.secrets.items()}),
                "Each merchant's webhook endpoint and signing secret"),
               ("WebhookReplayCommand", self.payments.webhooks.replay_command,
                "Replays the webhooks that failed for 3 days (after fixing the endpoint)"))
              if self.payments.webhooks else ()),
        ):
            self.outputs[name] = CfnOutput(self, name, value=value, description=description)
        if smoke_test_principal is not None:
            self._add_smoke_test_role(smoke_test_principal)

        # The tags ComplianceBaseline requires (and Cost Anomaly Detection watches).
        for stack in filter(None, (self, self.audit_replica)):
            for key_, value in (("application", "cdk-payments"), ("cost-center", cost_center),
                                ("environment", profile.value)):
                Tags.of(stack).add(key_, value)

    def _add_smoke_test_role(self, principal: iam.IPrincipal) -> None:
        """A role with what ``cdk-payments smoke`` calls and nothing else: read this stack's outputs, sign in as
        either merchant, read the audit records (a pipeline's post-deploy step assumes it from its account)."""
        role = iam.Role(self, "SmokeTestRole", assumed_by=principal,
                        description="cdk-payments example: runs cdk-payments smoke after a deploy")
        role.add_to_policy(iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[self.stack_id]))
        for merchant in (self.merchant_role, self.second_merchant_role):
            merchant.grant_assume_role(role)
        self.audit.grant_read(role, f"{self.audit_trail.prefix}*")  # and the key's kms:Decrypt
        self.outputs["SmokeTestRoleArn"] = CfnOutput(self, "SmokeTestRoleArn", value=role.role_arn,
                                                     description="Role that runs cdk-payments smoke")
