"""Prop validation that reports every problem at once, as a ValueError naming each prop."""

from __future__ import annotations

import enum
from typing import Any, Iterable, Optional

WORKLOAD_SUBNETS_HINT = (
    "a CostOptimizedVpc without NAT (NatStrategy.NONE) has isolated subnets only: pass "
    "vpc_subnets=network.workload_subnets, with interface_endpoints for the AWS APIs the code calls"
)


class PropErrors:
    """Collects prop errors for one construct and raises them together."""

    def __init__(self, construct: str) -> None:
        self._construct = construct
        self._errors: list[str] = []

    def add(self, prop: str, message: str) -> None:
        self._errors.append(f"{prop}: {message}")

    def check(self, ok: bool, prop: str, message: str) -> bool:
        if not ok:
            self.add(prop, message)
        return ok

    def check_type(self, value: Any, prop: str, expected: type | tuple[type, ...]) -> bool:
        """Accept None (the prop's default applies) or an instance of ``expected``."""
        # bool is a subclass of int: True must not pass for an int prop.
        if value is None or (isinstance(value, expected) and (expected is bool or not isinstance(value, bool))):
            return True
        names = (
            " or ".join(t.__name__ for t in expected) if isinstance(expected, tuple) else expected.__name__
        )
        self.add(prop, f"expected {names}, got {type(value).__name__} {value!r}")
        return False

    def check_int(
        self, value: Any, prop: str, *, minimum: Optional[int] = None, maximum: Optional[int] = None
    ) -> bool:
        """Accept None or an int within [minimum, maximum]."""
        if value is None:
            return True
        if not self.check_type(value, prop, int):
            return False
        low = "" if minimum is None else f" >= {minimum}"
        high = "" if maximum is None else f" <= {maximum}"
        joiner = " and" if low and high else ""
        return self.check(
            (minimum is None or value >= minimum) and (maximum is None or value <= maximum),
            prop,
            f"must be an integer{low}{joiner}{high}, got {value}",
        )

    def check_enum(self, value: Any, prop: str, enum_type: type[enum.Enum]) -> bool:
        """Accept None or a member of ``enum_type``."""
        if value is None or isinstance(value, enum_type):
            return True
        allowed = ", ".join(f"{enum_type.__name__}.{m.name}" for m in enum_type)
        self.add(prop, f"expected one of {allowed}, got {value!r}")
        return False

    def check_choice(self, value: Any, prop: str, allowed: Iterable[Any]) -> bool:
        allowed = list(allowed)
        return self.check(
            value is None or value in allowed,
            prop,
            f"expected one of {', '.join(map(repr, allowed))}, got {value!r}",
        )

    def check_sequence(self, value: Any, prop: str, item: type, example: str) -> bool:
        """Accept None or a list/tuple of ``item`` (a bare string is a common slip: refuse it)."""
        if value is None:
            return True
        return self.check(
            isinstance(value, (list, tuple)) and all(isinstance(v, item) and v for v in value),
            prop,
            f"expected a list such as {example}, got {value!r}",
        )

    def check_implements(self, value: Any, prop: str, interface: str, attribute: str, *, required: bool) -> bool:
        """jsii interfaces (ITopic, IBucket...) are not runtime-checkable: check a defining attribute."""
        if value is None:
            return self.check(not required, prop, f"is required ({interface})")
        return self.check(hasattr(value, attribute), prop, f"expected {interface}, got {type(value).__name__}")

    def check_unique(self, values: Any, prop: str) -> bool:
        """Refuse repeated items (they would collide as construct ids or be applied twice)."""
        if not isinstance(values, (list, tuple)):
            return True
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        return self.check(not repeated, prop, f"lists {', '.join(repeated)} more than once")

    def check_not_with(self, value: Any, prop: str, other: str, why: str) -> bool:
        """A prop that cannot apply because of ``other`` raises instead of being dropped silently."""
        return self.check(value is None, prop, f"cannot be combined with {other}: {why}")

    def check_subnets(self, vpc: Any, selection: Any, hint: str) -> bool:
        """``vpc_subnets`` (or its default) must select private subnets of ``vpc``: say so instead of jsii's
        error. Public subnets are refused: the workloads get no public IP, so they would have no egress."""
        if vpc is None or not hasattr(vpc, "select_subnets") or (selection is not None and not hasattr(
                selection, "subnet_type")):
            return True
        try:
            selected = vpc.select_subnets(**selection._values).subnets  # a jsii struct: its fields, as keywords
        except RuntimeError as error:  # jsii: "There are no 'Private' subnet groups in this VPC..."
            reason = str(error).splitlines()[0]
            self.add("vpc_subnets", f"selects no subnets of vpc ({reason}); {hint}")
            return False
        public = {subnet.subnet_id for subnet in vpc.public_subnets}
        return self.check(not any(subnet.subnet_id in public for subnet in selected), "vpc_subnets",
                          "selects public subnets, where workloads without a public IP have no egress: select "
                          "private subnets (CostOptimizedVpc.workload_subnets)")

    def raise_if_any(self) -> None:
        if self._errors:
            detail = "\n  - ".join(self._errors)
            raise ValueError(f"{self._construct}: invalid props:\n  - {detail}")


def pick(value: Any, default: Any) -> Any:
    """The prop's value, or the profile default when the prop was left as None."""
    return default if value is None else value
