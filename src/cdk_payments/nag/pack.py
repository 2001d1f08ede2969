"""``PciDss401Checks``: a cdk-nag 3 pack for PCI DSS v4.0.1, applied like cdk-nag's own packs::

    Validations.of(app).add_plugins(PciDss401Checks(app))

cdk-nag's rule functions are not exported to Python (jsii carries classes, not functions), so the rules
this pack shares with cdk-nag run inside cdk-nag's own packs, renamed to this pack: each source pack
runs with the pack name ``PCI.DSS.401``, so its rule ids and acknowledgements are this pack's, and only
the findings of rules in :data:`~cdk_payments.nag.requirements.RULES` are kept, described against the
v4.0.1 requirements. The few rules cdk-nag lacks run here, through ``applyRule`` like any pack's.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import jsii
from aws_cdk import CfnResource, IPolicyValidationContext, PolicyValidationPluginReport, PolicyViolation
from cdk_nag import (
    HIPAASecurityChecks,
    IApplyRule,
    NagMessageLevel,
    NagPack,
    NagRuleCompliance,
    NIST80053R5Checks,
    PCIDSS321Checks,
)
from constructs import IConstruct

from .requirements import PACK, RULES, PciRule
from .rules import OWN_RULES

SOURCE_PACKS = {"PCI.DSS.321": PCIDSS321Checks, "NIST.800.53.R5": NIST80053R5Checks,
                "HIPAA.Security": HIPAASecurityChecks}
_BY_NAME = {rule.name: rule for rule in RULES}


def _describe(rule: PciRule) -> str:
    return f"{rule.info} - (PCI DSS v4.0.1: {', '.join(rule.requirements)})."


@jsii.implements(IApplyRule)
class _OwnRule:
    """An IApplyRule for one of this pack's own rules (jsii reads its members as properties)."""

    def __init__(self, node: CfnResource, rule: PciRule,
                 check: Callable[[CfnResource], NagRuleCompliance]) -> None:
        self._node, self._rule, self._check = node, rule, check

    node = property(lambda self: self._node)
    rule_suffix_override = property(lambda self: self._rule.name)
    info = property(lambda self: _describe(self._rule))
    explanation = property(lambda self: f"Source: {self._rule.source}.")
    level = property(lambda self: NagMessageLevel.ERROR)

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        return self._check(node)


class PciDss401Checks(NagPack):
    """Check for PCI DSS v4.0.1 compliance, following AWS's "Operational Best Practices for PCI DSS 4.0"
    conformance pack and Security Hub's PCI DSS v4.0.1 controls. Rule ids are ``PCI.DSS.401-<Rule>``;
    acknowledge them like any cdk-nag rule (``Validations.of(construct).acknowledge(...)``).
    """

    def __init__(self, scope: Optional[IConstruct] = None, *, verbose: Optional[bool] = None,
                 write_suppressions_to_cloud_formation: Optional[bool] = None) -> None:
        super().__init__(scope, verbose=verbose,
                         write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation)
        self._pack_name = PACK
        self._sources: dict[str, Any] = {}
        for origin in sorted({rule.origin for rule in RULES} - {"own"}):
            source = SOURCE_PACKS[origin](verbose=verbose)
            source._pack_name = PACK  # its rule ids and acknowledgements become this pack's
            self._sources[origin] = source
        self._own_by_type: dict[str, list[tuple[PciRule, Callable]]] = {}
        for name, (types, check) in OWN_RULES.items():
            for resource_type in types:
                self._own_by_type.setdefault(resource_type, []).append((_BY_NAME[name], check))

    @property
    def name(self) -> str:
        return PACK

    def _check_resource(self, node: CfnResource) -> None:
        for rule, check in self._own_by_type.get(node.cfn_resource_type, ()):
            self._apply_rule(_OwnRule(node, rule, check))

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        scope = jsii.get(context, "appConstruct")
        violations = list(self.validate_scope(scope).violations)  # this pack's own rules
        for origin, source in self._sources.items():
            for violation in source.validate_scope(scope).violations:
                rule = _BY_NAME.get(violation.rule_name.removeprefix(f"{PACK}-").split("[", 1)[0])
                if rule is None or rule.origin != origin:
                    continue
                errored = violation.description.startswith("Rule threw an error")
                violations.append(PolicyViolation(
                    rule_name=violation.rule_name, severity=violation.severity,
                    description=violation.description if errored else _describe(rule),
                    violating_resources=violation.violating_resources))
        return PolicyValidationPluginReport(success=not violations, violations=violations)
