"""A second region's payment events, forwarded to the first region's bus (``SecurePaymentApi.forward_events``).

A warm standby or an active-active peer settles the payments it takes and puts their events on its own bus.
The merchants' webhooks are delivered by one region, whose signing secrets they hold, and that region's audit
trail files every region's events: forwarding brings the events there. EventBridge sends them with a role of
the rule's own (allowed ``events:PutEvents`` on that bus only, assumable by EventBridge for this account only),
retries for 24 hours while the other region is unreachable, then leaves them in a dead-letter queue, alarmed,
for a redrive.
"""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._kms import allow_services
from .._nag import AcknowledgeGrantPolicies
from .._queues import dead_letter_alarm, dead_letter_queue
from .webhooks import EVENT_SOURCE


def forward_events(scope: Construct, id: str, *, source: events.IEventBus, destination: events.IEventBus,
                   key: kms.IKey, topic: sns.ITopic) -> tuple[events.Rule, cloudwatch.Alarm]:
    """A rule on ``source`` that puts every payment event on ``destination``; the events EventBridge gave up on
    wait in a queue encrypted with ``key``, and one waiting alarms on ``topic``."""
    allow_services(key, "events.amazonaws.com", scope=scope)  # EventBridge puts undelivered events in the queue
    undelivered = dead_letter_queue(scope, f"{id}DeadLetters", key, redrive_queue=False,
                                    holds="payment events EventBridge could not forward to the other region's bus")
    waiting = dead_letter_alarm(scope, f"{id}Waiting", undelivered, topic=topic,
                                what="Payment events not forwarded to the other region's bus (its webhooks and audit trail)")
    role = iam.Role(scope, f"{id}Role", description="EventBridge: forwards payment events to another region's bus",
                    assumed_by=iam.ServicePrincipal("events.amazonaws.com", conditions={
                        "StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}))
    rule = events.Rule(scope, id, event_bus=source, description="Payment events, forwarded to another region's bus",
                       event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
                       targets=[targets.EventBus(destination, dead_letter_queue=undelivered, role=role)])
    AcknowledgeGrantPolicies.apply(role)
    return rule, waiting


def region_of(bus: events.IEventBus) -> str | None:
    """The region of ``bus``'s ARN, when known at synthesis."""
    arn = bus.event_bus_arn
    return None if Token.is_unresolved(arn) else (arn.split(":")[3] or None)


def same_region(scope: Construct, bus: events.IEventBus) -> bool:
    here, there = Stack.of(scope).region, region_of(bus)
    return there is not None and not Token.is_unresolved(here) and here == there
