"""The warm-standby example rehearsed in two regions: its three stacks created in the emulator as `cdk deploy
--all` orders them (the audit replica and the standby in us-west-2, the primary in us-east-1), a payment
taken at the domain name in the primary, the primary's health check failed, and the name answered by the
standby, which serves the primary's payments and takes new ones; then failed back.

What the emulator cannot do is stood in for, and said so where it is done: moto replicates no global table
(each replica region is given the table the primary's stack created: replication with no lag, see
cdk_payments.local.gaps "global-table-as-table"; the replicas, their keys and the lag alarm are the
deploy-semantics tests' part, test/deploy_semantics/test_warm_standby.py), and Route 53 answers no query
in moto: test/rehearsal/routing.py applies Route 53's failover rule to the records and health checks the
stacks created, with the state of the alarm each check follows.
"""

from __future__ import annotations

import json

import pytest

from cdk_payments.runtime.intake import payment_id_for

from . import gaps
from .regions import answered, deploy_tier, pay, set_health, stored
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


def test_each_rewrite_of_the_tier_touches_only_what_it_covers(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    tier = ("global-table-as-table", "certificate-through-the-api", "domain-name-through-the-api",
            "hosted-zone-of-the-emulator", "alarm-a-health-check-follows")
    assert {name: primary.touched[name] for name in tier} == {
        "global-table-as-table": [primary.one("AWS::DynamoDB::Table", "PaymentsTable")],
        "certificate-through-the-api": ["PaymentsCertificateB570D672"],
        "domain-name-through-the-api": ["PaymentsDomainName0B5422E6"],
        "hosted-zone-of-the-emulator": [primary.one("AWS::Route53::RecordSet")],
        "alarm-a-health-check-follows": ["PaymentsApi5xxRateC4FFD36D"],
    }
    # The standby has the replica (no table of its own), a domain and record, and no health check.
    assert {name: standby.touched[name] for name in tier} == {
        "global-table-as-table": [], "certificate-through-the-api": ["PaymentsCertificateB570D672"],
        "domain-name-through-the-api": ["PaymentsDomainName0B5422E6"],
        "hosted-zone-of-the-emulator": [standby.one("AWS::Route53::RecordSet")], "alarm-a-health-check-follows": []}


@pytest.mark.parametrize("stack", [REPLICA, PRIMARY, STANDBY])
def test_the_rewrites_leave_every_other_resource_as_synthesized(deployments, stack):
    check_the_rest_as_synthesized(deployments[stack])


def test_the_replica_is_in_the_standby_region_under_the_name_its_functions_use(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    table = primary.physical[primary.one("AWS::DynamoDB::Table", "PaymentsTable")]
    processor = standby.physical[standby.one("AWS::Lambda::Function", "PaymentsProcessor")]
    variables = standby.client("lambda").get_function_configuration(FunctionName=processor)["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == table
    replica = standby.client("dynamodb").describe_table(TableName=table)["Table"]
    assert replica["KeySchema"] == primary.properties(primary.one("AWS::DynamoDB::Table", "PaymentsTable"))["KeySchema"]


def test_the_name_fails_over_to_the_standby_and_back(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    router = Router([primary, standby])
    # A consumer of settled payments on the primary's bus, where the standby forwards its events.
    consumer = subscribe_consumer(primary)

    # The primary's health check is healthy: the name is the primary's API.
    api = answered(router, primary)
    assert api.deployment is primary
    first = pay(api, "failover-order-1")
    assert stored(primary, first["payment_id"])["status"] == {"S": "PROCESSED"}

    # The primary's 5XX-rate alarm goes off: Route 53 answers with the standby.
    set_health(primary, "ALARM")
    api = answered(router, primary)
    assert api.deployment is standby and api.deployment.region == "us-west-2"

    # The standby serves the primary's payment from the replica, to the merchant the primary's role maps.
    status, fetched = api.call("GET", f"/payments/{first['payment_id']}")
    assert status == 200 and fetched["status"] == "PROCESSED" and fetched["merchant_id"] == "demo-merchant", fetched
    # A client that retries its request after the failover gets the same payment, not a second one.
    table = primary.physical[primary.one("AWS::DynamoDB::Table", "PaymentsTable")]
    before = primary.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    status, replayed = api.call("POST", "/payments", body=payment_body(), headers={"Idempotency-Key": "failover-order-1"})
    assert (status, replayed["payment_id"]) == (202, first["payment_id"]), (status, replayed)
    assert primary.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"] == before
    # A new payment is taken and settled by the standby's own queue and functions.
    handler = standby.physical[standby.one("AWS::Lambda::Function", "PaymentsEventHandler")]
    settled_before = [i for i in standby.emulator.invocations if i.function_name == handler]
    second = pay(api, "failover-order-2")
    assert second["payment_id"] == payment_id_for("demo-merchant", "failover-order-2")
    settled = [i for i in standby.emulator.invocations if i.function_name == handler][len(settled_before):]
    assert settled and all(i.error is None for i in settled), [(i.error, i.logs[-3000:]) for i in settled]
    assert stored(standby, second["payment_id"])["status"] == {"S": "PROCESSED"}
    # Its event reached the primary's bus across regions (forward_events), where the primary's consumers,
    # webhooks and audit trail hear it, as they heard the primary's own.
    messages = primary.client("sqs").receive_message(QueueUrl=consumer, MaxNumberOfMessages=10)["Messages"]
    heard = sorted((e["detail-type"], e["detail"]["payment_id"]) for e in (json.loads(m["Body"]) for m in messages))
    assert heard == sorted(("Payment Processed", p["payment_id"]) for p in (first, second)), heard

    # The alarm clears: the name is the primary's again, which sees what the standby took.
    set_health(primary, "OK")
    api = answered(router, primary)
    assert api.deployment is primary
    status, fetched = api.call("GET", f"/payments/{second['payment_id']}")
    assert status == 200 and fetched["status"] == "PROCESSED", fetched


def test_the_primarys_health_check_follows_its_alarm_and_the_standby_has_none(deployments):
    primary, standby = deployments[PRIMARY], deployments[STANDBY]
    [check] = primary.logical_ids("AWS::Route53::HealthCheck")
    alarm = primary.properties(check)["HealthCheckConfig"]["AlarmIdentifier"]
    [created] = primary.client("cloudwatch").describe_alarms(AlarmNames=[alarm["Name"]])["MetricAlarms"]
    assert (created["Namespace"], created["MetricName"], created["Statistic"]) == ("AWS/ApiGateway", "5XXError", "Average")
    api = primary.physical[primary.one("AWS::ApiGateway::RestApi", "PaymentsApi")]
    assert created["Dimensions"] == [{"Name": "ApiName", "Value": primary.client("apigateway").get_rest_api(restApiId=api)["name"]}]
    assert standby.logical_ids("AWS::Route53::HealthCheck") == []


@pytest.mark.parametrize("stack", [PRIMARY, STANDBY])
def test_cdk_payments_smoke_passes_against_each_regions_stack(deployments, stack):
    """The pipeline's post-deploy step, in both regions: the standby with the primary's merchant roles."""
    code, out = smoke_through_a_gateway(deployments[stack])
    assert code == 0 and "ok   smoke test passed" in out, out


@pytest.mark.parametrize("stack", [PRIMARY, STANDBY])
def test_iam_allows_every_call_the_deployed_code_made(deployments, emulator, stack):
    """The calls of both regions' functions in the drill, judged by the IAM simulator (test/iam/judge.py)."""
    from ..iam.judge import refused_in_rehearsal

    refused = refused_in_rehearsal(deployments[stack], emulator.workdir / "aws-calls.jsonl")
    assert not refused, f"IAM would refuse calls the deployed code made:\n{refused}"
