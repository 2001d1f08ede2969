"""SecurePaymentApi's own domain name: a certificate of its region validated in the hosted zone, a regional
API Gateway domain on the stage, and one alias record; refused at construction when name and zone disagree.
(Warm standby's failover pair: test_resilience.py.)"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_route53 as route53

from cdk_payments import SecurePaymentApi

from ..harness import synth

ZONE_ID = "Z0123456789ABCDEFGHIJ"


def zone(stack: cdk.Stack, name: str = "example.com") -> route53.IHostedZone:
    return route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id=ZONE_ID, zone_name=name)


@pytest.fixture(scope="module")
def served():
    holder = {}

    def build(stack):
        holder["api"] = SecurePaymentApi(stack, "Payments", domain_name="pay.example.com", hosted_zone=zone(stack))
    return synth(build), holder["api"]


def test_the_api_answers_at_its_own_name_in_one_plain_record(served):
    result, api = served
    template = result.template
    template.has_resource_properties("AWS::CertificateManager::Certificate", {
        "DomainName": "pay.example.com", "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": "pay.example.com", "HostedZoneId": ZONE_ID}]})
    template.has_resource_properties("AWS::ApiGateway::DomainName", {
        "DomainName": "pay.example.com", "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"})
    [(domain_id, _)] = template.find_resources("AWS::ApiGateway::DomainName").items()
    [record] = template.find_resources("AWS::Route53::RecordSet").values()
    props = record["Properties"]
    assert props["Name"] == "pay.example.com." and props["Type"] == "A" and props["HostedZoneId"] == ZONE_ID
    assert props["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert "Failover" not in props and "HealthCheckId" not in props  # one region: no failover pair
    assert template.find_resources("AWS::Route53::HealthCheck") == {}
    # The whole API at the root of the name, the stage's routes unchanged.
    [mapping] = template.find_resources("AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    assert api.domain_name is not None and api.domain_record is not None and api.health_check is None


def test_with_a_domain_the_rules_packs_still_pass(served):
    assert [str(f) for f in served[0].findings] == []


def refusal(**props) -> str:
    stack = cdk.Stack(cdk.App(), "Refused")
    props = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    with pytest.raises(ValueError) as raised:
        SecurePaymentApi(stack, "Payments", **props)
    return str(raised.value)


def test_a_name_needs_its_zone_and_a_zone_its_name():
    assert "hosted_zone: domain_name and hosted_zone go together" in refusal(domain_name="pay.example.com")
    assert "domain_name: domain_name and hosted_zone go together" in refusal(hosted_zone=zone)


def test_the_name_must_be_a_dns_name_in_the_zone():
    assert "domain_name: 'Pay.Example.com.' is not a lowercase DNS name" in refusal(
        domain_name="Pay.Example.com.", hosted_zone=zone)
    assert "domain_name: pay.example.org is not in hosted_zone (example.com)" in refusal(
        domain_name="pay.example.org", hosted_zone=zone)
    assert "domain_name" not in refusal(domain_name="example.com", hosted_zone=zone, memory_size=1)  # the apex is fine


def test_a_zone_imported_without_its_name_is_refused_naming_the_import_that_works():
    message = refusal(domain_name="pay.example.com",
                      hosted_zone=lambda s: route53.HostedZone.from_hosted_zone_id(s, "ById", ZONE_ID))
    assert "hosted_zone: has no zone name, which the alias record needs" in message
    assert "from_hosted_zone_attributes" in message
