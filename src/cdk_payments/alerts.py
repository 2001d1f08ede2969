"""AlertTopics and PaymentDashboards: where the platform's alerts go and what operators look at."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._kms import allow_services, key_for, key_policy_statements
from ._queues import dead_letter_alarm, dead_letter_queue
from ._topics import service_topic
from ._validation import PropErrors, pick
from .choices import AlertChannel
from .payment_api import SecurePaymentApi
from .profiles import Profile, defaults_for

__all__ = ["AlertChannel", "AlertTopics", "PaymentDashboards"]


# The only AWS services allowed to publish to each topic.
PUBLISHERS = {
    AlertChannel.COST: ("budgets.amazonaws.com", "costalerts.amazonaws.com", "cloudwatch.amazonaws.com"),
    AlertChannel.SECURITY: ("events.amazonaws.com", "cloudwatch.amazonaws.com"),
    AlertChannel.OPERATIONS: ("cloudwatch.amazonaws.com", "events.amazonaws.com"),
}


class AlertTopics(Construct):
    """Three KMS-encrypted, SSL-only SNS topics (cost, security, operations) whose topic policies let
    only the AWS services that raise those alerts publish, from this account.

    Subscribe people with ``emails`` and systems with ``https_endpoints``, keyed by channel; alerts SNS
    cannot deliver wait in a dead-letter queue (acknowledged in cdk-nag as having no DLQ of its own).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: Optional[kms.IKey] = None,
        emails: Optional[Mapping[AlertChannel, Sequence[str]]] = None,
        https_endpoints: Optional[Mapping[AlertChannel, Sequence[str]]] = None,
    ) -> None:
        """
        :param encryption_key: the topics' KMS key; the construct lets the publishing services use
            it (an imported key's policy must already: :meth:`key_policy_statements`). Default: a new key
        :param emails: email addresses to subscribe, per channel. Default: none
        :param https_endpoints: HTTPS URLs to subscribe (PagerDuty, Slack...), per channel. Default: none
        """
        super().__init__(scope, id)
        errors = PropErrors("AlertTopics")
        errors.check_implements(encryption_key, "encryption_key", "kms.IKey", "key_arn", required=False)
        for prop, value in (("emails", emails), ("https_endpoints", https_endpoints)):
            errors.check(value is None or isinstance(value, dict), prop,
                         f"expected a dict of AlertChannel to addresses, got {value!r}")
        errors.raise_if_any()
        for prop, value, kind in (("emails", emails, "email"), ("https_endpoints", https_endpoints, "https_url")):
            for channel, addresses in (value or {}).items():
                errors.check_enum(channel, prop, AlertChannel)
                if errors.check(not isinstance(addresses, str) and isinstance(addresses, (list, tuple)), prop,
                                f"expected a list of {'email addresses' if kind == 'email' else 'https:// URLs'} "
                                f"per channel, got {addresses!r}"):
                    for address in addresses:
                        errors.check_format(address, prop, kind, item=str(getattr(channel, "name", channel)))
                errors.check_unique(addresses, prop)
        errors.raise_if_any()

        self._encryption_key = key_for(self, encryption_key, purpose="alert topics")
        # SNS needs the publishers to be able to use the topics' key.
        allow_services(self._encryption_key, *sorted({s for publishers in PUBLISHERS.values() for s in publishers}),
                       scope=self)
        self._dead_letter_queue: Optional[sqs.Queue] = None
        if emails or https_endpoints:
            # Notifications SNS could not deliver to a subscriber wait here instead of being lost.
            allow_services(self._encryption_key, "sns.amazonaws.com", scope=self)
            self._dead_letter_queue = dead_letter_queue(
                self, "UndeliveredAlerts", self._encryption_key, holds="alerts SNS could not deliver to a subscriber",
                redrive_queue=False)
        dlq = self._dead_letter_queue
        self._topics: dict[AlertChannel, sns.Topic] = {}
        for channel in AlertChannel:
            topic = service_topic(self, channel.name.title(), self._encryption_key,
                                  publishers=PUBLISHERS[channel],
                                  display_name=f"Payment platform {channel.value} alerts")
            for address in (emails or {}).get(channel, []):
                topic.add_subscription(subscriptions.EmailSubscription(address, dead_letter_queue=dlq))
            for url in (https_endpoints or {}).get(channel, []):
                topic.add_subscription(subscriptions.UrlSubscription(
                    url, protocol=sns.SubscriptionProtocol.HTTPS, dead_letter_queue=dlq))
            self._topics[channel] = topic
        # One subscriber refusing (a bounced address, an endpoint down) is told on the operations topic, which
        # its other subscribers still receive.
        self._dead_letter_alarm = None if dlq is None else dead_letter_alarm(
            self, "UndeliveredAlertsWaiting", dlq, topic=self._topics[AlertChannel.OPERATIONS],
            what="Alerts SNS could not deliver to a subscriber")

    def topic(self, channel: AlertChannel) -> sns.Topic:
        """The topic of ``channel``."""
        return self._topics[channel]

    @property
    def cost_topic(self) -> sns.Topic:
        """Budgets, anomaly detection and billing alarms publish here."""
        return self._topics[AlertChannel.COST]

    @property
    def security_topic(self) -> sns.Topic:
        """Routed GuardDuty, Security Hub and Config findings arrive here."""
        return self._topics[AlertChannel.SECURITY]

    @property
    def operations_topic(self) -> sns.Topic:
        """Operational alarms publish here."""
        return self._topics[AlertChannel.OPERATIONS]

    @property
    def encryption_key(self) -> kms.IKey:
        """The topics' KMS key."""
        return self._encryption_key

    @property
    def dead_letter_queue(self) -> Optional[sqs.Queue]:
        """Alerts SNS could not deliver to a subscriber (only when there are subscriptions)."""
        return self._dead_letter_queue

    @property
    def dead_letter_alarm(self) -> Optional[cloudwatch.Alarm]:
        """Fires when an alert waits in :attr:`dead_letter_queue`; it notifies the operations topic."""
        return self._dead_letter_alarm

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements ``encryption_key``'s policy needs for this construct, as built: the publishing
        services (budgets, costalerts, cloudwatch, events ``.amazonaws.com``) may use it
        (``kms:Decrypt``, ``kms:GenerateDataKey*``) to publish to the encrypted topics, and so may
        ``sns.amazonaws.com``, to put undeliverable alerts in the dead-letter queue, when there are
        subscriptions.
        Added to a key the construct owns; add them yourself to an imported key's policy (synthesis
        warns). Roles get their access through IAM grants, which need only the default key policy."""
        return key_policy_statements(self)


class PaymentDashboards(Construct):
    """CloudWatch dashboards for a :class:`SecurePaymentApi`: operational health, security posture
    and cost. Built from the API's public attributes with plain aws-cdk-lib widgets
    (cdk-monitoring-constructs would add a second jsii assembly to every synth for ~60 lines).

    A dashboard costs $3/month beyond an account's first three, so the dev profile puts the three
    views on one dashboard (``combined``) and the prod profile gives each its own.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        payment_api: SecurePaymentApi,
        profile: Profile = Profile.DEV,
        combined: Optional[bool] = None,
        finding_rules: Optional[Sequence[str]] = None,
        period: Optional[Duration] = None,
    ) -> None:
        """
        :param payment_api: the API whose traffic, errors, latency, functions, queue and table are shown.
        :param profile: where unset props take their defaults from. Default: Profile.DEV
        :param combined: one dashboard with three sections instead of three dashboards.
            Default: the profile's (DEV: True, PROD: False)
        :param finding_rules: names of EventBridge rules that route security findings (their
            invocations are shown). Default: none
        :param period: metric period. Default: 5 minutes
        """
        super().__init__(scope, id)
        errors = PropErrors("PaymentDashboards")
        errors.check(isinstance(payment_api, SecurePaymentApi), "payment_api", "must be a SecurePaymentApi")
        errors.check_type(combined, "combined", bool)
        errors.check_type(period, "period", Duration)
        errors.check_sequence(finding_rules, "finding_rules", str, "baseline.finding_rule_names")
        errors.raise_if_any()
        defaults = defaults_for(profile).dashboards
        one = pick(combined, defaults.combined)
        shared = cloudwatch.Dashboard(self, "Payments", default_interval=Duration.hours(3)) if one else None

        def dashboard(id: str, title: str, interval: Duration) -> cloudwatch.Dashboard:
            if shared is None:
                return cloudwatch.Dashboard(self, id, default_interval=interval)
            shared.add_widgets(cloudwatch.TextWidget(markdown=f"# {title}", width=24, height=1))
            return shared

        api, every = payment_api, pick(period, defaults.period)
        fns = {"processor": api.processor, "event handler": api.event_handler}
        table = api.table

        def graph(title, left, right=None, width=8):
            return cloudwatch.GraphWidget(title=title, left=left, right=right or [], width=width, period=every)

        self._operations = dashboard("Operations", "Operational health", Duration.hours(3))
        self._operations.add_widgets(
            graph("API requests and errors", [api.rest_api.metric_count(period=every)],
                  [api.rest_api.metric_client_error(period=every), api.rest_api.metric_server_error(period=every)]),
            graph("API latency p50 / p99", [api.rest_api.metric_latency(statistic="p50", period=every),
                                            api.rest_api.metric_latency(statistic="p99", period=every)]),
            graph("Lambda errors and throttles",
                  [fn.metric_errors(period=every, label=f"{name} errors") for name, fn in fns.items()],
                  [fn.metric_throttles(period=every, label=f"{name} throttles") for name, fn in fns.items()]),
        )
        self._operations.add_widgets(
            graph("Lambda duration p99", [fn.metric_duration(statistic="p99", period=every, label=name)
                                          for name, fn in fns.items()]),
            graph("Queue depth and age", [api.queue.metric_approximate_number_of_messages_visible(period=every),
                                          api.dead_letter_queue.metric_approximate_number_of_messages_visible(
                                              period=every, label="dead letters")],
                  [api.queue.metric_approximate_age_of_oldest_message(period=every)]),
            # DynamoDB latency exists only per Operation: without the dimension the graph is empty.
            graph("DynamoDB latency", [table.metric_successful_request_latency(
                dimensions_map={"TableName": table.table_name, "Operation": op}, period=every, label=op)
                for op in ("GetItem", "PutItem", "UpdateItem")]),
        )

        web_acl_name = api.web_acl.name
        region = Stack.of(self).region

        def waf(metric):
            return cloudwatch.Metric(namespace="AWS/WAFV2", metric_name=metric, statistic="Sum", period=every,
                                     dimensions_map={"WebACL": web_acl_name, "Region": region, "Rule": "ALL"})

        self._security = dashboard("Security", "Security posture", Duration.hours(24))
        findings: cloudwatch.IWidget = cloudwatch.TextWidget(
            markdown="Pass `finding_rules` (ComplianceBaseline.finding_rule_names) to chart routed findings.",
            width=12, height=6,
        )
        if finding_rules:
            findings = graph("Findings routed", [
                cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules", statistic="Sum",
                                  dimensions_map={"RuleName": rule}, period=every, label=rule)
                for rule in finding_rules
            ], width=12)
        self._security.add_widgets(
            graph("WAF allowed / blocked", [waf("AllowedRequests")], [waf("BlockedRequests")], width=12), findings
        )

        # Billing metrics exist only in us-east-1, in USD.
        charges = cloudwatch.Metric(namespace="AWS/Billing", metric_name="EstimatedCharges", region="us-east-1",
                                    dimensions_map={"Currency": "USD"}, statistic="Maximum",
                                    period=Duration.hours(6))
        self._cost = dashboard("Cost", "Cost", Duration.days(30))
        self._cost.add_widgets(
            cloudwatch.SingleValueWidget(title="Estimated charges this month (USD)", metrics=[charges], width=8),
            graph("Estimated charges", [charges], width=16),
        )

    @property
    def dashboards(self) -> list[cloudwatch.Dashboard]:
        """The dashboards created: one when combined, else three."""
        return list({id(d): d for d in (self._operations, self._security, self._cost)}.values())

    @property
    def operations(self) -> cloudwatch.Dashboard:
        """API traffic, errors and latency; Lambda; queue depth and age; DynamoDB latency."""
        return self._operations

    @property
    def security(self) -> cloudwatch.Dashboard:
        """WAF allowed and blocked requests; routed findings."""
        return self._security

    @property
    def cost(self) -> cloudwatch.Dashboard:
        """Estimated charges."""
        return self._cost
