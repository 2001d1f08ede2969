"""The active-active example rehearsed in two regions: its stacks created in the emulator as `cdk deploy
--all` orders them (the audit replica and the peer in us-east-2, the owner in us-east-1; us-west-2 is the
table's witness and holds no stack), each region answering the clients nearest it at the domain name, the
same idempotency key sent to both regions making one payment, and a failed region's clients answered by
the other.

As in the warm-standby rehearsal, moto replicates no global table (the peer's region is given the table
the owner's stack created: cdk_payments.local.gaps "global-table-as-table"), so what strong consistency
adds is not shown here: two regions writing the same key at the same moment, where DynamoDB refuses one
write, is the handler's test (test/runtime/test_cross_region_idempotency.py), and the table's regions,
witness and keys are the deploy-semantics tests' (test/deploy_semantics/test_active_active.py). Route 53's
latency rule is applied by test/rehearsal/routing.py, each client's nearest region given.
"""

from __future__ import annotations

import pytest

from . import gaps
from .regions import answered, deploy_tier, items, pay, refused_calls, set_health, table_name, tier_rewrites
from .rehearsal import check_created, check_the_rest_as_synthesized, smoke_through_a_gateway
from .requests import payment_body
from .routing import Router

pytestmark = pytest.mark.slow

OWNER, PEER, REPLICA = "PaymentPlatform-prod", "PaymentPlatform-prod-peer", "PaymentPlatform-prod-audit-replica"
EAST_1, EAST_2 = "us-east-1", "us-east-2"


@pytest.fixture(scope="module")
def deployments(emulator, tmp_path_factory):
    return deploy_tier(emulator, tmp_path_factory.mktemp("active-active"), "active-active",
                       [(REPLICA, EAST_2), (OWNER, EAST_1), (PEER, EAST_2)])


@pytest.mark.parametrize("stack", [REPLICA, OWNER, PEER])
def test_each_stack_is_created_in_its_region_with_every_supported_resource(deployments, stack):
    check_created(deployments[stack], gaps.TIER_SKIPPED_TYPES[stack])
    check_the_rest_as_synthesized(deployments[stack])


def test_each_rewrite_of_the_tier_touches_only_what_it_covers(deployments):
    # Both regions have a domain, a latency record and a health check; the owner has the table.
    for stack in (OWNER, PEER):
        assert tier_rewrites(deployments[stack]) == {
            "global-table-as-table": ["PaymentsTable"] if stack == OWNER else [],
            "certificate-through-the-api": ["PaymentsCertificate"], "domain-name-through-the-api": ["PaymentsDomainName"],
            "hosted-zone-of-the-emulator": ["PaymentsDomainRecord"], "alarm-a-health-check-follows": ["PaymentsApi5xxRate"],
        }, stack
    # The witness holds no replica: only the peer's region is given the table.
    owner = deployments[OWNER]
    assert table_name(deployments[PEER]) in owner.emulator.client("dynamodb", EAST_2).list_tables()["TableNames"]
    assert owner.emulator.client("dynamodb", "us-west-2").list_tables()["TableNames"] == []


def test_each_region_serves_its_nearest_clients_and_one_key_makes_one_payment(deployments):
    owner, peer = deployments[OWNER], deployments[PEER]
    router = Router([owner, peer])
    east_1, east_2 = answered(router, owner, near=EAST_1), answered(router, owner, near=EAST_2)
    assert (east_1.deployment, east_2.deployment) == (owner, peer)

    # Taken in one region and settled by that region's own queue and functions; read in the other.
    created = pay(east_2, "active-order-1")
    status, fetched = east_1.call("GET", f"/payments/{created['payment_id']}")
    assert status == 200 and fetched["status"] == "PROCESSED", fetched
    # The same key in the other region (a client's retry that latency routing sent elsewhere): the
    # same payment, nothing new written.
    before = items(owner)
    status, replayed = east_1.call("POST", "/payments", body=payment_body(), headers={"Idempotency-Key": "active-order-1"})
    assert (status, replayed["payment_id"]) == (202, created["payment_id"]), (status, replayed)
    assert items(owner) == before


def test_a_failed_regions_clients_are_answered_by_the_other_and_come_back(deployments):
    owner, peer = deployments[OWNER], deployments[PEER]
    router = Router([owner, peer])
    set_health(owner, "ALARM")
    try:
        api = answered(router, owner, near=EAST_1)
        assert api.deployment is peer  # us-east-1's clients go to us-east-2
        created = pay(api, "active-order-2")
        assert answered(router, owner, near=EAST_2).deployment is peer
    finally:
        set_health(owner, "OK")
    api = answered(router, owner, near=EAST_1)
    assert api.deployment is owner
    status, fetched = api.call("GET", f"/payments/{created['payment_id']}")
    assert status == 200 and fetched["status"] == "PROCESSED", fetched


@pytest.mark.parametrize("stack", [OWNER, PEER])
def test_cdk_payments_smoke_passes_against_each_regions_stack(deployments, stack):
    """The pipeline's post-deploy step, in both regions: the peer with the owner's merchant roles."""
    code, out = smoke_through_a_gateway(deployments[stack])
    assert code == 0 and "ok   smoke test passed" in out, out


@pytest.mark.parametrize("stack", [OWNER, PEER])
def test_iam_allows_every_call_the_deployed_code_made(deployments, stack):
    """The calls of both regions' functions, judged by the IAM simulator, the replica's key included."""
    refused = refused_calls(deployments[stack], deployments[REPLICA])
    assert not refused, f"IAM would refuse calls the deployed code made:\n{refused}"
