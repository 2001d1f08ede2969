"""Override warnings: a prop that weakens a security or resilience default says so at synthesis.

As AWS Solutions Constructs' ``flagOverriddenDefaults`` does, each construct's defaults-resolution
step hands its security- and resilience-relevant props to :func:`flag_overridden_defaults`, which
warns (``Annotations.add_warning_v2``) once per weakened prop, naming the prop, the value given and
the default it replaced. The warning's id is ``cdk-payments:overriddenDefault:<prop>``; a user who
means it silences that one prop with CDK's own switch, on the construct or any scope above it::

    Annotations.of(api).acknowledge_warning("cdk-payments:overriddenDefault:deletion_protection",
                                            "a staging table, recreated nightly")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._nag import retention_days

WARNING_PREFIX = "cdk-payments:overriddenDefault:"


@dataclass(frozen=True)
class Override:
    """One prop checked against its default: ``weakens(default, value)`` says whether the value is weaker."""

    prop: str
    value: Any
    default: Any
    weakens: Callable[[Any, Any], bool]
    risk: str


def flag_overridden_defaults(scope: Construct, overrides: Iterable[Override]) -> list[str]:
    """Warn for every prop given a value weaker than its default; returns the warnings' ids."""
    ids = []
    for override in overrides:
        if override.value is None or not override.weakens(override.default, override.value):
            continue
        warning_id = f"{WARNING_PREFIX}{override.prop}"
        Annotations.of(scope).add_warning_v2(
            warning_id,
            f"{override.prop}={_show(override.value)} replaces the default {_show(override.default)}: "
            f"{override.risk}. If you mean it, acknowledge it: Annotations.of(construct)."
            f"acknowledge_warning('{warning_id}', reason).",
        )
        ids.append(warning_id)
    return ids


# -- how a value can be weaker than its default ------------------------------------------------
def turned_off(default: Any, value: Any) -> bool:
    return bool(default) and not value


def lower(default: Any, value: Any) -> bool:
    return value < default


def higher(default: Any, value: Any) -> bool:
    return value > default


def shorter_retention(default: logs.RetentionDays, value: logs.RetentionDays) -> bool:
    return retention_days(value) < retention_days(default)


def removes_items(default: Iterable[Any], value: Iterable[Any]) -> bool:
    return bool(set(default) - set(value))


def allows_any_origin(_: Any, value: Iterable[str]) -> bool:
    return "*" in value


def destroys(default: RemovalPolicy, value: RemovalPolicy) -> bool:
    return value == RemovalPolicy.DESTROY and default != RemovalPolicy.DESTROY


def _show(value: Any) -> str:
    if isinstance(value, Duration):
        return value.to_human_string()
    if hasattr(value, "name") and hasattr(type(value), "__members__"):  # an enum member
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value)
