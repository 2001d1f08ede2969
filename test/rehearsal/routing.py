"""Which region Route 53 would answer a name with, read from what the emulator holds.

moto keeps a zone's records as created (failover role or region, set identifier, health check, alias
target) but answers no DNS query and evaluates no health check; its health checks also drop the alarm
they follow. So the rules the Route 53 developer guide gives are applied here. A failover pair
("Active-passive failover"): the PRIMARY record while it is healthy, else the SECONDARY while it is
healthy, else the PRIMARY. Latency records: the record of the region nearest the client while it is
healthy, else another healthy one; when none is healthy, Route 53 treats them all as healthy. The
client's nearest region is given (``near``): no latency is measured here.

A record is healthy when its health check is (the state of the CloudWatch alarm it follows, read from the
emulator; the alarm is named in the template of the stack that made the check) and, with
EvaluateTargetHealth, its alias target exists (the API Gateway domain in its region).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdk_payments.local.deploy import Deployment


@dataclass
class Router:
    deployments: list[Deployment]
    last_known: dict[str, bool] = field(default_factory=dict)  # health check id -> its last status

    def answer(self, name: str, *, near: str | None = None) -> Deployment:
        """The deployment whose API the name is answered with (the one that created the chosen record), for
        a client nearest the region ``near`` (latency records)."""
        records = self._records(name)
        if all("Failover" in r for r in records):
            by_role = {r["Failover"]: r for r in records}
            assert set(by_role) == {"PRIMARY", "SECONDARY"}, f"{name}: not a failover pair: {sorted(by_role)}"
            order = [by_role["PRIMARY"], by_role["SECONDARY"]]
        else:
            assert all("Region" in r for r in records) and near is not None, f"{name}: not latency records, or no client"
            order = sorted(records, key=lambda r: r["Region"] != near)  # the nearest first (two regions here)
        return self._behind(next((r for r in order if self._healthy(r)), order[0]))

    def _records(self, name: str) -> list[dict[str, Any]]:
        route53 = self.deployments[0].emulator.client("route53")
        zones = [z for z in route53.list_hosted_zones()["HostedZones"] if f".{name}".endswith(f".{z['Name']}")]
        assert len(zones) == 1, f"{name}: {len(zones)} hosted zones hold it"
        records = route53.list_resource_record_sets(HostedZoneId=zones[0]["Id"])["ResourceRecordSets"]
        return [r for r in records if r["Name"] == name and r["Type"] == "A"]

    def _healthy(self, record: dict[str, Any]) -> bool:
        healthy = self._check_healthy(record["HealthCheckId"]) if "HealthCheckId" in record else True
        if healthy and record["AliasTarget"]["EvaluateTargetHealth"]:
            target = record["AliasTarget"]["DNSName"].rstrip(".")
            region = target.split(".")[2]  # d-<id>.execute-api.<region>.amazonaws.com
            domains = self.deployments[0].emulator.client("apigateway", region).get_domain_names()["items"]
            healthy = any(d["regionalDomainName"] == target for d in domains)
        return healthy

    def _check_healthy(self, check_id: str) -> bool:
        [config] = [d.properties(logical_id)["HealthCheckConfig"] for d in self.deployments
                    for logical_id in d.logical_ids("AWS::Route53::HealthCheck") if d.physical[logical_id] == check_id]
        assert config["Type"] == "CLOUDWATCH_METRIC", config
        alarm = config["AlarmIdentifier"]
        cloudwatch = self.deployments[0].emulator.client("cloudwatch", alarm["Region"])
        [state] = [a["StateValue"] for a in cloudwatch.describe_alarms(AlarmNames=[alarm["Name"]])["MetricAlarms"]]
        if state == "INSUFFICIENT_DATA":
            # Healthy, Unhealthy or LastKnownStatus (a new health check is healthy).
            status = config.get("InsufficientDataHealthStatus", "LastKnownStatus")
            healthy = self.last_known.get(check_id, True) if status == "LastKnownStatus" else status == "Healthy"
        else:
            healthy = state == "OK"
        self.last_known[check_id] = healthy
        return healthy != bool(config.get("Inverted", False))

    def _behind(self, record: dict[str, Any]) -> Deployment:
        target = record["AliasTarget"]["DNSName"].rstrip(".")
        [deployment] = [d for d in self.deployments for logical_id in d.logical_ids("AWS::Route53::RecordSet")
                        if d.properties(logical_id)["AliasTarget"]["DNSName"] == target]
        return deployment
