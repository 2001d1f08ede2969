"""ComplianceBaseline: account-and-region guard rails, safe in an account that has some already."""

from __future__ import annotations

import json
from typing import Mapping, Optional, Sequence

import jsii
from aws_cdk import (
    Annotations,
    Aws,
    CfnCondition,
    CfnResource,
    Duration,
    Fn,
    IAspect,
    Stack,
    TagManager,
    Token,
)
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct, IValidation

from ._kms import allow_services, key_for, key_policy_statements
from ._nag import AcknowledgeGrantPolicies, acknowledge, guard
from ._overrides import Override, flag_overridden_defaults, higher, removes_items, turned_off
from ._queues import dead_letter_alarm, dead_letter_queue
from ._topics import warn_if_imported_topic
from ._validation import PropErrors, pick
from .choices import CostAnomalyMonitor
from .profiles import Profile, defaults_for

__all__ = ["ComplianceBaseline", "RequiredTagsCheck"]

REQUIRED_TAGS_LIMIT = 6  # the REQUIRED_TAGS managed rule takes tag1Key..tag6Key
# Security Hub's PCI DSS standards by version, and the construct id of each subscription: 3.2.1 keeps the
# id it always had, so an app that keeps it does not replace (and briefly disable) its subscription.
PCI_STANDARDS = {"4.0.1": ("PciDss401", "standards/pci-dss/v/4.0.1"), "3.2.1": ("PciDss", "standards/pci-dss/v/3.2.1")}
COST_EXPLORER_REGION = "us-east-1"  # Cost Anomaly Detection monitors and subscriptions exist only here

MANAGED_RULES = {
    "S3Encryption": config.ManagedRuleIdentifiers.S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED,
    "S3PublicRead": config.ManagedRuleIdentifiers.S3_BUCKET_PUBLIC_READ_PROHIBITED,
    "S3PublicWrite": config.ManagedRuleIdentifiers.S3_BUCKET_PUBLIC_WRITE_PROHIBITED,
    "S3SslOnly": config.ManagedRuleIdentifiers.S3_BUCKET_SSL_REQUESTS_ONLY,
    "S3Versioning": config.ManagedRuleIdentifiers.S3_BUCKET_VERSIONING_ENABLED,
    "DynamoDbPitr": config.ManagedRuleIdentifiers.DYNAMODB_PITR_ENABLED,
    "DynamoDbKms": config.ManagedRuleIdentifiers.DYNAMODB_TABLE_ENCRYPTED_KMS,
    "LambdaInVpc": config.ManagedRuleIdentifiers.LAMBDA_INSIDE_VPC,
    "RestrictedSsh": config.ManagedRuleIdentifiers.EC2_SECURITY_GROUPS_INCOMING_SSH_DISABLED,
    "EncryptedVolumes": config.ManagedRuleIdentifiers.EBS_ENCRYPTED_VOLUMES,
    "Imdsv2": config.ManagedRuleIdentifiers.EC2_IMDSV2_CHECK,
    "ApiGwExecutionLogging": config.ManagedRuleIdentifiers.API_GW_EXECUTION_LOGGING_ENABLED,
    "ApiGwWaf": config.ManagedRuleIdentifiers.API_GW_ASSOCIATED_WITH_WAF,
    "LogGroupsEncrypted": config.ManagedRuleIdentifiers.CLOUDWATCH_LOG_GROUP_ENCRYPTED,
    "SecretRotation": config.ManagedRuleIdentifiers.SECRETSMANAGER_ROTATION_ENABLED_CHECK,
    "VpcFlowLogs": config.ManagedRuleIdentifiers.VPC_FLOW_LOGS_ENABLED,
}


