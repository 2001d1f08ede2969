"""`cdk-payments capacity`: each limit on a payment's path, made to bind in a synthetic template."""

from __future__ import annotations

import json

import pytest

from cdk_payments.cost import capacity, cli


def template(**parts) -> dict:
    """A payment API's resources, as the construct synthesizes them, with ``parts`` changed."""
    resources = {
        "Processor": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "runtime.api.handler"}},
        "EventHandler": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "runtime.events.handler"}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "EventHandler"}, "ScalingConfig": {"MaximumConcurrency": 50}}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
    }
    for name, resource in parts.items():
        if resource is None:
            resources.pop(name)
        elif name in resources:
            resources[name]["Properties"].update(resource["Properties"])
        else:
            resources[name] = resource
    return {"Resources": resources}


def binding(tpl: dict, **options) -> tuple[str, float]:
    result = capacity.envelope(tpl, **options)
    return result.binding.name, round(result.binding.payments_per_second, 1)


def test_with_nothing_else_the_table_binds():
    assert binding(template()) == ("DynamoDB writes", 1333.3)


def test_a_waf_rate_rule_binds_per_client_ip():
    waf = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [
        {"Name": "PerIp", "Statement": {"RateBasedStatement": {"Limit": 600, "AggregateKeyType": "IP",
                                                               "EvaluationWindowSec": 60}}}]}}
    assert binding(template(Waf=waf)) == ("WAF rate rule PerIp (1 client IP)", 10.0)
    assert binding(template(Waf=waf), client_ips=4)[1] == 40.0


def test_the_stage_throttle_binds():
    stage = {"Type": "AWS::ApiGateway::Stage", "Properties": {"MethodSettings": [
        {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 25, "ThrottlingBurstLimit": 50}]}}
    assert binding(template(Stage=stage)) == ("stage throttle /* *", 25.0)


def test_the_usage_plan_binds_per_api_key():
    plan = {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {
        "Throttle": {"RateLimit": 100}, "ApiStages": [{"Throttle": {"/payments/POST": {"RateLimit": 7}}}]}}
    assert binding(template(Plan=plan)) == ("usage plan /payments/POST (1 API key)", 7.0)
    assert binding(template(Plan=plan), api_keys=3)[1] == 21.0


def test_the_processors_reserved_concurrency_binds():
    tpl = template(Processor={"Properties": {"ReservedConcurrentExecutions": 7}})
    assert binding(tpl, processor_ms=350) == ("processor reserved concurrency", 20.0)


def test_a_new_accounts_concurrency_quota_binds_less_what_settlement_takes():
    tpl = template(Mapping={"Properties": {"ScalingConfig": {"MaximumConcurrency": 5}}})
    assert binding(tpl, account_concurrency=10, processor_ms=500) == ("account concurrency quota", 10.0)
    assert binding(tpl, account_concurrency=1000, processor_ms=500)[0] != "account concurrency quota"


def test_the_event_sources_maximum_concurrency_binds():
    tpl = template(Mapping={"Properties": {"ScalingConfig": {"MaximumConcurrency": 2}}})
    assert binding(tpl, settle_ms=20) == ("event source maximum concurrency", 100.0)


def test_on_demand_maximum_throughput_binds_and_warm_throughput_raises_the_start():
    capped = template(Table={"Properties": {"OnDemandThroughput": {"MaxWriteRequestUnits": 30}}})
    assert binding(capped) == ("DynamoDB writes", 10.0)
    warm = capacity.envelope(template(Table={"Properties": {"WarmThroughput": {"WriteUnitsPerSecond": 30000}}}))
    assert {limit.name: limit.payments_per_second for limit in warm.limits}["DynamoDB writes"] == 10_000


def test_provisioned_capacity_binds():
    tpl = template(Table={"Properties": {"BillingMode": "PROVISIONED",
                                         "ProvisionedThroughput": {"WriteCapacityUnits": 15, "ReadCapacityUnits": 100}}})
    assert binding(tpl) == ("DynamoDB writes", 5.0)


def test_a_fifo_queue_binds():
    tpl = template(Table={"Properties": {"WarmThroughput": {"WriteUnitsPerSecond": 30000}}},
                   Queue={"Properties": {"FifoQueue": True}})
    assert binding(tpl) == ("SQS FIFO queue", 300.0)


def test_a_template_without_a_payment_api_has_no_envelope():
    assert capacity.envelope({"Resources": {}}) is None


def test_the_cli_names_the_binding_limit_for_the_example(example_assemblies, capsys):
    for profile in ("dev", "prod"):
        assert cli.main(["capacity", str(example_assemblies.get(profile)), "--json"]) == 0
        (stack,) = [s for s in json.loads(capsys.readouterr().out) if s["stack"] == f"PaymentPlatform-{profile}"]
        assert stack["binding"] and stack["payments_per_second"] > 0
        names = {limit["name"] for limit in stack["limits"]}
        assert {"DynamoDB writes", "event source maximum concurrency", "API Gateway account quota"} <= names


def test_the_cli_refuses_a_path_without_templates(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["capacity", str(tmp_path)])


def test_the_readme_example_is_what_the_tool_prints_for_dev_and_prod(example_assemblies):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "performance.md").read_text()
    example = readme.split("## Capacity", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    rows = [line for line in example.splitlines() if line.startswith("  ") and "payments/s" not in line]
    for profile in ("dev", "prod"):
        (result,) = [e for e in capacity.assembly(example_assemblies.get(profile)) if e.stack.endswith(profile)]
        first = f": {result.binding.payments_per_second:,.1f} payments/s sustained, bound by {result.binding.name}"
        assert first in example.splitlines()[1]
        printed = sorted(result.limits, key=lambda limit: limit.payments_per_second)
        assert [line[2:50].strip() for line in rows] == [limit.name for limit in printed]
        assert [line[51:63].strip() for line in rows] == [f"{limit.payments_per_second:,.1f}" for limit in printed]
