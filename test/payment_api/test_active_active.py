"""ResilienceTier.ACTIVE_ACTIVE: a global table with multi-Region strong consistency made by one region's API and
served by every region's, each answering under one name by latency (payment_api/resilience.py, store.py,
domain.py). The same key sent to two regions at once is covered as handler code in
test/runtime/test_cross_region_idempotency.py."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms

from cdk_payments import Profile, ResilienceTier, SecurePaymentApi

from ..harness import synth_stacks
from .test_domain import ZONE_ID, zone
from .test_resilience import DOMAIN, PRIMARY, docs_example_stacks, refusal

ACCOUNT = PRIMARY.account
PEER = cdk.Environment(account=ACCOUNT, region="us-east-2")
PEER_ALIAS = "alias/payments-peer"
OWNER_BUS = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/payments"


def key_in(stack: cdk.Stack, region: str, id: str = "PeerKey") -> kms.IKey:
    return kms.Key.from_key_arn(stack, id, f"arn:aws:kms:{region}:{ACCOUNT}:{PEER_ALIAS}")


def active_active_stacks(app: cdk.App) -> dict[str, cdk.Stack]:
    """Two regions that serve (us-east-1 makes the table, us-east-2 serves its replica) and a witness in us-west-2,
    under one name."""
    owner = cdk.Stack(app, "Owner", env=PRIMARY)
    api = SecurePaymentApi(owner, "Payments", profile=Profile.PROD, resilience=ResilienceTier.ACTIVE_ACTIVE,
                           peer_regions={"us-east-2": key_in(owner, "us-east-2")}, witness_region="us-west-2",
                           domain_name=DOMAIN, hosted_zone=zone(owner))
    peer = cdk.Stack(app, "Peer", env=PEER)
    replica_key = kms.Alias.from_alias_name(peer, "ReplicaKey", PEER_ALIAS)
    served = SecurePaymentApi(peer, "Payments", profile=Profile.PROD, resilience=ResilienceTier.ACTIVE_ACTIVE,
                              existing_table=api.replica_table(peer, encryption_key=replica_key),
                              domain_name=DOMAIN, hosted_zone=zone(peer))
    served.forward_events(events.EventBus.from_event_bus_arn(peer, "OwnerBus", OWNER_BUS))
    return {"owner": owner, "peer": peer}


@pytest.fixture(scope="module")
def active_active():
    return synth_stacks(active_active_stacks)


TABLE_NAME = "OwnerPaymentsTable7D5378AE"


def test_the_table_is_strongly_consistent_across_two_replicas_and_a_witness(active_active):
    template = active_active["owner"].template
    [(logical_id, table)] = template.find_resources("AWS::DynamoDB::GlobalTable").items()
    props = table["Properties"]
    # A conditional write sees every region's writes: one Idempotency-Key, one payment, whichever region it reaches.
    assert props["MultiRegionConsistency"] == "STRONG"
    assert props["GlobalTableWitnesses"] == [{"Region": "us-west-2"}]
    replicas = {r["Region"]: r for r in props["Replicas"]}
    assert set(replicas) == {"us-east-1", "us-east-2"}
    assert replicas["us-east-2"]["SSESpecification"] == {"KMSMasterKeyId": f"arn:aws:kms:us-east-2:{ACCOUNT}:{PEER_ALIAS}"}
    for replica in replicas.values():
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True
    # Named for the peer, kept after a failed first create (deletion protection would refuse the rollback).
    assert props["TableName"] == TABLE_NAME
    assert table["DeletionPolicy"] == "Retain"
    # No TTL on a strongly consistent table (refused there at its launch).
    assert "TimeToLiveSpecification" not in props
    template.has_resource_properties("AWS::Backup::BackupSelection", {"BackupSelection": {
        "Resources": [{"Fn::GetAtt": [logical_id, "Arn"]}]}})


def test_no_replication_lag_alarm_since_writes_replicate_before_they_answer(active_active):
    alarms = active_active["owner"].template.find_resources("AWS::CloudWatch::Alarm")
    assert alarms and not [a for a in alarms.values() if a["Properties"].get("MetricName") == "ReplicationLatency"]


def test_the_peer_serves_its_replica_with_its_key(active_active):
    template = active_active["peer"].template
    assert template.find_resources("AWS::DynamoDB::GlobalTable") == {}
    table_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                   f":dynamodb:us-east-2:{ACCOUNT}:table/{TABLE_NAME}"]]}
    condition = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": PEER_ALIAS}}
    for function in ("Processor", "EventHandler"):
        [policy] = [p for name, p in template.find_resources("AWS::IAM::Policy").items()
                    if name.startswith(f"Payments{function}RoleDefaultPolicy")]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        # This region's replica (the owner's table name) and its key, by alias.
        assert any(table_arn in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
                   for s in statements if "dynamodb:GetItem" in s["Action"]), function
        [granted] = [s for s in statements if s.get("Condition") == condition]
        assert granted["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], function


def test_each_region_answers_by_latency_while_its_health_check_is_healthy(active_active):
    for name, region in (("owner", "us-east-1"), ("peer", "us-east-2")):
        template = active_active[name].template
        [(alarm_id, _)] = [(k, a) for k, a in template.find_resources("AWS::CloudWatch::Alarm").items()
                           if k.startswith("PaymentsApi5xxRate")]
        [(check_id, check)] = template.find_resources("AWS::Route53::HealthCheck").items()
        assert check["Properties"]["HealthCheckConfig"] == {
            "Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {"Name": {"Ref": alarm_id}, "Region": region},
            "InsufficientDataHealthStatus": "LastKnownStatus", "Inverted": False}
        [record] = template.find_resources("AWS::Route53::RecordSet").values()
        props = record["Properties"]
        assert {k: props[k] for k in ("Name", "Type", "Region", "SetIdentifier", "HealthCheckId", "HostedZoneId")} == {
            "Name": f"{DOMAIN}.", "Type": "A", "Region": region, "SetIdentifier": f"payments-{region}",
            "HealthCheckId": {"Ref": check_id}, "HostedZoneId": ZONE_ID}
        assert "Failover" not in props and props["AliasTarget"]["EvaluateTargetHealth"] is True


def test_active_active_owner_snapshot(active_active, template_snapshot):
    assert active_active["owner"] == template_snapshot


def test_active_active_peer_snapshot(active_active, template_snapshot):
    assert active_active["peer"] == template_snapshot


def test_active_active_passes_every_rules_pack(active_active):
    assert [str(f) for f in active_active["owner"].findings] == []


def test_three_regions_without_a_witness():
    app = cdk.App()
    owner = cdk.Stack(app, "Owner", env=PRIMARY)
    api = SecurePaymentApi(owner, "Payments", resilience=ResilienceTier.ACTIVE_ACTIVE, peer_regions={
        "us-east-2": key_in(owner, "us-east-2"), "us-west-2": key_in(owner, "us-west-2", "WestKey")})
    [table] = cdk.assertions.Template.from_stack(owner).find_resources("AWS::DynamoDB::GlobalTable").values()
    assert {r["Region"] for r in table["Properties"]["Replicas"]} == {"us-east-1", "us-east-2", "us-west-2"}
    assert "GlobalTableWitnesses" not in table["Properties"]
    # Each peer region may import its replica; a region outside the table may not.
    for region in ("us-east-2", "us-west-2"):
        peer = cdk.Stack(app, f"Peer-{region}", env=cdk.Environment(account=ACCOUNT, region=region))
        replica = api.replica_table(peer, encryption_key=key_in(peer, region))
        assert peer.resolve(replica.table_name) == table["Properties"]["TableName"]
    third = cdk.Stack(app, "Third", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(ValueError, match="scope: is in eu-west-1: the replicas are in us-east-2, us-west-2"):
        api.replica_table(third, encryption_key=key_in(third, "eu-west-1"))


def test_active_active_needs_peers_with_keys_of_their_regions():
    message = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE)
    assert "peer_regions: is required with ResilienceTier.ACTIVE_ACTIVE" in message
    wrong_key = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                        peer_regions=lambda s: {"us-east-2": key_in(s, "us-west-2")})
    assert "peer_regions['us-east-2']: is a key in us-west-2: a replica is encrypted with a key of its own region" \
        in wrong_key
    not_a_key = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                        peer_regions={"us-east-2": "alias/payments"})
    assert "peer_regions['us-east-2']" in not_a_key and "kms.IKey" in not_a_key


def test_active_active_needs_three_regions_of_one_region_set_each_once():
    two = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, peer_regions=lambda s: {"us-east-2": key_in(s, "us-east-2")})
    assert "peer_regions: names 1 region(s): strong consistency needs three regions" in two
    four = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2", peer_regions=lambda s: {
        "us-east-2": key_in(s, "us-east-2"), "us-west-2": key_in(s, "us-west-2", "WestKey")})
    assert "peer_regions: names 2 region(s)" in four
    assert "names a region twice among this stack's (us-east-1), the peers and the witness" in four
    itself = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                     peer_regions=lambda s: {"us-east-1": key_in(s, "us-east-1")})
    assert "names a region twice" in itself
    europe = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="eu-west-1",
                     peer_regions=lambda s: {"us-east-2": key_in(s, "us-east-2")})
    assert "witness_region: eu-west-1 not in the region set of this stack's region (us-east-1, us-east-2, us-west-2)" \
        in europe and "peer_regions: " not in europe
    tokyo = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                    peer_regions=lambda s: {"ap-northeast-1": key_in(s, "ap-northeast-1")})
    assert "peer_regions: ap-northeast-1 not in the region set" in tokyo
    bad = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="Oregon",
                  peer_regions=lambda s: {"us-east-2": key_in(s, "us-east-2")})
    assert "witness_region: 'Oregon' is not an AWS region name" in bad and "region set" not in bad


def test_active_active_is_refused_outside_the_region_sets_and_in_a_region_agnostic_stack():
    stack = cdk.Stack(cdk.App(), "SaoPaulo", env=cdk.Environment(region="sa-east-1"))
    with pytest.raises(ValueError, match="ResilienceTier.ACTIVE_ACTIVE is not available in sa-east-1") as raised:
        SecurePaymentApi(stack, "Payments", resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                         peer_regions={"us-east-2": key_in(stack, "us-east-2")})
    assert "us-east-1, us-east-2, us-west-2; eu-west-1" in str(raised.value)
    agnostic = cdk.Stack(cdk.App(), "Agnostic")
    with pytest.raises(ValueError, match="ResilienceTier.ACTIVE_ACTIVE needs a stack in a known region"):
        SecurePaymentApi(agnostic, "Payments", resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                         peer_regions={"us-east-2": key_in(agnostic, "us-east-2")})


def test_a_peer_serves_a_replica_and_peer_props_need_the_tier():
    message = refusal(resilience=ResilienceTier.ACTIVE_ACTIVE, witness_region="us-west-2",
                      peer_regions=lambda s: {"us-east-2": key_in(s, "us-east-2")}, global_table_name="payments",
                      existing_table=lambda s: dynamodb.Table.from_table_name(s, "Own", "payments"))
    for prop in ("peer_regions", "witness_region", "global_table_name"):
        assert f"{prop}: cannot be combined with existing_table: with ResilienceTier.ACTIVE_ACTIVE" in message
    alone = refusal(witness_region="us-west-2", peer_regions=lambda s: {"us-east-2": key_in(s, "us-east-2")})
    assert "peer_regions: is used only with ResilienceTier.ACTIVE_ACTIVE" in alone
    assert "witness_region: is used only with ResilienceTier.ACTIVE_ACTIVE" in alone
    standby = refusal(resilience=ResilienceTier.WARM_STANDBY, standby_region="us-west-2",
                      standby_encryption_key=lambda s: key_in(s, "us-west-2"), witness_region="us-east-2")
    assert "witness_region: is used only with ResilienceTier.ACTIVE_ACTIVE" in standby


def test_the_active_active_example_in_the_docs_synthesizes(tmp_path):
    assert docs_example_stacks("## Active-active", tmp_path) == "['Payments', 'PaymentsPeer', 'PaymentsPeerKeys']"


def test_the_peers_payment_events_reach_the_owners_bus(active_active):
    """Where the merchants' webhooks (and their signing secrets) and the owner's audit trail are."""
    template = active_active["peer"].template
    [(rule_id, rule)] = [(k, r) for k, r in template.find_resources("AWS::Events::Rule").items()
                         if k.startswith("PaymentsForwardEvents")]
    [target] = rule["Properties"]["Targets"]
    assert rule["Properties"]["EventPattern"] == {"source": ["cdk-payments"]}
    assert target["Arn"] == OWNER_BUS
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    [queue_id] = [k for k in template.find_resources("AWS::SQS::Queue") if k.startswith("PaymentsForwardEventsDeadLetters")]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    # The role may put events on the owner's bus, nothing else, and only EventBridge of this account assumes it.
    [policy] = [p for p in template.find_resources("AWS::IAM::Policy").values()
                if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": OWNER_BUS}]
    [trust] = template.find_resources("AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    # What EventBridge gives up on waits, alarmed, in a queue it may write to (the queue's policy, for this rule).
    [queue_policy] = [p for p in template.find_resources("AWS::SQS::QueuePolicy").values()
                      if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
    [allow] = [s for s in queue_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
    # EventBridge encrypts what it puts there with the API's key, which lets it.
    [key] = template.find_resources("AWS::KMS::Key").values()
    assert {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Resource": "*",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"]} in key["Properties"]["KeyPolicy"]["Statement"]
    [alarm] = [a for k, a in template.find_resources("AWS::CloudWatch::Alarm").items()
               if k.startswith("PaymentsForwardEventsWaiting")]
    assert alarm["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue_id, "QueueName"]}


def test_events_are_forwarded_to_another_regions_bus_only():
    app = cdk.App()
    stack = cdk.Stack(app, "Owner", env=PRIMARY)
    api = SecurePaymentApi(stack, "Payments")
    here = events.EventBus.from_event_bus_arn(stack, "Here", f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/other")
    with pytest.raises(ValueError, match="bus: is in this stack's region"):
        api.forward_events(here)
    with pytest.raises(ValueError, match=r"bus: .*events.IEventBus"):
        api.forward_events("arn:aws:events:us-west-2:111111111111:event-bus/payments")
