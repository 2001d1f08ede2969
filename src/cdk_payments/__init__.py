"""cdk-payments: AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing."""

from .audit import AuditBucket, AuditLockMode
from .network import CostOptimizedVpc, FlowLogDestination
from .payment_api import PaymentApiAuthorization, SecurePaymentApi
from .profiles import NatStrategy, Profile

__all__ = [
    "AuditBucket",
    "AuditLockMode",
    "CostOptimizedVpc",
    "FlowLogDestination",
    "NatStrategy",
    "PaymentApiAuthorization",
    "Profile",
    "SecurePaymentApi",
]