@jsii.implements(IAspect, IValidation)
class RequiredTagsCheck:
    """Fails synthesis, naming every taggable resource that lacks one of ``tag_keys``.

    Cost allocation and the REQUIRED_TAGS Config rule both depend on these tags; checking at synth
    catches a missing ``Tags.of(scope).add(...)`` before anything is deployed. As the stack's
    validation (run after every aspect, the Tags aspects included) it checks every resource of the
    stack and reports them all at once. Use :meth:`apply` to attach it to a stack. (It is an aspect
    too, for code that adds it as one; :meth:`apply` does not, because an aspect costs a jsii callback
    for every node of the stack.)
    """

    def __init__(self, tag_keys: Sequence[str]) -> None:
        """
        :param tag_keys: the tag keys every taggable resource must carry, e.g. ``["application"]``.
        """
        self._tag_keys = tuple(tag_keys)
        self._offenders: dict[str, str] = {}
        self._scope: Optional[IConstruct] = None

    @classmethod
    def apply(cls, stack: Stack, tag_keys: Sequence[str]) -> "RequiredTagsCheck":
        """Check every resource of ``stack`` (``ComplianceBaseline`` does this for its stack)."""
        check = cls(tag_keys)
        check._scope = stack
        stack.node.add_validation(check)
        return check

    def visit(self, node: IConstruct) -> None:
        if not (isinstance(node, CfnResource) and TagManager.is_taggable(node)):
            return
        present = node.tags.tag_values()
        # An empty value satisfies no cost allocation report nor the REQUIRED_TAGS rule (tagNValue aside).
        missing = [key if key not in present else f"{key} (empty value)" for key in self._tag_keys
                   if not str(present.get(key, "")).strip()]
        if missing:
            self._offenders[node.node.path] = f"({node.cfn_resource_type}) lacks {', '.join(missing)}"

    def validate(self) -> list[str]:
        if self._scope is not None:
            for node in self._scope.node.find_all():
                self.visit(node)
        return [
            f"RequiredTagsCheck: {path} {problem}; add with Tags.of(scope).add(key, value)"
            for path, problem in sorted(self._offenders.items())
        ]


