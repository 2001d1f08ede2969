"""Acknowledged findings (cdk-nag rules, Control Tower cfn-guard controls and checkov checks), written
next to the code that causes them.

Two rough edges of cdk-nag 3 are solved here, once:

* ``Validations.acknowledge`` refuses finding ids that contain ``::`` beyond the pack prefix
  (cdk-nag issue 2351), yet every granular IAM finding has one (``AwsSolutions-IAM5[Resource::...]``).
  :func:`acknowledge` records those ids in the same construct metadata that ``Validations`` writes
  and cdk-nag reads, so the finding is acknowledged on the same construct with the same reason.
* CDK grants write each role's statements into a ``DefaultPolicy``; the PCI and NIST packs flag every
  such policy as inline (IAMNoInlinePolicy) and AwsSolutions flags the action groups and
  resource-scoped wildcards grants use (IAM5). :class:`AcknowledgeGrantPolicies` acknowledges exactly
  those, on each DefaultPolicy inside the construct it is applied to. ``Resource::*`` is never
  acknowledged here: code that needs it acknowledges it where it asks for it.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnResource, IAspect, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk.aws_logs import RetentionDays
from constructs import IConstruct

from .nag.requirements import PACK, rule_names


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge ``rule_ids`` on ``construct`` with ``reason`` (why, and what compensates).

    cdk-nag rule ids and Control Tower controls (``guard("..._check")``) go to CDK's validation
    metadata, which CDK's policy validation honours for every plugin; checkov check ids (``CKV_...``)
    go to the ``checkov.skip`` metadata of the construct's CloudFormation resource, with the same reason.
    """
    if len(reason) < 40:
        raise ValueError("an acknowledgement needs a real reason: why, and what compensates")
    validations = Validations.of(construct)
    for rule_id in _with_pci_dss_401(rule_ids):
        if rule_id.startswith("CKV_"):
            _skip_checkov(construct, rule_id, reason)
        elif rule_id.startswith(GUARD_PLUGIN + "::"):
            validations.acknowledge(Acknowledgment(id=rule_id, reason=reason))
        elif "::" in rule_id:
            # The metadata entry Validations.acknowledge would write, which it refuses to write.
            construct.node.add_metadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {rule_id: reason})
        else:
            validations.acknowledge(Acknowledgment(id=rule_id, reason=reason))


# The cdk-nag packs whose rules PciDss401Checks reuses: a finding acknowledged there is the same finding,
# for the same reason, under the v4.0.1 pack.
_REUSED_FROM = ("PCI.DSS.321-", "NIST.800.53.R5-", "HIPAA.Security-")


def _with_pci_dss_401(rule_ids: tuple[str, ...]) -> list[str]:
    """``rule_ids`` and, for each cdk-nag rule PciDss401Checks reuses, its ``PCI.DSS.401-`` id."""
    ids = dict.fromkeys(rule_ids)
    for rule_id in rule_ids:
        prefix = next((p for p in _REUSED_FROM if rule_id.startswith(p)), None)
        if prefix and rule_id.removeprefix(prefix).split("[", 1)[0] in rule_names():
            ids.setdefault(f"{PACK}-{rule_id.removeprefix(prefix)}", None)
    return list(ids)


# The name CDK knows the cfn-guard validation plugin by (cdklabs.cdk-validator-cfnguard), which is
# the namespace of its rule ids in acknowledgements.
GUARD_PLUGIN = "cdk-validator-cfnguard"
# Control Tower's minimum log retention (CT.CLOUDWATCH.PR.2).
GUARD_MIN_LOG_RETENTION_DAYS = 365


def guard(rule: str) -> str:
    """The acknowledgement id of a Control Tower cfn-guard rule (``lambda_inside_vpc_check``)."""
    return f"{GUARD_PLUGIN}::{rule}"


def acknowledge_log_retention(log_group: IConstruct, retention: RetentionDays) -> None:
    """Acknowledge Control Tower's one-year minimum on a log group that keeps its logs for less."""
    days = _RETENTION_DAYS.get(retention.name)
    if days is not None and days < GUARD_MIN_LOG_RETENTION_DAYS:
        acknowledge(
            log_group,
            f"Kept {days} days: the dev profile's retention, to keep idle cost down while nothing in it is "
            "evidence; the prod profile keeps a year, and log_retention sets any other period.",
            guard("cloudwatch_log_group_retention_period_check"),
        )


