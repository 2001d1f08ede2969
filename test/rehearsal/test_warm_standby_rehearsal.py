"""The warm-standby example rehearsed in two regions: its three stacks created in the emulator as `cdk deploy
--all` orders them (the audit replica and the standby in us-west-2, the primary in us-east-1), a payment
taken at the domain name in the primary, the primary's health check failed, and the name answered by the
standby, which takes new payments with its own functions; then failed back.

What the emulator cannot do is stood in for, and said so where it is done: moto replicates no global table
(each replica region is given the table the primary's stack created: replication with no lag, see
cdk_payments.local.gaps "global-table-as-table"), so that the standby reads the primary's payments here
shows the wiring (the standby's functions name the replica, and its merchant map the primary's roles), not
DynamoDB; the replicas, their keys and the lag alarm are the deploy-semantics tests' part
(test/deploy_semantics/test_warm_standby.py). Route 53 answers no query in moto: test/rehearsal/routing.py
applies Route 53's failover rule to the records and health checks the stacks created, with the state of
the alarm each check follows.
"""

from __future__ import annotations

import json

import pytest

from cdk_payments.runtime.intake import payment_id_for

from . import gaps
from .regions import answered, deploy_tier, items, pay, refused_calls, set_health, table_name, tier_rewrites
from .rehearsal import check_created, check_the_rest_as_synthesized, smoke_through_a_gateway, subscribe_consumer
from .requests import payment_body
from .routing import Router

pytestmark = pytest.mark.slow

PRIMARY, STANDBY, REPLICA = "PaymentPlatform-prod", "PaymentPlatform-prod-standby", "PaymentPlatform-prod-audit-replica"


@pytest.fixture(scope="module")
def deployments(emulator, tmp_path_factory):
    return deploy_tier(emulator, tmp_path_factory.mktemp("warm-standby"), "warm standby",
                       [(REPLICA, "us-west-2"), (PRIMARY, "us-east-1"), (STANDBY, "us-west-2")])


@pytest.mark.parametrize("stack", [REPLICA, PRIMARY, STANDBY])
def test_each_stack_is_created_in_its_region_with_every_supported_resource(deployments, stack):
    check_created(deployments[stack], gaps.TIER_SKIPPED_TYPES[stack])
    check_the_rest_as_synthesized(deployments[stack])


def test_each_rewrite_of_the_tier_touches_only_what_it_covers(deployments):
    assert tier_rewrites(deployments[PRIMARY]) == {
        "global-table-as-table": ["PaymentsTable"], "certificate-through-the-api": ["PaymentsCertificate"],
        "domain-name-through-the-api": ["PaymentsDomainName"], "hosted-zone-of-the-emulator": ["PaymentsDomainRecord"],
        "alarm-a-health-check-follows": ["PaymentsApi5xxRate"]}
    # The standby serves the replica (no table of its own): a domain and its record, and no health check.
    assert tier_rewrites(deployments[STANDBY]) == {
        "global-table-as-table": [], "certificate-through-the-api": ["PaymentsCertificate"],
        "domain-name-through-the-api": ["PaymentsDomainName"], "hosted-zone-of-the-emulator": ["PaymentsDomainRecord"],
        "alarm-a-health-check-follows": []}


def test_the_standbys_functions_use_the_primarys_table_in_their_region(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    assert table_name(standby) == primary.physical[primary.one("AWS::DynamoDB::Table", "PaymentsTable")]
    assert table_name(standby) in standby.client("dynamodb").list_tables()["TableNames"]


def test_the_name_fails_over_to_the_standby_and_back(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    router = Router([primary, standby])
    # A consumer of settled payments on the primary's bus, where the standby forwards its events.
    consumer = subscribe_consumer(primary)

    # The primary's health check is healthy: the name is the primary's API.
    api = answered(router, primary)
    assert api.deployment is primary
    first = pay(api, "failover-order-1")

    # The primary's 5XX-rate alarm goes off: Route 53 answers with the standby.
    set_health(primary, "ALARM")
    try:
        api = answered(router, primary)
        assert api.deployment is standby and api.deployment.region == "us-west-2"
        # The standby serves the primary's payment to the merchant the primary's role maps (its functions
        # read the replica; in the emulator, the same table).
        status, fetched = api.call("GET", f"/payments/{first['payment_id']}")
        assert status == 200 and fetched["status"] == "PROCESSED" and fetched["merchant_id"] == "demo-merchant", fetched
        # A client that retries its request after the failover gets the same payment, not a second one.
        before = items(standby)
        status, replayed = api.call("POST", "/payments", body=payment_body(),
                                    headers={"Idempotency-Key": "failover-order-1"})
        assert (status, replayed["payment_id"]) == (202, first["payment_id"]), (status, replayed)
        assert items(standby) == before
        # A new payment is taken and settled by the standby's own queue and functions.
        second = pay(api, "failover-order-2")
        assert second["payment_id"] == payment_id_for("demo-merchant", "failover-order-2")
    finally:
        set_health(primary, "OK")
    # Its event reached the primary's bus across regions (forward_events), where the primary's consumers,
    # webhooks and audit trail hear it, as they heard the primary's own.
    messages = primary.client("sqs").receive_message(QueueUrl=consumer, MaxNumberOfMessages=10)["Messages"]
    heard = sorted((e["detail-type"], e["detail"]["payment_id"]) for e in (json.loads(m["Body"]) for m in messages))
    assert heard == sorted(("Payment Processed", p["payment_id"]) for p in (first, second)), heard

    # The alarm cleared: the name is the primary's again, which serves what the standby took.
    api = answered(router, primary)
    assert api.deployment is primary
    status, fetched = api.call("GET", f"/payments/{second['payment_id']}")
    assert status == 200 and fetched["status"] == "PROCESSED", fetched


@pytest.mark.parametrize("stack", [PRIMARY, STANDBY])
def test_cdk_payments_smoke_passes_against_each_regions_stack(deployments, stack):
    """The pipeline's post-deploy step, in both regions: the standby with the primary's merchant roles."""
    code, out = smoke_through_a_gateway(deployments[stack])
    assert code == 0 and "ok   smoke test passed" in out, out


@pytest.mark.parametrize("stack", [PRIMARY, STANDBY])
def test_iam_allows_every_call_the_deployed_code_made(deployments, stack):
    """The calls of both regions' functions, judged by the IAM simulator, the replica's key included."""
    refused = refused_calls(deployments[stack], deployments[REPLICA])
    assert not refused, f"IAM would refuse calls the deployed code made:\n{refused}"
