"""The payment API's own domain name (``domain_name`` in ``hosted_zone``): an ACM certificate of this region,
validated in the zone, a regional API Gateway domain mapped to the stage, and its Route 53 alias record.

With ``ResilienceTier.WARM_STANDBY`` the primary's record is the PRIMARY of a failover pair and the standby's
the SECONDARY, under the same name. Route 53 answers with the primary while its health check is healthy. The
health check follows the primary's 5XX-rate alarm (Route 53 reads an alarm's metric itself, with Average,
Sum, Minimum, Maximum or SampleCount only, so not the p99 latency alarm). Each region has its own
certificate: API Gateway serves a regional domain with a certificate of its own region.

With ``ResilienceTier.ACTIVE_ACTIVE`` every region's record is a latency record under the same name, each with
such a health check: Route 53 answers with the nearest region whose check is healthy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

import jsii
from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_route53 as route53
from constructs import Construct


@jsii.implements(route53.IAliasRecordTarget)
class _RegionalDomain:
    """``route53_targets.ApiGatewayDomain`` with ``EvaluateTargetHealth``, which Route 53 failover alias records
    need (the target's own health then counts too); the CDK target has no such option."""

    def __init__(self, domain: apigw.IDomainName) -> None:
        self._domain = domain

    def bind(self, record: route53.IRecordSet, zone: Optional[route53.IHostedZone] = None) -> route53.AliasRecordTargetConfig:
        return route53.AliasRecordTargetConfig(dns_name=self._domain.domain_name_alias_domain_name,
                                               hosted_zone_id=self._domain.domain_name_alias_hosted_zone_id,
                                               evaluate_target_health=True)


class Routing(enum.Enum):
    """How this region's record shares the name with the other regions'."""

    SIMPLE = "simple"
    """One region: a plain alias record."""
    FAILOVER_PRIMARY = "failover-primary"
    """Warm standby's primary: answered while its health check is healthy."""
    FAILOVER_SECONDARY = "failover-secondary"
    """Warm standby's standby: answered when the primary's health check fails."""
    LATENCY = "latency"
    """Active-active: every region answers, the nearest healthy one first."""


@dataclass(frozen=True)
class Domain:
    certificate: acm.Certificate
    domain_name: apigw.DomainName
    record: route53.ARecord
    health_check: Optional[route53.HealthCheck]

    @classmethod
    def build(cls, scope: Construct, *, name: str, zone: route53.IHostedZone, rest_api: apigw.RestApi,
              routing: Routing, health_alarm: cloudwatch.Alarm) -> "Domain":
        certificate = acm.Certificate(scope, "Certificate", domain_name=name,
                                      validation=acm.CertificateValidation.from_dns(zone))
        domain = apigw.DomainName(scope, "DomainName", domain_name=name, certificate=certificate,
                                  endpoint_type=apigw.EndpointType.REGIONAL, security_policy=apigw.SecurityPolicy.TLS_1_2,
                                  mapping=rest_api)
        health_check = None
        region = Stack.of(scope).region
        if routing in (Routing.FAILOVER_PRIMARY, Routing.LATENCY):
            # No data (no requests) keeps the last status: a quiet night is not an outage.
            health_check = route53.HealthCheck(
                scope, "HealthCheck", type=route53.HealthCheckType.CLOUDWATCH_METRIC,
                alarm_identifier=route53.AlarmIdentifier(name=health_alarm.alarm_name, region=region),
                insufficient_data_health_status=route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS)
        options = {}
        if routing is not Routing.SIMPLE:
            options = dict(set_identifier=f"payments-{region}", health_check=health_check)
        if routing is Routing.LATENCY:
            options["region"] = region
        elif routing is not Routing.SIMPLE:
            options["failover"] = (route53.Failover.PRIMARY if routing is Routing.FAILOVER_PRIMARY
                                   else route53.Failover.SECONDARY)
        record = route53.ARecord(scope, "DomainRecord", zone=zone, record_name=name,
                                 target=route53.RecordTarget.from_alias(_RegionalDomain(domain)), **options)
        return cls(certificate, domain, record, health_check)