def _skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise ValueError(f"{construct.node.path} has no CloudFormation resource to skip {check_id} on")
    checkov = resource.get_metadata("checkov") or {}
    skips = checkov.get("skip", [])
    if any(skip["id"] == check_id for skip in skips):
        return  # already skipped (a stack-level singleton annotated by a second construct)
    resource.add_metadata("checkov", {**checkov, "skip": [*skips, {"id": check_id, "comment": reason}]})


GRANT_POLICY_REASON = (
    "Least-privilege statements for this one role, written by CDK grants or by this library and "
    "attached only to it: its wildcards are action groups (kms:GenerateDataKey*) and sub-resources "
    "of named resources (a table's indexes, a log group's streams, a key prefix), never all resources."
)


@jsii.implements(IAspect)
class AcknowledgeGrantPolicies:
    """Acknowledge the findings CDK grants cause on the DefaultPolicies under a construct."""

    @classmethod
    def apply(cls, scope: IConstruct) -> None:
        """Watch the DefaultPolicy of every role under ``scope``, once grants are final (at synthesis).

        The aspect goes on each role rather than on ``scope``: an aspect costs a jsii callback per node it
        visits, and a role's subtree is a handful of nodes where a construct's is hundreds.
        """
        for node in scope.node.find_all():
            if _is_role(node) and not any(isinstance(a, cls) for a in Aspects.of(node).all):
                Aspects.of(node).add(cls())

    def visit(self, node: IConstruct) -> None:
        # A role's grants go to its DefaultPolicy; an imported role's (iam.Role.from_role_name) to its Policy...
        # (the aspect visits only roles' subtrees).
        if not (isinstance(node, iam.Policy) and node.node.id.startswith(("DefaultPolicy", "Policy"))):
            return
        cfn = node.node.default_child
        document = Stack.of(node).resolve(cfn.policy_document)
        findings = [f"AwsSolutions-IAM5[{finding}]" for finding in _grant_wildcards(document)]
        acknowledge(
            node,
            GRANT_POLICY_REASON,
            "PCI.DSS.321-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            *findings,
        )


def _is_role(node: Optional[IConstruct]) -> bool:
    """A role of this app, or one imported into it (whose class is not public)."""
    return isinstance(node, iam.Role) or (hasattr(node, "role_arn") and hasattr(node, "add_to_principal_policy")
                                          and hasattr(node, "grant_assume_role"))


def wildcard_resource_finding(scope: IConstruct, arn: str) -> str:
    """The AwsSolutions-IAM5 finding id of a wildcard resource ``arn`` in ``scope``'s stack, as cdk-nag names
    it: with tokens (``<AWS::Region>``) in an environment-agnostic stack, literals in a placed one."""
    return f"AwsSolutions-IAM5[Resource::{_flatten(Stack.of(scope).resolve(arn))}]"


def _grant_wildcards(document: dict[str, Any]) -> list[str]:
    """The IAM5 finding ids of a policy, as cdk-nag names them, less ``Resource::*``."""
    found: dict[str, None] = {}
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if "*" in action:
                found[f"Action::{action}"] = None
        for resource in _as_list(statement.get("Resource")):
            flat = _flatten(resource)
            if "*" in flat and flat != "*":
                found[f"Resource::{flat}"] = None
    return list(found)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flatten(node: Any) -> str:
    """A CloudFormation reference as the flat string cdk-nag puts in finding ids."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


_RETENTION_DAYS = {
    "ONE_DAY": 1, "THREE_DAYS": 3, "FIVE_DAYS": 5, "ONE_WEEK": 7, "TWO_WEEKS": 14, "ONE_MONTH": 30,
    "TWO_MONTHS": 60, "THREE_MONTHS": 90, "FOUR_MONTHS": 120, "FIVE_MONTHS": 150, "SIX_MONTHS": 180,
    "ONE_YEAR": 365, "THIRTEEN_MONTHS": 400, "EIGHTEEN_MONTHS": 545, "TWO_YEARS": 731, "THREE_YEARS": 1096,
    "FIVE_YEARS": 1827, "SIX_YEARS": 2192, "SEVEN_YEARS": 2557, "EIGHT_YEARS": 2922, "NINE_YEARS": 3288,
    "TEN_YEARS": 3653, "INFINITE": 10**6,
}


def retention_days(retention: RetentionDays) -> int:
    """How many days a log retention keeps (INFINITE: a very large number)."""
    return _RETENTION_DAYS[retention.name]
