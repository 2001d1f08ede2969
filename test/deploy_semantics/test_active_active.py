"""Active-active as AWS would deploy it: the example's three stacks (audit replica and its key in us-east-2, the
primary and its strongly consistent global table in us-east-1, with us-west-2 its witness, then the peer API in
us-east-2 serving the replica), twice side by side, with no feature flags. The emulator serves one region and no
global table, so what spans the regions is checked here, on the templates."""

from __future__ import annotations

import json

import pytest

from .cfn import StackTemplate
from .test_collisions import physical_names
from .test_warm_standby import PRIMARY_REGION, STACK_CHECKS, failed_checks, load_copies

PEER_REGION, WITNESS_REGION = "us-east-2", "us-west-2"


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> dict[str, StackTemplate]:
    from cdk_payments import ResilienceTier

    return load_copies(tmp_path_factory, "active-active-copies", replica_region=PEER_REGION,
                       witness_region=WITNESS_REGION, resilience=ResilienceTier.ACTIVE_ACTIVE)


@pytest.mark.parametrize("check", STACK_CHECKS, ids=lambda c: c.__name__)
def test_every_stack_of_both_copies(stacks, check):
    assert failed_checks(stacks, check) == "{}"


def test_two_copies_share_no_physical_name(stacks):
    assert {key: where for key, where in physical_names(list(stacks.values())).items() if len(where) > 1} == {}


def test_the_peer_deploys_last_in_its_region_and_nothing_is_imported(stacks):
    assert set(stacks["PaymentPlatform-prod"].dependencies) == {"PaymentPlatform-prod-audit-replica"}
    assert set(stacks["PaymentPlatform-prod-peer"].dependencies) == {"PaymentPlatform-prod"}
    assert stacks["PaymentPlatform-prod-peer"].region == PEER_REGION
    for stack in stacks.values():
        assert "Fn::ImportValue" not in json.dumps(stack.template)


def test_the_table_spans_the_primary_the_peer_and_the_witness_with_the_replica_stacks_key(stacks):
    primary, replica = stacks["PaymentPlatform-prod"], stacks["PaymentPlatform-prod-audit-replica"]
    [(_, table)] = primary.of_type("AWS::DynamoDB::GlobalTable")
    props = table["Properties"]
    assert props["MultiRegionConsistency"] == "STRONG"
    assert props["GlobalTableWitnesses"] == [{"Region": WITNESS_REGION}]
    [peer_replica] = [r for r in props["Replicas"] if r["Region"] == PEER_REGION]
    [(_, alias)] = replica.of_type("AWS::KMS::Alias")
    assert alias["Properties"]["AliasName"] in json.dumps(peer_replica["SSESpecification"])
    # The peer serves that replica for the primary's merchants.
    peer = stacks["PaymentPlatform-prod-peer"]
    [processor] = [f for _, f in peer.of_type("AWS::Lambda::Function") if f["Properties"].get("Handler") == "runtime.api.handler"]
    environment = processor["Properties"]["Environment"]["Variables"]
    assert environment["TABLE_NAME"] == props["TableName"]
    roles = {r["Properties"]["RoleName"] for _, r in primary.of_type("AWS::IAM::Role") if "RoleName" in r["Properties"]}
    assert len(roles) == 2 and all(f"role/{name}" in json.dumps(environment["MERCHANT_ROLES"]) for name in roles)


def test_both_regions_answer_by_latency_each_with_its_health_check(stacks):
    records = {}
    for name in ("PaymentPlatform-prod", "PaymentPlatform-prod-peer"):
        stack = stacks[name]
        [(_, record)] = stack.of_type("AWS::Route53::RecordSet")
        [(check_id, check)] = stack.of_type("AWS::Route53::HealthCheck")
        assert record["Properties"]["HealthCheckId"] == {"Ref": check_id} and "Failover" not in record["Properties"]
        alarm = stack.resources[check["Properties"]["HealthCheckConfig"]["AlarmIdentifier"]["Name"]["Ref"]]["Properties"]
        assert alarm["Statistic"] in {"Average", "Sum", "Minimum", "Maximum", "SampleCount"} and alarm["Period"] >= 60
        records[stack.region] = record["Properties"]
    assert {region: r["Region"] for region, r in records.items()} == {PRIMARY_REGION: PRIMARY_REGION,
                                                                    PEER_REGION: PEER_REGION}
    assert {r["Name"] for r in records.values()} == {"pay.example.com."}
    assert len({r["SetIdentifier"] for r in records.values()}) == 2


def test_the_peers_events_are_forwarded_to_the_primarys_bus(stacks):
    """The merchants' webhooks and the primary's audit trail cover the payments the peer takes."""
    primary, peer = stacks["PaymentPlatform-prod"], stacks["PaymentPlatform-prod-peer"]
    [(_, bus)] = primary.of_type("AWS::Events::EventBus")
    [rule] = [r for _, r in peer.of_type("AWS::Events::Rule") if r["Properties"]["Description"].startswith("Payment events, forwarded")]
    [target] = rule["Properties"]["Targets"]
    assert f":events:{PRIMARY_REGION}:" in json.dumps(target["Arn"])
    assert json.dumps(target["Arn"]).endswith(f':event-bus/{bus["Properties"]["Name"]}"]]}}')
