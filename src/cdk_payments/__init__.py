"""cdk-payments: AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing.

The constructs are imported on first use, so ``cdk_payments.cost`` and ``cdk_payments.runtime`` load
without aws_cdk (and without starting Node.js).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .alerts import AlertChannel, AlertTopics, PaymentDashboards
    from .audit import AuditBucket, AuditLockMode
    from .compliance import ComplianceBaseline, RequiredTagsCheck
    from .network import CostOptimizedVpc, FlowLogDestination
    from .parameters import PlatformParameters
    from .payment_api import PaymentApiAuthorization, SecurePaymentApi
    from .profiles import NatStrategy, Profile
    from .workers import PaymentWorkerFleet

_EXPORTS = {
    "AlertChannel": "alerts",
    "AlertTopics": "alerts",
    "AuditBucket": "audit",
    "AuditLockMode": "audit",
    "ComplianceBaseline": "compliance",
    "CostOptimizedVpc": "network",
    "FlowLogDestination": "network",
    "NatStrategy": "profiles",
    "PaymentApiAuthorization": "payment_api",
    "PaymentDashboards": "alerts",
    "PaymentWorkerFleet": "workers",
    "PlatformParameters": "parameters",
    "Profile": "profiles",
    "RequiredTagsCheck": "compliance",
    "SecurePaymentApi": "payment_api",
}
__all__ = [  # literal, so that static tools (griffe, IDEs) read the public API
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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cdk_payments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
