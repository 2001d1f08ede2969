"""PaymentPlatform: the example stack that composes every cdk-payments construct."""

from __future__ import annotations

from typing import Any, Optional

from audit_replica import AuditReplica
from aws_cdk import Stack, Tags
from constructs import Construct
from keys import platform_key

from cdk_payments import (
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    PaymentDashboards,
    PaymentWorkerFleet,
    PlatformParameters,
    Profile,
    SecurePaymentApi,
)


class PaymentPlatform(Stack):
    """A whole payment platform; every cost-versus-resilience choice comes from ``profile``.

    The VPC, the audit bucket and the alert topics come first and are handed to the payment API,
    the worker fleet and the compliance baseline as props.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        cost_center: str,
        replica_region: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # One customer-managed key for the platform's data, queues, topics and logs: $1/month, not one per construct.
        key = platform_key(self, "PlatformKey", description="cdk-payments example: payment data, queues, topics and logs")
        self.network = CostOptimizedVpc(self, "Network", profile=profile, encryption_key=key)
        replica, replica_key = AuditReplica.destination(self, replica_region) if replica_region else (None, None)
        self.audit = AuditBucket(
            self, "Audit", profile=profile, encryption_key=key,
            replication_destination=replica, replication_key=replica_key,
        )
        self.alerts = AlertTopics(self, "Alerts", encryption_key=key)

        self.payments = SecurePaymentApi(
            self,
            "Payments",
            profile=profile,
            vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets,
            encryption_key=key,
            alarm_topic=self.alerts.operations_topic,
        )
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
        self.compliance = ComplianceBaseline(
            self,
            "Compliance",
            security_topic=self.alerts.security_topic,
            cost_topic=self.alerts.cost_topic,
            encryption_key=key,
            monthly_budget_usd=30 if profile is Profile.DEV else 500,
        )
        PaymentDashboards(
            self, "Dashboards", profile=profile, payment_api=self.payments,
            finding_rules=self.compliance.finding_rule_names,
        )
        PlatformParameters(
            self,
            "Parameters",
            payment_api=self.payments,
            prefix=f"/cdk-payments/{profile.value}",
            extra={"audit-bucket": self.audit.bucket.bucket_name},
        )

        # The tags ComplianceBaseline requires (and Cost Anomaly Detection watches).
        for key_, value in (("application", "cdk-payments"), ("cost-center", cost_center),
                            ("environment", profile.value)):
            Tags.of(self).add(key_, value)
