"""What the rehearsals of the example's multi-region tiers share: the tier deployed stack by stack as `cdk
deploy --all` orders them, the API a name is answered with, a payment taken there, a health check failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdk_payments.local.deploy import Deployment, resolve, stacks_in_order
from cdk_payments.local.emulator import redeliveries_done

from ..example_assemblies import synth_app
from ..test_example_tiers import cost_table
from .rehearsal import PaymentApi, deploy_quietly, payments_queue_arn
from .requests import payment_body
from .routing import Router

NAME = "pay.example.com."  # the example's domain in the tiers' context (tools/cost_table.py TIERS)


def deploy_tier(emulator: Any, outdir: Path, tier: str, order: list[tuple[str, str]]) -> dict[str, Deployment]:
    """The example with ``tier`` (a key of cost_table.TIERS) synthesized and deployed into the emptied
    emulator in ``order`` (stack, region), which must be the assembly's own."""
    result = synth_app(outdir, cost_table().tier_context(tier))
    assert result.returncode == 0, result.stderr
    emulator.reset()
    assert stacks_in_order(outdir) == order
    return {name: deploy_quietly(emulator, outdir, name, region=region) for name, region in order}


def answered(router: Router, merchants: Deployment, *, near: str | None = None) -> PaymentApi:
    """The API the domain name is answered with, called as the demo merchant of ``merchants``' roles."""
    deployment = router.answer(NAME, near=near)
    [mapping] = deployment.logical_ids("AWS::ApiGateway::BasePathMapping")  # the domain's API and stage
    api = PaymentApi.of(deployment, merchants=merchants)
    assert resolve(deployment, deployment.properties(mapping)["RestApiId"]) == api.rest_api_id
    return api


def pay(api: PaymentApi, key: str) -> dict[str, Any]:
    """POST a payment with idempotency key ``key``; returns once its queue delivered what it handed back."""
    status, created = api.call("POST", "/payments", body=payment_body(), headers={"Idempotency-Key": key})
    assert status == 202, (status, created)
    redeliveries_done(payments_queue_arn(api.deployment))
    return created


def stored(deployment: Deployment, payment_id: str) -> dict[str, Any]:
    """The payment's item as ``deployment``'s region reads it from the table."""
    table = resolve(deployment, deployment.properties(deployment.one("AWS::Lambda::Function", "PaymentsProcessor"))[
        "Environment"]["Variables"]["TABLE_NAME"])
    return deployment.client("dynamodb").get_item(TableName=table, Key={"payment_id": {"S": payment_id}},
                                                  ConsistentRead=True)["Item"]


def set_health(deployment: Deployment, state: str) -> None:
    """Set the alarm ``deployment``'s health check follows to ``state`` (ALARM fails the check)."""
    [check] = deployment.logical_ids("AWS::Route53::HealthCheck")
    alarm = deployment.properties(check)["HealthCheckConfig"]["AlarmIdentifier"]
    deployment.emulator.client("cloudwatch", alarm["Region"]).set_alarm_state(
        AlarmName=alarm["Name"], StateValue=state, StateReason=f"rehearsal: {state}")
