"""PaymentPlatform: the example stack that composes every cdk-payments construct."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_payments import AuditBucket, CostOptimizedVpc, Profile, SecurePaymentApi


class PaymentPlatform(Stack):
    """A whole payment platform; every cost-versus-resilience choice comes from ``profile``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # One customer-managed key for the platform's logs, data and queues: $1/month, not one per construct.
        key = kms.Key(
            self,
            "PlatformKey",
            description="cdk-payments example: payment data, queues and logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.audit = AuditBucket(self, "Audit", profile=profile, encryption_key=key)
        self.network = CostOptimizedVpc(self, "Network", profile=profile, encryption_key=key)
        self.payments = SecurePaymentApi(
            self,
            "Payments",
            profile=profile,
            vpc=self.network.vpc,
            vpc_subnets=self.network.workload_subnets,
            encryption_key=key,
        )
