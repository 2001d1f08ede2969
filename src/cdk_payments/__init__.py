"""cdk-payments: AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing.

The constructs are imported on first use, so ``cdk_payments.cost`` and ``cdk_payments.runtime`` load
without aws_cdk (and without starting Node.js).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from .alerts import AlertTopics, PaymentDashboards
    from .audit import AuditBucket
    from .audit_trail import PaymentAuditTrail
    from .choices import (
        AccountTrailMode,
        AlertChannel,
        AuditLockMode,
        CostAnomalyMonitor,
        FlowLogDestination,
        NatStrategy,
        NetworkLayout,
        PaymentApiAuthorization,
        ResilienceTier,
    )
    from .compliance import ComplianceBaseline, RequiredTagsCheck
    from .network import CostOptimizedVpc
    from .parameters import PlatformParameters
    from .payment_api import ProviderAdapter, SecurePaymentApi
    from .profiles import Profile
    from .workers import PaymentWorkerFleet

_EXPORTS = {
    "AccountTrailMode": "choices",
    "AlertChannel": "choices",
    "AlertTopics": "alerts",
    "AuditBucket": "audit",
    "AuditLockMode": "choices",
    "ComplianceBaseline": "compliance",
    "CostAnomalyMonitor": "choices",
    "CostOptimizedVpc": "network",
    "FlowLogDestination": "choices",
    "NatStrategy": "choices",
    "NetworkLayout": "choices",
    "PaymentApiAuthorization": "choices",
    "PaymentAuditTrail": "audit_trail",
    "PaymentDashboards": "alerts",
    "PaymentWorkerFleet": "workers",
    "PlatformParameters": "parameters",
    "Profile": "profiles",
    "ProviderAdapter": "payment_api",
    "RequiredTagsCheck": "compliance",
    "ResilienceTier": "choices",
    "SecurePaymentApi": "payment_api",
}
__all__ = [  # literal, so that static tools (griffe, IDEs) read the public API
    "AccountTrailMode",
    "AlertChannel",
    "AlertTopics",
    "AuditBucket",
    "AuditLockMode",
    "ComplianceBaseline",
    "CostAnomalyMonitor",
    "CostOptimizedVpc",
    "FlowLogDestination",
    "NatStrategy",
    "NetworkLayout",
    "PaymentApiAuthorization",
    "PaymentAuditTrail",
    "PaymentDashboards",
    "PaymentWorkerFleet",
    "PlatformParameters",
    "Profile",
    "ProviderAdapter",
    "RequiredTagsCheck",
    "ResilienceTier",
    "SecurePaymentApi",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
