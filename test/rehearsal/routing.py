"""Which region Route 53 would answer a name with, read from what the emulator holds.

moto keeps a zone's records as created (failover role or region, set identifier, health check, alias
target) but answers no DNS query and evaluates no health check; its health checks also drop the alarm
they follow. So the rules the Route 53 developer guide gives are applied here (``choose``). A failover
pair ("Active-passive failover"): the PRIMARY record while it is healthy, else the SECONDARY while it
is healthy, else the PRIMARY. Latency records: the record of the region nearest the client while it is
healthy, else another healthy one; when none is healthy, Route 53 treats them all as healthy. The
client's nearest region is given (``near``): no latency is measured here.

A record is healthy when its health check is (``check_healthy``): the state of the CloudWatch alarm it
follows, read from the emulator (the alarm is named in the template of the stack that made the check),
with InsufficientDataHealthStatus and Inverted applied. Route 53 evaluates every health check all the
time, so each answer evaluates them all. The alias target's own health (EvaluateTargetHealth) is not
modelled: the emulator's API endpoints never fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from cdk_payments.local.deploy import Deployment


def check_healthy(config: dict[str, Any], alarm_state: str, last_known: Optional[bool]) -> bool:
    """A CLOUDWATCH_METRIC health check's status, from the state of its alarm; ``last_known``: its status
    at the previous evaluation (None for a new check, which Route 53 considers healthy), kept as it was
    (inverted already) when the alarm has too little data and the check says LastKnownStatus."""
    if alarm_state == "INSUFFICIENT_DATA":
        status = config.get("InsufficientDataHealthStatus", "LastKnownStatus")
        if status == "LastKnownStatus":
            return last_known is not False
        healthy = status == "Healthy"
    else:
        healthy = alarm_state == "OK"
    return healthy != bool(config.get("Inverted", False))


def choose(records: list[dict[str, Any]], healthy: Callable[[dict[str, Any]], bool], *,
           near: Optional[str] = None) -> dict[str, Any]:
    """The record Route 53 answers with, of one name's failover pair or latency records."""
    if all("Failover" in r for r in records):
        by_role = {r["Failover"]: r for r in records}
        assert sorted(by_role) == ["PRIMARY", "SECONDARY"] and len(records) == 2, f"not a failover pair: {records}"
        order = [by_role["PRIMARY"], by_role["SECONDARY"]]
    else:
        regions = [r.get("Region") for r in records]
        assert None not in regions, f"neither failover nor latency records: {records}"
        assert near in regions, f"no record in the client's nearest region {near!r}: {regions}"
        order = sorted(records, key=lambda r: r["Region"] != near)  # the nearest first (two regions here)
    return next((r for r in order if healthy(r)), order[0])


@dataclass
class Router:
    deployments: list[Deployment]
    last_known: dict[str, bool] = field(default_factory=dict)  # health check id -> its last status

    def answer(self, name: str, *, near: Optional[str] = None) -> Deployment:
        """The deployment whose API the name is answered with (the one that created the chosen record), for
        a client nearest the region ``near`` (latency records)."""
        self._evaluate_health_checks()
        records = self._records(name)
        chosen = choose(records, lambda r: self.last_known.get(r["HealthCheckId"], True) if "HealthCheckId" in r
                        else True, near=near)
        [deployment] = [d for d in self.deployments for logical_id in d.logical_ids("AWS::Route53::RecordSet")
                        if d.properties(logical_id)["AliasTarget"]["DNSName"] == chosen["AliasTarget"]["DNSName"]]
        return deployment

    def _evaluate_health_checks(self) -> None:
        for deployment in self.deployments:
            for logical_id in deployment.logical_ids("AWS::Route53::HealthCheck"):
                config = deployment.properties(logical_id)["HealthCheckConfig"]
                assert config["Type"] == "CLOUDWATCH_METRIC", config
                alarm = config["AlarmIdentifier"]
                cloudwatch = deployment.emulator.client("cloudwatch", alarm["Region"])
                [state] = [a["StateValue"] for a in cloudwatch.describe_alarms(AlarmNames=[alarm["Name"]])["MetricAlarms"]]
                check = deployment.physical[logical_id]
                self.last_known[check] = check_healthy(config, state, self.last_known.get(check))

    def _records(self, name: str) -> list[dict[str, Any]]:
        route53 = self.deployments[0].emulator.client("route53")
        zones = [z for z in route53.list_hosted_zones()["HostedZones"] if f".{name}".endswith(f".{z['Name']}")]
        assert len(zones) == 1, f"{name}: {len(zones)} hosted zones hold it"
        records = route53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"]
        return [r for r in records if r["Name"] == name and r["Type"] == "A"]
