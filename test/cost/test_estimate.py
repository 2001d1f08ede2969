"""Cost as a tested property: the dev profile stays under its idle budget, prod's figure is a snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cdk_payments.cost import estimate_assembly, estimate_template

from ..test_example import synth_example

# The dev profile's idle budget, at list prices: about $86 for the original design's choices.
# WAF ($10: web ACL and five rules) and the NAT instance with its public IPv4 ($6.72) are most of it.
DEV_IDLE_BUDGET_USD = 24.00


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    out = tmp_path_factory.mktemp("cdk.out")
    for profile in ("dev", "prod"):
        synth_example(out, profile)
    return out


def test_dev_profile_idle_cost_within_budget(assembly):
    dev = estimate_assembly(assembly, stack="PaymentPlatform-dev")["PaymentPlatform-dev"]
    assert 0 < dev.fixed_total <= DEV_IDLE_BUDGET_USD, dev.fixed
    assert not any(i.type == "AWS::EC2::NatGateway" for i in dev.fixed)


def test_prod_profile_cost_snapshot(assembly, snapshot):
    prod = estimate_assembly(assembly, stack="PaymentPlatform-prod", payments_per_month=1_000_000)
    figures = prod["PaymentPlatform-prod"].to_dict()
    figures.pop("source")
    assert figures == snapshot


def test_usage_scales_with_volume(assembly):
    low = estimate_assembly(assembly, stack="PaymentPlatform-dev", payments_per_month=100_000)["PaymentPlatform-dev"]
    high = estimate_assembly(assembly, stack="PaymentPlatform-dev", payments_per_month=1_000_000)["PaymentPlatform-dev"]
    assert low.fixed_total == high.fixed_total
    assert high.usage_total == pytest.approx(10 * low.usage_total, rel=0.01)
    assert {i.name for i in high.usage} >= {"API Gateway", "Lambda", "DynamoDB", "SQS", "WAF", "CloudWatch Logs"}


def _template(**resources):
    return {"Resources": resources}


def test_prices_each_idle_resource_kind():
    template = _template(
        Nat={"Type": "AWS::EC2::NatGateway", "Properties": {}},
        Ip={"Type": "AWS::EC2::EIP", "Properties": {}},
        Endpoint={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface",
                                                                   "SubnetIds": ["a", "b", "c"]}},
        Gateway={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        Key={"Type": "AWS::KMS::Key", "Properties": {}},
        Alarm={"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"MetricStat": {}}, {"MetricStat": {}},
                                                                            {"Expression": "a+b"}]}},
        Acl={"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [{}, {}, {}]}},
        Stage={"Type": "AWS::ApiGateway::Stage", "Properties": {"CacheClusterEnabled": True, "CacheClusterSize": "0.5"}},
        Bucket={"Type": "AWS::S3::Bucket", "Properties": {}},
    )
    items = {i.name + ":" + i.detail: i.monthly_usd for i in estimate_template(template).fixed}
    assert items == {
        "Nat:NAT gateway hours": pytest.approx(32.85),
        "Ip:public IPv4 address": pytest.approx(3.65),
        "Endpoint:interface endpoint in 3 AZs": pytest.approx(21.90),
        "Key:customer-managed key": 1.0,
        "Alarm:alarm on 2 metric(s)": pytest.approx(0.20),
        "Acl:web ACL with 3 rules": 8.0,
        "Stage:0.5 GB API cache": pytest.approx(14.60),
    }


def test_auto_scaling_group_at_zero_costs_nothing_and_spot_is_discounted():
    def group(min_size, mixed):
        lt = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "InstanceType": "t4g.small", "BlockDeviceMappings": [{"Ebs": {"VolumeSize": 10}}]}}}
        props = {"MinSize": str(min_size)}
        ref = {"LaunchTemplateId": {"Ref": "Lt"}}
        if mixed:
            props["MixedInstancesPolicy"] = {
                "LaunchTemplate": {"LaunchTemplateSpecification": ref, "Overrides": [{"InstanceType": "t4g.small"}]},
                "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0}}
        else:
            props["LaunchTemplate"] = ref
        return estimate_template(_template(Lt=lt, Asg={"Type": "AWS::AutoScaling::AutoScalingGroup",
                                                       "Properties": props})).fixed_total

    assert group(0, mixed=False) == 0
    on_demand = 0.0168 * 730 + 10 * 0.08
    assert group(1, mixed=False) == pytest.approx(on_demand, abs=0.01)
    assert group(2, mixed=True) == pytest.approx(on_demand + 0.0168 * 0.35 * 730 + 10 * 0.08, abs=0.01)


@pytest.mark.parametrize("kwargs,message", [
    (dict(region="mars-north-1"), "region: no prices for 'mars-north-1'"),
    (dict(payments_per_month=-1), "payments_per_month: must be a whole number >= 0"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_template(_template(), **kwargs)


def test_cli_runs_without_node(assembly):
    env = {**os.environ, "JSII_NODE": "/nonexistent/node", "PATH": os.path.dirname(sys.executable)}
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(assembly), "--json",
                             "--payments-per-month", "1000000"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"PaymentPlatform-dev", "PaymentPlatform-prod", "PaymentPlatform-prod-audit-replica"}
    table = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "cost", str(assembly)],
                           capture_output=True, text=True, env=env)
    assert "Fixed monthly cost (idle)" in table.stdout and "TOTAL" in table.stdout
    missing = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "/nonexistent"], capture_output=True,
                             text=True, env=env)
    assert missing.returncode == 2 and "no CloudFormation template found" in missing.stderr
