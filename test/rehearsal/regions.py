"""What the rehearsals of the example's multi-region tiers share: the tier deployed stack by stack as `cdk
deploy --all` orders them, the API a name is answered with, a payment taken there and settled by that
region's own functions, a health check failed, and the IAM judgement of a region that serves another
stack's table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdk_payments.local.deploy import Deployment, resolve, stacks_in_order
from cdk_payments.local.emulator import redeliveries_done

from ..example_assemblies import cost_table, synth_app
from ..iam.deployed import ACCOUNT
from .rehearsal import PaymentApi, deploy_quietly, payments_queue_arn
from .requests import payment_body
from .routing import Router

NAME = "pay.example.com."  # the example's domain in the tiers' context (tools/cost_table.py TIERS)
# The rewrites (cdk_payments.local.gaps) that only the tiers' stacks need.
TIER_REWRITES = ("global-table-as-table", "certificate-through-the-api", "domain-name-through-the-api",
                 "hosted-zone-of-the-emulator", "alarm-a-health-check-follows")


def deploy_tier(emulator: Any, outdir: Path, tier: str, order: list[tuple[str, str]]) -> dict[str, Deployment]:
    """The example with ``tier`` (a key of cost_table.TIERS) synthesized and deployed into the emptied
    emulator in ``order`` (stack, region), which must be the assembly's own."""
    result = synth_app(outdir, cost_table().tier_context(tier))
    assert result.returncode == 0, result.stderr
    emulator.reset()
    assert stacks_in_order(outdir) == order
    return {name: deploy_quietly(emulator, outdir, name, region=region) for name, region in order}


def tier_rewrites(deployment: Deployment) -> dict[str, list[str]]:
    """Which logical ids each of the tiers' rewrites touched in ``deployment``, by the logical id's prefix."""
    return {name: [logical_id.rstrip("0123456789ABCDEF") for logical_id in deployment.touched[name]]
            for name in TIER_REWRITES}


def table_name(deployment: Deployment) -> str:
    """The table ``deployment``'s functions use (the owner's global table, in any of its regions)."""
    processor = deployment.properties(deployment.one("AWS::Lambda::Function", "PaymentsProcessor"))
    return resolve(deployment, processor["Environment"]["Variables"]["TABLE_NAME"])


def answered(router: Router, roles_of: Deployment, *, near: str | None = None) -> PaymentApi:
    """The API the domain name is answered with, called as the demo merchant of ``roles_of``' roles."""
    deployment = router.answer(NAME, near=near)
    [mapping] = deployment.logical_ids("AWS::ApiGateway::BasePathMapping")  # the domain's API and stage
    api = PaymentApi.of(deployment, merchants=roles_of)
    assert resolve(deployment, deployment.properties(mapping)["RestApiId"]) == api.rest_api_id
    return api


def pay(api: PaymentApi, key: str) -> dict[str, Any]:
    """POST a payment with idempotency key ``key``, settled by the answering region's own queue and event
    handler (it ran, without an error, and the payment is PROCESSED)."""
    deployment = api.deployment
    handler = deployment.physical[deployment.one("AWS::Lambda::Function", "PaymentsEventHandler")]
    ran_before = len([i for i in deployment.emulator.invocations if i.function_name == handler])
    status, created = api.call("POST", "/payments", body=payment_body(), headers={"Idempotency-Key": key})
    assert status == 202, (status, created)
    redeliveries_done(payments_queue_arn(deployment))
    ran = [i for i in deployment.emulator.invocations if i.function_name == handler][ran_before:]
    assert ran and all(i.error is None for i in ran), [(i.error, i.logs[-3000:]) for i in ran]
    assert stored(deployment, created["payment_id"])["status"] == {"S": "PROCESSED"}
    return created


def stored(deployment: Deployment, payment_id: str) -> dict[str, Any]:
    """The payment's item as ``deployment``'s region reads it from the table."""
    return deployment.client("dynamodb").get_item(TableName=table_name(deployment), Key={
        "payment_id": {"S": payment_id}}, ConsistentRead=True)["Item"]


def items(deployment: Deployment) -> int:
    return deployment.client("dynamodb").scan(TableName=table_name(deployment), Select="COUNT")["Count"]


def set_health(deployment: Deployment, state: str) -> None:
    """Set the alarm ``deployment``'s health check follows to ``state`` (ALARM fails the check)."""
    [check] = deployment.logical_ids("AWS::Route53::HealthCheck")
    alarm = deployment.properties(check)["HealthCheckConfig"]["AlarmIdentifier"]
    deployment.emulator.client("cloudwatch", alarm["Region"]).set_alarm_state(
        AlarmName=alarm["Name"], StateValue=state, StateReason=f"rehearsal: {state}")


def refused_calls(deployment: Deployment, replica_stack: Deployment) -> str:
    """What IAM would refuse of the calls ``deployment``'s functions made (test/iam/judge.py). A standby or
    peer serves the owner's table, whose replica in its region is encrypted with ``replica_stack``'s key,
    named by its alias: DynamoDB's use of that key for the functions is judged against that key's policy."""
    from ..iam.deployed import deployed
    from ..iam.judge import load_assembly_stack, refused_in_rehearsal
    from ..iam.simulator import ImportedKey, Policies

    imported = {}
    if deployment.logical_ids("AWS::DynamoDB::Table") == []:
        keys = Policies(deployed(load_assembly_stack(replica_stack)))
        [(key_id, _)] = keys.stack.of_type("AWS::KMS::Key")
        [(_, alias)] = keys.stack.of_type("AWS::KMS::Alias")
        key = keys.stack.arn(key_id)
        table = f"arn:aws:dynamodb:{deployment.region}:{ACCOUNT}:table/{table_name(deployment)}"
        imported[table] = ImportedKey(key, keys.resource_policy(key), (alias["Properties"]["AliasName"],))
    return refused_in_rehearsal(deployment, deployment.emulator.workdir / "aws-calls.jsonl", imported)
