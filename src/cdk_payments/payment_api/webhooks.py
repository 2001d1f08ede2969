"""PaymentWebhooks: the payment events of configured merchants, delivered to their HTTPS endpoints as
signed Standard Webhooks (``runtime/webhooks.py``), retried for 3 days, then dead-lettered and replayable.

    bus --rule (source cdk-payments, merchant_id in the endpoints)--> Queue --> Delivery --> merchant
                                                     |  (3 days of backoff, or the rule's own failures)
                                                     +--> DeadLetterQueue --(StartMessageMoveTask)--> Queue

Why this shape:
- One secret per merchant (``{"url", "secret"}``), generated at deploy and rotated every
  ``rotation_days`` by ``runtime/webhook_rotation.py``, which keeps the old secret valid (a second
  signature) for a day. The secrets have generated names: a fixed name would be held for days by a
  deleted secret's recovery window, so a retried first deploy would fail. The delivery function finds
  each merchant's secret in a JSON map in its environment.
- A standard queue (no ordering, so no head-of-line blocking): each failed message sets its own
  visibility timeout to its backoff (``ChangeMessageVisibility``, at most 12 hours after receipt, so
  the longest step is 11 h), and a merchant whose endpoint failed once in a batch costs the batch no
  second timeout. Retention is 4 days, the 3-day window plus the longest step.
- The function runs outside any VPC: its only network is the internet, so even a guard bypass could not
  reach the VPC's private addresses; the guard (``runtime/webhooks.py``) refuses private, loopback,
  link-local and metadata addresses and pins the checked address against DNS rebinding.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Mapping

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._alarms import alarm
from .._nag import AcknowledgeGrantPolicies, acknowledge, guard
from .._queues import dead_letter_queue, encrypted_queue
from .functions import FunctionDefaults, PaymentFunction
from .settlement import consume

DELIVERY_TIMEOUT = Duration.minutes(3)
"""Ten messages, each at most 13 s (3 s to connect, 10 s to answer), with room to spare."""
RETENTION = Duration.days(4)
# A safety net only: the delivery code dead-letters after 3 days itself (about 13 attempts); a message
# whose handling keeps crashing gets there after this many receives.
MAX_RECEIVE_COUNT = 30
EVENT_SOURCE = "cdk-payments"


class PaymentWebhooks(Construct):
    """Webhook delivery for ``SecurePaymentApi(webhook_endpoints=...)``: created by the API as its
    ``Webhooks`` child and exposed as ``SecurePaymentApi.webhooks``."""

    def __init__(self, scope: Construct, id: str, *, endpoints: Mapping[str, str], event_bus: events.IEventBus,
                 encryption_key: kms.IKey, alarm_topic: sns.ITopic, function_defaults: FunctionDefaults,
                 rotation_days: int, max_concurrency: int = 2) -> None:
        super().__init__(scope, id)
        key = encryption_key
        self._dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", key, holds="webhooks that failed for 3 days or that EventBridge could not "
            "queue (the WebhookDeadLetters alarm fires; replay with StartMessageMoveTask)", redrive_queue=True)
        self._queue = encrypted_queue(
            self, "Queue", key, visibility_timeout=Duration.seconds(DELIVERY_TIMEOUT.to_seconds() * 6),
            retention_period=RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self._dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT))
        self._secrets = {merchant: self._secret(merchant, url, key) for merchant, url in sorted(endpoints.items())}
        defaults = replace(function_defaults, vpc=None, vpc_subnets=None, reserved_concurrency=None,
                           dead_letter_queue=self._dead_letter_queue)
        self._rotation_function = PaymentFunction(
            self, "SecretRotation", handler="runtime.webhook_rotation.handler",
            description="cdk-payments webhook secret rotation", timeout=Duration.seconds(30), environment={},
            defaults=defaults).function
        for secret in self._secrets.values():
            secret.add_rotation_schedule("Rotation", rotation_lambda=self._rotation_function,
                                         rotate_immediately_on_update=False,
                                         automatically_after=Duration.days(rotation_days))
        # The key: its environment, and Lambda's sending a failed invocation to the encrypted dead-letter queue.
        key.grant_encrypt_decrypt(self._rotation_function)
        # CDK lets secretsmanager.amazonaws.com invoke it for any secret; only this account's may (it
        # rotates several secrets, so no single SourceArn).
        permissions = [child for child in self._rotation_function.node.children
                       if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com"]
        if len(permissions) != 1:
            raise RuntimeError(f"expected CDK's one Secrets Manager invoke permission, found {len(permissions)}")
        permissions[0].source_account = Aws.ACCOUNT_ID
        acknowledge(permissions[0], "Secrets Manager may invoke the rotation function only for secrets of this "
                    "account (SourceAccount, a Ref the control cannot read as a literal); it rotates one secret per "
                    "merchant, so no single SourceArn names them all.",
                    guard("lambda_function_public_access_prohibited_check"))
        self._delivery = PaymentFunction(
            self, "Delivery", handler="runtime.webhooks.handler", description="cdk-payments webhook delivery",
            timeout=DELIVERY_TIMEOUT, defaults=defaults,
            environment={"WEBHOOK_QUEUE_URL": self._queue.queue_url,
                         "WEBHOOK_DLQ_URL": self._dead_letter_queue.queue_url,
                         "WEBHOOK_SECRETS": Stack.of(self).to_json_string(
                             {merchant: secret.secret_arn for merchant, secret in self._secrets.items()})},
        ).function
        # Exactly the calls runtime/webhooks.py makes: each merchant's secret, its backoff
        # (ChangeMessageVisibility, in the event source's grant), the dead letter after 3 days.
        for secret in self._secrets.values():
            secret.grant_read(self._delivery)
        # The key: the dead letters it sends (SendMessage comes with the function's dead-letter config), its
        # environment; and the event source's grant_consume the queue's.
        key.grant_encrypt_decrypt(self._delivery)
        consume(self._queue, self._delivery, max_concurrency=max_concurrency)
        self._rule = events.Rule(
            self, "Rule", event_bus=event_bus, description="Payment events of merchants with a webhook endpoint",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=events.Match.prefix("Payment "),
                                              detail={"merchant_id": sorted(endpoints)}),
            targets=[targets.SqsQueue(self._queue, dead_letter_queue=self._dead_letter_queue,
                                      retry_attempts=185, max_event_age=Duration.hours(24))],
        )
        self._alarms = [
            alarm(self, "WebhookDeadLetters",
                  self._dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                  threshold=1, topic=alarm_topic, notify_ok=True,
                  description="Webhooks reached their dead-letter queue: fix the endpoint, then replay them"),
            alarm(self, "WebhookDeliveryErrors", self._delivery.metric_errors(period=Duration.minutes(5)),
                  threshold=1, topic=alarm_topic, notify_ok=True, description="The webhook delivery function failed"),
        ]

    # -- grants -----------------------------------------------------------------------------------
    def grant_replay(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` replay the dead letters into the delivery queue (``replay_command``): SQS's
        message move task reads and deletes them from the DLQ and sends them to the queue."""
        self._dead_letter_queue.grant(grantee, "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks",
                                      "sqs:CancelMessageMoveTask")
        self._dead_letter_queue.grant_consume_messages(grantee)
        grant = self._queue.grant_send_messages(grantee)
        if isinstance(grantee, iam.Role):  # the key's action groups (kms:GenerateDataKey*), as every grant's
            AcknowledgeGrantPolicies.apply(grantee)
        return grant

    # -- attributes -------------------------------------------------------------------------------
    @property
    def queue(self) -> sqs.Queue:
        """The delivery queue the rule fills and the delivery function consumes."""
        return self._queue

    @property
    def dead_letter_queue(self) -> sqs.Queue:
        """Webhooks that failed for 3 days (or that EventBridge could not queue): replay them."""
        return self._dead_letter_queue

    @property
    def delivery_function(self) -> lambda_.Function:
        return self._delivery

    @property
    def rotation_function(self) -> lambda_.Function:
        return self._rotation_function

    @property
    def secrets(self) -> dict[str, secretsmanager.Secret]:
        """Each merchant's ``{"url", "secret"}``: give the merchant ``secret`` (prefixed ``whsec_`` if
        it is not) to verify with."""
        return dict(self._secrets)

    @property
    def rule(self) -> events.Rule:
        return self._rule

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return list(self._alarms)

    @property
    def replay_command(self) -> str:
        """The AWS CLI command that moves every dead letter back to the delivery queue. The destination is
        named: without it SQS returns a message only to the queue its own redrive took it from, and the
        delivery function and the rule send theirs to the dead-letter queue directly."""
        return (f"aws sqs start-message-move-task --region {Aws.REGION} --source-arn {self._dead_letter_queue.queue_arn}"
                f" --destination-arn {self._queue.queue_arn}")

    # -- builders ---------------------------------------------------------------------------------
    def _secret(self, merchant: str, url: str, key: kms.IKey) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self, f"Secret-{merchant}", description=f"Webhook endpoint and signing secret of {merchant}",
            encryption_key=key,
            # 44 base64 characters: 33 random bytes once decoded, the key runtime/webhooks.py signs with.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"url": url}), generate_string_key="secret",
                exclude_punctuation=True, password_length=44),
        )
        return secret
