"""cdk-payments: AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing."""

from .alerts import AlertChannel, AlertTopics, PaymentDashboards
from .audit import AuditBucket, AuditLockMode
from .compliance import ComplianceBaseline, RequiredTagsCheck
from .network import CostOptimizedVpc, FlowLogDestination
from .parameters import PlatformParameters
from .payment_api import PaymentApiAuthorization, SecurePaymentApi
from .profiles import NatStrategy, Profile
from .workers import PaymentWorkerFleet

__all__ = [
    "AlertChannel",
    "AlertTopics",
    "AuditBucket",
    "AuditLockMode",
    "ComplianceBaseline",
    "CostOptimizedVpc",
    "FlowLogDestination",
    "NatStrategy",
    "PaymentApiAuthorization",
    "PaymentDashboards",
    "PaymentWorkerFleet",
    "PlatformParameters",
    "Profile",
    "RequiredTagsCheck",
    "SecurePaymentApi",
]
