"""PlatformParameters: the platform's endpoints and resource names, published in SSM Parameter Store."""

from __future__ import annotations

import re
from typing import Mapping, Optional

from aws_cdk import Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ._validation import PropErrors
from .payment_api import SecurePaymentApi

__all__ = ["PlatformParameters"]

PREFIX = re.compile(r"^(/[A-Za-z0-9_.-]+){1,14}$")  # SSM allows 15 levels; the name is one
PUBLISHED = ("api-url", "table-name", "queue-url", "event-bus-name")


class PlatformParameters(Construct):
    """Standard String parameters under ``prefix`` that other apps read instead of hard-coding names:
    ``api-url``, ``table-name``, ``queue-url``, ``event-bus-name`` and any ``extra`` values.
    (Standard parameters are free; they hold names, never secrets.)"""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        payment_api: SecurePaymentApi,
        prefix: Optional[str] = None,
        extra: Optional[Mapping[str, str]] = None,
    ) -> None:
        """
        :param payment_api: the API whose endpoint and resources are published.
        :param prefix: the parameter path, e.g. ``/payments/dev``, at most 14 levels and 900
            characters; parameter names are unique per account and region, so two stacks must not
            share one. Default: ``/cdk-payments/<stack name>``
        :param extra: further ``name: value`` string pairs, e.g. the audit bucket's name; the
            published names (``api-url``...) are taken. Default: none
        """
        super().__init__(scope, id)
        prefix = prefix if prefix is not None else f"/cdk-payments/{Stack.of(self).stack_name}"
        errors = PropErrors("PlatformParameters")
        errors.check(isinstance(payment_api, SecurePaymentApi), "payment_api", "must be a SecurePaymentApi")
        if errors.check(isinstance(prefix, str) and bool(PREFIX.match(prefix)) and len(prefix) <= 900, "prefix",
                        f"must be a path such as '/payments/dev', got {prefix!r}"):
            errors.check(not re.match(r"^/(aws|ssm)", prefix, re.IGNORECASE), "prefix",
                         f"{prefix!r}: parameter names beginning with aws or ssm are reserved by AWS")
            # Parameter names are unique per account and region: a second set under one prefix collides.
            errors.check_singleton(self, "prefix", ssm.CfnParameter, f"a parameter under {prefix}",
                                   fix=": give each PlatformParameters its own prefix",
                                   where=lambda p: str(p.name).startswith(f"{prefix}/"))
        if errors.check(extra is None or isinstance(extra, Mapping), "extra",
                        f"expected a dict of name to string value, got {extra!r}"):
            errors.check(all(isinstance(k, str) and re.match(r"^[A-Za-z0-9_.-]+$", k) for k in (extra or {})),
                         "extra", "names must be of [A-Za-z0-9_.-]")
            errors.check(all(isinstance(v, str) and v for v in (extra or {}).values()), "extra",
                         "values must be non-empty strings (SSM String parameters)")
            errors.check(all(len(f"{prefix}/{k}") <= 1011 for k in extra or {} if isinstance(prefix, str)), "extra",
                         "names must keep the full parameter name (prefix/name) within 1011 characters")
            errors.check(not set(extra or {}) & set(PUBLISHED), "extra",
                         f"cannot replace the published {', '.join(sorted(set(extra or {}) & set(PUBLISHED)))}")
        errors.raise_if_any()
        values = {
            "api-url": payment_api.rest_api.url,
            "table-name": payment_api.table.table_name,
            "queue-url": payment_api.queue.queue_url,
            "event-bus-name": payment_api.event_bus.event_bus_name,
            **(extra or {}),
        }
        self._parameters = {
            name: ssm.StringParameter(self, name, parameter_name=f"{prefix}/{name}", string_value=value,
                                      description=f"cdk-payments: {name}")
            for name, value in values.items()
        }

    @property
    def parameters(self) -> dict[str, ssm.StringParameter]:
        """The parameters, by name (without the prefix)."""
        return dict(self._parameters)