class ComplianceBaseline(Construct):
    """AWS Config rules, GuardDuty and Security Hub routing, cost anomaly detection and a budget.

    Account- and region-level singletons are created only when asked: AWS Config allows one
    configuration recorder per region (``create_recorder``), GuardDuty one detector per account and
    region (``create_guardduty_detector``), Security Hub one hub (``enable_security_hub``). Without
    them the routes use what the account already has.

    Config rules need a recorder in the region (``PutConfigRule`` fails with
    ``NoAvailableConfigurationRecorder`` otherwise), so they are created only with
    ``create_recorder=True`` or when you state ``account_has_recorder=True``; by default there are
    none, and ``rules`` is empty.

    Cost Anomaly Detection: by default no monitor is created, because every monitor type is either
    an account singleton (the AWS services monitor: one per account) or can only be created in the
    management account (cost allocation tag, linked account and cost category monitors, which also
    watch nothing until the tag is activated there). Subscribe the cost topic to a monitor the
    account has with ``existing_anomaly_monitor_arn``, or create one with ``anomaly_monitor``. Cost
    Explorer resources exist only in us-east-1: in a stack of another region none is created, and
    in a region-agnostic stack they carry a condition on ``AWS::Region``. The budget works in
    every account and region without any tag.

    Findings (GuardDuty at or above ``guardduty_min_severity``, Config rules turning NON_COMPLIANT,
    HIGH/CRITICAL Security Hub findings) go to ``security_topic`` through EventBridge rules with a
    dead-letter queue; budget and anomaly alerts go to ``cost_topic``.

    cdk-nag acknowledgements made here: the recorder role's AWS-managed AWS_ConfigRole policy (IAM4)
    and, on the findings dead-letter queue, that it has no DLQ of its own.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        security_topic: sns.ITopic,
        cost_topic: sns.ITopic,
        profile: Profile = Profile.DEV,
        encryption_key: Optional[kms.IKey] = None,
        required_tags: Optional[Sequence[str]] = None,
        enforce_required_tags: Optional[bool] = None,
        create_recorder: Optional[bool] = None,
        account_has_recorder: Optional[bool] = None,
        recorder_bucket: Optional[s3.IBucket] = None,
        create_guardduty_detector: Optional[bool] = None,
        enable_security_hub: Optional[bool] = None,
        pci_dss_standard_versions: Optional[Sequence[str]] = None,
        guardduty_min_severity: Optional[float] = None,
        anomaly_monitor: Optional[CostAnomalyMonitor] = None,
        existing_anomaly_monitor_arn: Optional[str] = None,
        cost_tag_key: Optional[str] = None,
        cost_tag_value: Optional[str] = None,
        anomaly_threshold_usd: Optional[float] = None,
        monthly_budget_usd: Optional[float] = None,
        budget_actual_percent: Optional[float] = None,
        budget_forecast_percent: Optional[float] = None,
        budget_tags: Optional[Mapping[str, str]] = None,
        alarm_topic: Optional[sns.ITopic] = None,
    ) -> None:
        """
        :param security_topic: where security findings go (``AlertTopics.security_topic``).
        :param cost_topic: where budget and anomaly alerts go (``AlertTopics.cost_topic``).
        :param profile: where unset props take their defaults from (the same in both). Default: Profile.DEV
        :param encryption_key: KMS key for the findings dead-letter queue; an imported key's policy
            must already let EventBridge use it (:meth:`key_policy_statements`). Default: a new key
        :param required_tags: tag keys every resource must carry, at most 6. Default:
            ``application``, ``cost-center``, ``environment``
        :param enforce_required_tags: fail synthesis when a resource in the stack lacks one.
            Default: True
        :param create_recorder: create the region's Config recorder and delivery channel, and the
            Config rules. Default: False
        :param account_has_recorder: the region already has a Config recorder (AWS Control Tower, a
            platform stack): create the Config rules without creating a recorder. Default: False (no
            rules unless ``create_recorder``)
        :param recorder_bucket: the delivery channel's bucket (the audit bucket), required with
            ``create_recorder``
        :param create_guardduty_detector: create the account's GuardDuty detector. Default: False
        :param enable_security_hub: enable Security Hub with the PCI DSS standard. Default: False
        :param pci_dss_standard_versions: the Security Hub PCI DSS standards to enable with
            ``enable_security_hub``: ``"4.0.1"`` (in force) and/or ``"3.2.1"`` (retired in March 2024; keep
            it only while your assessment still reads its findings). Default: ``["4.0.1"]``
        :param guardduty_min_severity: lowest GuardDuty severity routed, 1.0 to 8.9. Default: 7.0 (high)
        :param anomaly_monitor: the Cost Anomaly Detection monitor to create (us-east-1 only).
            Default: CostAnomalyMonitor.NONE
        :param existing_anomaly_monitor_arn: subscribe the cost topic to this monitor (for example the
            account's AWS services monitor) instead of creating one. Default: no subscription
        :param cost_tag_key: the cost allocation tag a ``COST_ALLOCATION_TAG`` monitor watches; activate
            it in the management account first. Default: ``application``
        :param cost_tag_value: its value. Default: ``cdk-payments``
        :param anomaly_threshold_usd: impact in USD that raises an anomaly alert. Default: 10
        :param monthly_budget_usd: the monthly cost budget in USD. Default: 50
        :param budget_actual_percent: alert when actual spend passes this share of the budget. Default: 80
        :param budget_forecast_percent: alert when forecast spend passes it. Default: 100
        :param budget_tags: count only the spend of resources carrying all these tags (key to value), for
            example the stack's ``{"application": "cdk-payments", "environment": "dev"}``. Each key must be
            an active cost allocation tag (Billing console, or ``aws ce update-cost-allocation-tags-status``
            in the management account): a budget filtered on an inactive tag sees no spend and never alerts.
            Default: none (the whole account's spend)
        :param alarm_topic: where the alarm on the findings dead-letter queue goes
            (``AlertTopics.operations_topic``). Default: ``security_topic``
        """
        super().__init__(scope, id)
        defaults = defaults_for(profile).compliance
        tags = tuple(pick(required_tags, defaults.required_tags))
        errors = PropErrors("ComplianceBaseline")
        errors.check_implements(security_topic, "security_topic", "sns.ITopic", "topic_arn", required=True)
        errors.check_implements(cost_topic, "cost_topic", "sns.ITopic", "topic_arn", required=True)
        errors.check_implements(recorder_bucket, "recorder_bucket", "s3.IBucket", "bucket_name", required=False)
        errors.check_implements(encryption_key, "encryption_key", "kms.IKey", "key_arn", required=False)
        errors.check_implements(alarm_topic, "alarm_topic", "sns.ITopic", "topic_arn", required=False)
        if budget_tags is not None:
            errors.check(isinstance(budget_tags, Mapping) and len(budget_tags) >= 1,
                         "budget_tags", f"must map one or more tag keys to values, got {budget_tags!r}")
            for tag_key, tag_value in (budget_tags.items() if isinstance(budget_tags, Mapping) else ()):
                errors.check_format(tag_key, "budget_tags", "tag_key")
                errors.check_format(tag_value, "budget_tags", "tag_value")
        errors.check_format(cost_tag_key, "cost_tag_key", "tag_key")
        errors.check_format(cost_tag_value, "cost_tag_value", "tag_value")
        errors.check(
            not isinstance(required_tags, str) and 1 <= len(tags) <= REQUIRED_TAGS_LIMIT
            and all(isinstance(t, str) and t for t in tags),
            "required_tags", f"must be 1 to {REQUIRED_TAGS_LIMIT} tag keys, got {required_tags!r}",
        )
        if not isinstance(required_tags, str):
            errors.check_unique(list(tags), "required_tags")
            for tag in tags:
                if isinstance(tag, str) and tag:
                    errors.check_format(tag, "required_tags", "tag_key")
        for flag in ("enforce_required_tags", "create_recorder", "account_has_recorder",
                     "create_guardduty_detector", "enable_security_hub"):
            errors.check_type(locals()[flag], flag, bool)
        if errors.check_sequence(pci_dss_standard_versions, "pci_dss_standard_versions", str, '["4.0.1"]'):
            for version in pci_dss_standard_versions or ():
                errors.check_choice(version, "pci_dss_standard_versions", PCI_STANDARDS)
            errors.check_unique(pci_dss_standard_versions, "pci_dss_standard_versions")
            errors.check(pci_dss_standard_versions != [] and pci_dss_standard_versions != (),
                         "pci_dss_standard_versions", "names no version: leave it unset for 4.0.1")
        errors.check(not (create_recorder and account_has_recorder), "account_has_recorder",
                     "contradicts create_recorder=True (a region has one recorder): set only one of them")
        monitor = pick(anomaly_monitor, defaults.anomaly_monitor)
        if errors.check_enum(anomaly_monitor, "anomaly_monitor", CostAnomalyMonitor):
            errors.check(existing_anomaly_monitor_arn is None or monitor is CostAnomalyMonitor.NONE,
                         "existing_anomaly_monitor_arn", f"excludes anomaly_monitor={monitor}: set only one of them")
            for prop, value in (("cost_tag_key", cost_tag_key), ("cost_tag_value", cost_tag_value)):
                errors.check(value is None or monitor is CostAnomalyMonitor.COST_ALLOCATION_TAG, prop,
                             "is used only with anomaly_monitor=CostAnomalyMonitor.COST_ALLOCATION_TAG")
        errors.check_format(existing_anomaly_monitor_arn, "existing_anomaly_monitor_arn", "anomaly_monitor_arn")
        self._check_singletons(errors, create_recorder=pick(create_recorder, defaults.create_recorder),
                               detector=pick(create_guardduty_detector, defaults.create_guardduty_detector),
                               hub=pick(enable_security_hub, defaults.enable_security_hub),
                               services_monitor=monitor is CostAnomalyMonitor.AWS_SERVICES)
        errors.check(not create_recorder or recorder_bucket is not None, "recorder_bucket",
                     "is required with create_recorder=True")
        errors.check(recorder_bucket is None or bool(create_recorder), "recorder_bucket",
                     "is used only with create_recorder=True")
        errors.check(not _object_locked(recorder_bucket), "recorder_bucket",
                     "has Object Lock, and AWS Config cannot deliver to such a bucket: pass one without it (for "
                     "example AuditBucket.access_log_bucket)")
        severity = pick(guardduty_min_severity, defaults.guardduty_min_severity)
        errors.check(isinstance(severity, (int, float)) and not isinstance(severity, bool) and 1.0 <= severity <= 8.9,
                     "guardduty_min_severity",
                     f"must be a number from 1.0 to 8.9, got {severity!r}")
        for prop, value, low, high in (("anomaly_threshold_usd", anomaly_threshold_usd, 1, 1_000_000),
                                       ("monthly_budget_usd", monthly_budget_usd, 1, 10_000_000),
                                       ("budget_actual_percent", budget_actual_percent, 1, 1000),
                                       ("budget_forecast_percent", budget_forecast_percent, 1, 1000)):
            errors.check(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                           and low <= value <= high),
                         prop, f"must be a number from {low} to {high}, got {value!r}")
        errors.raise_if_any()
        flag_overridden_defaults(self, [
            Override("enforce_required_tags", enforce_required_tags, defaults.enforce_required_tags, turned_off,
                     "resources without the required tags synthesize (cost allocation and REQUIRED_TAGS fail later)"),
            Override("guardduty_min_severity", guardduty_min_severity, defaults.guardduty_min_severity, higher,
                     "fewer GuardDuty findings reach the security topic"),
            Override("required_tags", required_tags, defaults.required_tags, removes_items,
                     "resources may lack the removed tags"),
        ])

        self._recorder = (self._create_recorder(recorder_bucket)
                          if pick(create_recorder, defaults.create_recorder) else None)
        self._rules: list[config.ManagedRule] = []
        self._rules_enabled = self._recorder is not None or bool(
            pick(account_has_recorder, defaults.account_has_recorder))
        if self._rules_enabled:
            for name, identifier in MANAGED_RULES.items():
                self.add_managed_rule(name, identifier)
            self.add_managed_rule(
                "RequiredTags", config.ManagedRuleIdentifiers.REQUIRED_TAGS,
                input_parameters={f"tag{i}Key": key for i, key in enumerate(tags, start=1)},
            )
        if pick(enforce_required_tags, defaults.enforce_required_tags):
            RequiredTagsCheck.apply(Stack.of(self), tags)

        self._detector = (
            guardduty.CfnDetector(self, "Detector", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES")
            if pick(create_guardduty_detector, defaults.create_guardduty_detector) else None
        )
        if self._detector is not None:
            acknowledge(
                self._detector,
                "S3 Protection bills per S3 data event analysed; the audit bucket already records every "
                "request in its server access logs and is Object Locked. Enable it on the account's detector "
                "when the bill allows.",
                guard("guardduty_s3_protection_enabled_check"),
            )
        self._hub = None
        if pick(enable_security_hub, defaults.enable_security_hub):
            # Only the standards chosen here: Security Hub's defaults (Foundational Best Practices, CIS) bill
            # per control check. Applies when the hub is created; an existing hub keeps what it has.
            self._hub = securityhub.CfnHub(self, "SecurityHub", enable_default_standards=False)
            previous = self._hub  # one standard at a time: Security Hub enables standards one call at a time
            for version in pick(pci_dss_standard_versions, defaults.pci_dss_standard_versions):
                construct_id, standard_path = PCI_STANDARDS[version]
                standard = securityhub.CfnStandard(
                    self, construct_id, standards_arn=f"arn:{Aws.PARTITION}:securityhub:{Aws.REGION}::{standard_path}")
                standard.node.add_dependency(previous)
                previous = standard

        self._key = key_for(self, encryption_key, purpose="findings dead-letter queue")
        allow_services(self._key, "events.amazonaws.com", scope=self)
        self._dead_letter_queue = dead_letter_queue(
            self, "FindingsDeadLetterQueue", self._key, holds="findings EventBridge could not deliver to the "
            "security topic", redrive_queue=False)
        self._dead_letter_alarm = dead_letter_alarm(
            self, "FindingsDeadLetters", self._dead_letter_queue, topic=alarm_topic or security_topic,
            what="Findings EventBridge could not deliver to the security topic")
        warn_if_imported_topic(self, security_topic, "security_topic", ["events.amazonaws.com"])
        warn_if_imported_topic(self, cost_topic, "cost_topic", ["budgets.amazonaws.com", "costalerts.amazonaws.com"])
        target = targets.SnsTopic(security_topic, dead_letter_queue=self._dead_letter_queue, retry_attempts=8,
                                  max_event_age=Duration.hours(24))
        self._finding_rules = [
            events.Rule(self, "GuardDutyFindings", description="GuardDuty findings at or above the threshold",
                        event_pattern=events.EventPattern(
                            source=["aws.guardduty"], detail_type=["GuardDuty Finding"],
                            detail={"severity": [{"numeric": [">=", severity]}]}),
                        targets=[target]),
            events.Rule(self, "ConfigNonCompliant", description="Config rules turning NON_COMPLIANT",
                        event_pattern=events.EventPattern(
                            source=["aws.config"], detail_type=["Config Rules Compliance Change"],
                            detail={"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}),
                        targets=[target]),
            events.Rule(self, "SecurityHubFindings", description="New HIGH and CRITICAL Security Hub findings",
                        event_pattern=events.EventPattern(
                            source=["aws.securityhub"], detail_type=["Security Hub Findings - Imported"],
                            detail={"findings": {"Severity": {"Label": ["HIGH", "CRITICAL"]},
                                                 "Workflow": {"Status": ["NEW"]}}}),
                        targets=[target]),
        ]

        self._anomaly_monitor, self._anomaly_subscription = self._cost_anomaly_detection(
            monitor, existing_anomaly_monitor_arn, cost_topic,
            tag=(pick(cost_tag_key, defaults.cost_tag_key), pick(cost_tag_value, defaults.cost_tag_value)),
            threshold=pick(anomaly_threshold_usd, defaults.anomaly_threshold_usd))

        def notification(kind: str, percent: float) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind, comparison_operator="GREATER_THAN", threshold=percent,
                    threshold_type="PERCENTAGE"),
                subscribers=[budgets.CfnBudget.SubscriberProperty(subscription_type="SNS",
                                                                  address=cost_topic.topic_arn)],
            )

        self._budget = budgets.CfnBudget(
            self, "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST", time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=pick(monthly_budget_usd, defaults.monthly_budget_usd),
                                                             unit="USD"),
                filter_expression=_budget_filter(budget_tags)),
            notifications_with_subscribers=[
                notification("ACTUAL", pick(budget_actual_percent, defaults.budget_actual_percent)),
                notification("FORECASTED", pick(budget_forecast_percent, defaults.budget_forecast_percent)),
            ],
        )
        AcknowledgeGrantPolicies.apply(self)

    def add_managed_rule(self, id: str, identifier: str, *,
                         input_parameters: Optional[dict] = None) -> config.ManagedRule:
        """Add an AWS Config managed rule (``config.ManagedRuleIdentifiers``) to the baseline.

        Raises ``ValueError`` unless the region has a recorder (``create_recorder`` or
        ``account_has_recorder``): without one the rule fails to deploy."""
        if not self._rules_enabled:
            raise ValueError("add_managed_rule: Config rules need a configuration recorder in the region; pass "
                             "create_recorder=True, or account_has_recorder=True when the region already has one")
        rule = config.ManagedRule(self, id, identifier=identifier, input_parameters=input_parameters)
        if self._recorder is not None:  # a rule needs a recorder to evaluate anything
            rule.node.add_dependency(self._recorder)
        self._rules.append(rule)
        return rule

    def _check_singletons(self, errors: PropErrors, *, create_recorder: bool, detector: bool, hub: bool,
                          services_monitor: bool) -> None:
        """One baseline per stack (its RequiredTagsCheck, budget and finding rules would be doubled), and
        each account or region singleton it creates only once per environment of the app."""
        stack = Stack.of(self)
        others = [c.node.path for c in stack.node.find_all() if isinstance(c, ComplianceBaseline) and c is not self]
        errors.check(not others, "scope", f"a stack holds one ComplianceBaseline and {stack.stack_name} has "
                                          f"{', '.join(others)} already: configure that one")
        fix = ": set {} only on the first"
        region = "account and region"
        for wanted, prop, resource_type, what, per, where in (
            (create_recorder, "create_recorder", config.CfnConfigurationRecorder, "a Config recorder", region, None),
            (detector, "create_guardduty_detector", guardduty.CfnDetector, "a GuardDuty detector", region, None),
            (hub, "enable_security_hub", securityhub.CfnHub, "Security Hub", region, None),
            (services_monitor, "anomaly_monitor", ce.CfnAnomalyMonitor, "the AWS services anomaly monitor",
             "account", lambda monitor: monitor.monitor_type == "DIMENSIONAL"),
        ):
            if wanted:
                errors.check_singleton(self, prop, resource_type, what, per=per, fix=fix.format(prop), where=where)

    def _cost_anomaly_detection(self, monitor: CostAnomalyMonitor, existing_arn: Optional[str], topic: sns.ITopic,
                                *, tag: tuple[str, str], threshold: float):
        if monitor is CostAnomalyMonitor.NONE and existing_arn is None:
            return None, None
        region = Stack.of(self).region
        condition = None
        if Token.is_unresolved(region):  # a region-agnostic stack: decide at deploy time
            condition = CfnCondition(self, "InCostExplorerRegion",
                                     expression=Fn.condition_equals(Aws.REGION, COST_EXPLORER_REGION))
        elif region != COST_EXPLORER_REGION:
            Annotations.of(self).add_warning_v2(
                "cdk-payments:costExplorerRegion",
                f"Cost Anomaly Detection exists only in {COST_EXPLORER_REGION}: no monitor or subscription in {region}; "
                f"deploy a ComplianceBaseline in {COST_EXPLORER_REGION} for them.")
            return None, None
        name = f"{Stack.of(self).stack_name}-payments"
        created = None
        if monitor is CostAnomalyMonitor.AWS_SERVICES:
            created = ce.CfnAnomalyMonitor(self, "AnomalyMonitor", monitor_name=name, monitor_type="DIMENSIONAL",
                                           monitor_dimension="SERVICE")
        elif monitor is CostAnomalyMonitor.COST_ALLOCATION_TAG:
            created = ce.CfnAnomalyMonitor(
                self, "AnomalyMonitor", monitor_name=name, monitor_type="CUSTOM",
                monitor_specification=json.dumps({"Tags": {"Key": tag[0], "Values": [tag[1]],
                                                           "MatchOptions": ["EQUALS"]}}))
        subscription = ce.CfnAnomalySubscription(
            self, "AnomalySubscription", subscription_name=name, frequency="IMMEDIATE",
            monitor_arn_list=[created.attr_monitor_arn if created else existing_arn],
            subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(type="SNS", address=topic.topic_arn)],
            threshold_expression=json.dumps({"Dimensions": {
                "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                "Values": [str(threshold)]}}),
        )
        for resource in (created, subscription):
            if resource is not None and condition is not None:
                resource.cfn_options.condition = condition
        return created, subscription

    def _create_recorder(self, bucket: s3.IBucket) -> config.CfnConfigurationRecorder:
        role = iam.Role(
            self, "RecorderRole", assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")],
        )
        acknowledge(
            role,
            "AWS Config's recorder role uses AWS_ConfigRole, the AWS-managed policy that AWS keeps current "
            "as Config adds resource types; delivery to the bucket is granted separately below.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
        )
        bucket.grant_put(role, "AWSLogs/*")  # with the bucket's KMS key, when it has one
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]))
        recorder = config.CfnConfigurationRecorder(
            self, "Recorder", role_arn=role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=True, include_global_resource_types=False),
        )
        channel = config.CfnDeliveryChannel(
            self, "DeliveryChannel", s3_bucket_name=bucket.bucket_name,
            s3_kms_key_arn=bucket.encryption_key.key_arn if bucket.encryption_key else None,
            config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                delivery_frequency="TwentyFour_Hours"),
        )
        # No DependsOn between the two: CloudFormation starts the recorder as it creates it, and it cannot
        # start without a channel (a channel that waits for the recorder fails the first deploy:
        # NoAvailableDeliveryChannelException, aws-cdk#9001; CloudFormation user guide on
        # AWS::Config::DeliveryChannel). The channel does wait for the role's S3 grant, which
        # PutDeliveryChannel checks (InsufficientDeliveryPolicyException, aws-cdk#3577).
        channel.node.add_dependency(role.node.find_child("DefaultPolicy"))
        return recorder

    @property
    def rules(self) -> list[config.ManagedRule]:
        """The Config rules of the baseline (none without a recorder), including those added with
        ``add_managed_rule``."""
        return list(self._rules)

    @property
    def finding_rules(self) -> list[events.Rule]:
        """The EventBridge rules that route GuardDuty, Config and Security Hub findings."""
        return list(self._finding_rules)

    @property
    def finding_rule_names(self) -> list[str]:
        """Their names, for ``PaymentDashboards(finding_rules=...)``."""
        return [rule.rule_name for rule in self._finding_rules]

    @property
    def recorder(self) -> Optional[config.CfnConfigurationRecorder]:
        """The Config recorder, when ``create_recorder`` was set."""
        return self._recorder

    @property
    def detector(self) -> Optional[guardduty.CfnDetector]:
        """The GuardDuty detector, when ``create_guardduty_detector`` was set."""
        return self._detector

    @property
    def security_hub(self) -> Optional[securityhub.CfnHub]:
        """The Security Hub, when ``enable_security_hub`` was set."""
        return self._hub

    @property
    def dead_letter_queue(self) -> sqs.Queue:
        """Findings EventBridge could not deliver."""
        return self._dead_letter_queue

    @property
    def dead_letter_alarm(self) -> cloudwatch.Alarm:
        """Fires when a finding waits in :attr:`dead_letter_queue`."""
        return self._dead_letter_alarm

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements ``encryption_key``'s policy needs for this construct, as built: ``events.amazonaws.com``
        may use it (``kms:Decrypt``, ``kms:GenerateDataKey*``) to put undeliverable findings in the
        encrypted dead-letter queue.
        Added to a key the construct owns; add them yourself to an imported key's policy (synthesis
        warns). Roles get their access through IAM grants, which need only the default key policy."""
        return key_policy_statements(self)

    @property
    def budget(self) -> budgets.CfnBudget:
        """The monthly cost budget."""
        return self._budget

    @property
    def anomaly_monitor(self) -> Optional[ce.CfnAnomalyMonitor]:
        """The Cost Anomaly Detection monitor, when ``anomaly_monitor`` created one (us-east-1 only)."""
        return self._anomaly_monitor

    @property
    def anomaly_subscription(self) -> Optional[ce.CfnAnomalySubscription]:
        """The subscription that sends anomalies to the cost topic, when there is a monitor."""
        return self._anomaly_subscription


def _object_locked(bucket: Optional[s3.IBucket]) -> bool:
    """Whether a bucket defined in this app has Object Lock (an imported one cannot be told)."""
    resource = bucket.node.default_child if isinstance(bucket, s3.Bucket) else None
    return isinstance(resource, s3.CfnBucket) and bool(resource.object_lock_enabled)


def _budget_filter(tags: Optional[Mapping[str, str]]) -> Optional[budgets.CfnBudget.ExpressionProperty]:
    """Spend of resources carrying every tag in ``tags`` (Budgets' Expression; And needs two or more)."""
    if not tags:
        return None
    each = [budgets.CfnBudget.ExpressionProperty(tags=budgets.CfnBudget.TagValuesProperty(
        key=key, values=[value], match_options=["EQUALS"])) for key, value in sorted(tags.items())]
    return each[0] if len(each) == 1 else budgets.CfnBudget.ExpressionProperty(and_=each)
