"""What each of the example's platform stacks starts with: one key, the network and the alert topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import aws_kms as kms
from constructs import Construct
from keys import platform_key

from cdk_payments import AlertChannel, AlertTopics, CostOptimizedVpc, NetworkLayout, Profile


@dataclass(frozen=True)
class Foundation:
    key: kms.Key
    network: CostOptimizedVpc
    alerts: AlertTopics

    @classmethod
    def build(cls, scope: Construct, *, profile: Profile, layout: Optional[NetworkLayout], description: str,
              alert_email: Optional[str], alert_https_endpoint: Optional[str]) -> "Foundation":
        # One customer-managed key for the stack's data, queues, topics and logs: $1/month, not one per construct.
        key = platform_key(scope, "PlatformKey", description=description)
        network = CostOptimizedVpc(scope, "Network", profile=profile, layout=layout, encryption_key=key)
        # Every topic (cost, security, operations: the API's alarms go to operations) reaches someone.
        alerts = AlertTopics(
            scope, "Alerts", encryption_key=key,
            emails={channel: [alert_email] for channel in AlertChannel} if alert_email else None,
            https_endpoints={channel: [alert_https_endpoint] for channel in AlertChannel} if alert_https_endpoint else None,
        )
        return cls(key, network, alerts)
