"""The SecurePaymentApi props whose values can weaken a security or resilience default."""

from __future__ import annotations

from typing import Any

from .._overrides import (
    Override,
    allows_any_origin,
    higher,
    removes_items,
    shorter_retention,
    turned_off,
)
from ..profiles import PaymentApiDefaults
from .waf import WINDOW_SECONDS


def payment_api_overrides(defaults: PaymentApiDefaults, props: dict[str, Any]) -> list[Override]:
    """One :class:`Override` per prop a user can weaken, with what the default protected."""
    rows = (
        ("waf_managed_rule_groups", removes_items, "the web ACL no longer blocks what the removed groups "
                                                   "match (XSS, SQL injection...)"),
        ("waf_logging", turned_off, "WAF decisions are no longer logged (PCI DSS 10.2)"),
        ("waf_rate_limit", higher, "one client IP can send more requests before WAF blocks it"),
        ("throttling_rate_limit", higher, "a burst of requests reaches the functions, table and provider"),
        ("throttling_burst_limit", higher, "a burst of requests reaches the functions, table and provider"),
        ("deletion_protection", turned_off, "the payments table can be deleted by a stack update or by hand"),
        ("backup_plan", turned_off, "no daily AWS Backup copy of the payments table is kept"),
        ("log_retention", shorter_retention, "logs are deleted sooner (PCI DSS 10.5.1 keeps a year)"),
        ("cors_allowed_origins", allows_any_origin, "any web page may call the API from a browser"),
        ("rotation_days", higher, "the provider credentials are rotated less often"),
        ("webhook_rotation_days", higher, "the merchants' webhook signing secrets are rotated less often"),
        ("configure_api_gateway_account", turned_off, "execution and access logs are written only if the "
                                                      "region already has an API Gateway CloudWatch role"),
    )
    # The WAF limit's default follows the stage's rate (the limit that applies when none is given).
    rate = props.get("throttling_rate_limit") or defaults.throttling_rate_limit
    effective = {"waf_rate_limit": defaults.waf_rate_limit or rate * WINDOW_SECONDS}
    return [Override(prop, props[prop], effective.get(prop, getattr(defaults, prop, None)), weakens, risk)
            for prop, weakens, risk in rows]
