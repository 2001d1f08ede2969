"""Prop validation that reports every problem at once, as a ValueError naming each prop."""

from __future__ import annotations

import enum
import re
from typing import Any, Callable, Iterable, Optional

from aws_cdk import CfnResource, Stack, Token
from constructs import Construct

WORKLOAD_SUBNETS_HINT = (
    "a CostOptimizedVpc without NAT (NatStrategy.NONE) has isolated subnets only: pass "
    "vpc_subnets=network.workload_subnets, with interface_endpoints for the AWS APIs the code calls"
)


# Free-form strings AWS validates only at deploy time, checked at construction instead:
# kind -> (pattern, what it must be, an example). Tokens (values known at deploy) are not checked.
FORMATS: dict[str, tuple[re.Pattern[str], str, str]] = {
    # Tag keys and values: letters, digits, spaces and _ . : / = + - @ (any script); keys 1 to 128
    # characters and not in the reserved aws: namespace, values up to 256.
    "tag_key": (re.compile(r"^(?![aA][wW][sS]:)[\w\s.:/=+\-@]{1,128}$"),
                "a tag key: 1 to 128 letters, digits, spaces and _.:/=+-@, not starting with 'aws:'", "'cost-center'"),
    "tag_value": (re.compile(r"^[\w\s.:/=+\-@]{1,256}$"),
                  "a non-empty tag value: up to 256 letters, digits, spaces and _.:/=+-@", "'payments'"),
    "origin": (re.compile(r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$"),
               "a CORS origin: scheme://host[:port], without a path or trailing slash", "'https://shop.example'"),
    "email": (re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"),
              "an e-mail address", "'ops@example.com'"),
    "https_url": (re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?$"), "an https:// URL",
                  "'https://events.pagerduty.com/integration/KEY/enqueue'"),
    "anomaly_monitor_arn": (re.compile(r"^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[0-9a-f-]{36}$"),
                            "a Cost Anomaly Detection monitor ARN",
                            "'arn:aws:ce::111122223333:anomalymonitor/12345678-abcd-ef01-2345-6789abcdef01'"),
    # family (letters, generation digit, attribute letters, an optional -flex/-m2pro/-6tb1), dot, size
    "instance_type": (re.compile(r"^(u\d?[a-z]*-\d+tb\d?|[a-z]+\d+[a-z]*(-[a-z0-9]+)?)"
                                 r"\.(nano|micro|small|medium|large|xlarge|\d+xlarge|metal(-\d+xl)?)$"),
                      "an EC2 instance type: family and size, the size one of nano, micro, small, medium, "
                      "large, xlarge, <n>xlarge, metal", "'t4g.small'"),
    "hostname": (re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"),
                 "a lowercase DNS name without a trailing dot", "'pay.example.com'"),
    "table_name": (re.compile(r"^[A-Za-z0-9_.-]{3,255}$"), "a DynamoDB table name: 3 to 255 of letters, digits, _ . -",
                   "'payments'"),
    "region": (re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$"), "an AWS region name", "'us-west-2'"),
    "availability_zone": (re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+[a-z]$|^[a-z]{2}(-[a-z]+)+-\d+(-[a-z0-9]+)+-\d+[a-z]$"),
                          "an Availability Zone name", "'us-east-1a'"),
    "container_image": (re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
                                   r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"),
                        "an image reference: [registry/]repository[:tag][@sha256:digest], lowercase",
                        "'public.ecr.aws/docker/library/nginx:1.27'"),
}


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

    def check_format(self, value: Any, prop: str, kind: str, *, item: str = "") -> bool:
        """Accept None, a token, or a string of ``kind`` (see FORMATS); ``item`` names a list entry."""
        if value is None or (isinstance(value, str) and Token.is_unresolved(value)):
            return True
        pattern, what, example = FORMATS[kind]
        ok = isinstance(value, str) and bool(pattern.match(value))
        where = f" ({item})" if item else ""
        return self.check(ok, prop, f"{value!r}{where} is not {what}, such as {example}")

    def check_singleton(self, scope: Construct, prop: str, resource: type[CfnResource], what: str, *,
                        per: str = "account and region", fix: str = "",
                        where: Optional[Callable[[Any], bool]] = None) -> bool:
        """Refuse a second ``resource_type`` where AWS allows one per account and region: in this stack or
        in another stack of the app for the same environment (environment-agnostic stacks count as one,
        since they are usually deployed to one account). Call it only when the construct would create one."""
        here = Stack.of(scope)
        same_account = per == "account"
        resource_type = resource.CFN_RESOURCE_TYPE_NAME
        # isinstance on the jsii proxies is answered in Python: no round trip per node of the app.
        for stack in (c for c in scope.node.root.node.find_all() if isinstance(c, Stack)):
            if per != "partition" and (stack.account != here.account
                                       or (not same_account and stack.region != here.region)):
                continue
            for node in stack.node.find_all():
                if isinstance(node, resource) and (where is None or where(node)):
                    return self.check(False, prop, f"{what} ({resource_type}) already exists at {node.node.path}: "
                                                   f"AWS allows one per {per}{fix}")
        return True

    def raise_if_any(self) -> None:
        if self._errors:
            detail = "\n  - ".join(self._errors)
            raise ValueError(f"{self._construct}: invalid props:\n  - {detail}")


def pick(value: Any, default: Any) -> Any:
    """The prop's value, or the profile default when the prop was left as None."""
    return default if value is None else value
