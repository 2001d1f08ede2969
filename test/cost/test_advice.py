"""`cdk-payments cost` advice: for each choice, its cost, its break-even and which side of it a volume is on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cdk_payments.cost import estimate_template, load_prices

US = {name: p["usd"] for name, p in load_prices()["regions"]["us-east-1"]["prices"].items()}
A = {k: v["value"] for section in load_prices()["assumptions"].values() for k, v in section.items()}
GB = 1_048_576
API = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "runtime.api.handler", "MemorySize": 512}}
NAT = {"Type": "AWS::EC2::NatGateway", "Properties": {}}


def endpoint(service, azs=2):
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcEndpointType": "Interface", "SubnetIds": [f"s{i}" for i in range(azs)],
        "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]}}}


def advice(payments=1_000_000, **resources):
    return {(a.choice, a.resource.split(" (")[0]): a
            for a in estimate_template({"Resources": resources}, payments_per_month=payments).advice}


def test_an_interface_endpoint_pays_for_itself_only_above_its_break_even():
    fixed = US["interface_endpoint_hourly_per_az"] * 730 * 2
    break_even_gb = fixed / (US["nat_gateway_per_gb"] - US["interface_endpoint_per_gb"])
    assert break_even_gb == pytest.approx(417.1, abs=0.1)  # 2 AZs: $14.60 against $0.035/GB saved
    payments_at_break_even = break_even_gb * GB / A["sqs_api_kb"]
    low = advice(Api=API, Nat=NAT, Sqs=endpoint("sqs"))[("interface endpoint", "sqs")]
    assert low.verdict == "below" and "417 GB/month" in low.break_even
    assert "costs $" in low.detail and "Kept for what it protects" in low.detail
    high = advice(int(payments_at_break_even) + 1000, Api=API, Nat=NAT, Sqs=endpoint("sqs"))
    assert high[("interface endpoint", "sqs")].verdict == "above"
    assert "saves $" in high[("interface endpoint", "sqs")].detail
    # Three AZs raise the break-even by half (the issue's ~600 GB).
    assert "626 GB/month" in advice(Api=API, Nat=NAT, Sqs=endpoint("sqs", 3))[("interface endpoint", "sqs")].break_even


def test_an_interface_endpoint_without_a_nat_gateway_has_nothing_to_save():
    line = advice(Api=API, Kms=endpoint("kms"))[("interface endpoint", "kms")]
    assert line.verdict == "no break-even" and "no NAT gateway processing" in line.break_even


def test_the_first_nat_gateway_is_dearer_than_an_instance_and_later_ones_against_sharing_one():
    lines = advice(Api=API, Nat1=NAT, Nat2=NAT)
    first, second = lines[("NAT gateway", "Nat1")], lines[("NAT gateway", "Nat2")]
    assert first.verdict == "no break-even" and "NAT instance costs less" in first.break_even
    gateway_and_ip = (US["nat_gateway_hourly"] + US["public_ipv4_hourly"]) * 730
    assert "1,825 GB/month" in second.break_even  # $36.50 against $0.02/GB of cross-AZ transfer
    assert gateway_and_ip / (2 * US["inter_az_transfer_per_gb"]) == pytest.approx(1825)
    assert second.verdict == "below" and "survives the loss of another AZ" in second.detail
    # Past 1,825 GB of that AZ's egress (two gateways share it), the second gateway also saves money.
    huge = int(2 * 1900 * GB / (A["sqs_api_kb"] + A["events_api_kb"]))
    assert advice(huge, Api=API, Nat1=NAT, Nat2=NAT)[("NAT gateway", "Nat2")].verdict == "above"


def test_a_nat_instance_is_cheaper_at_any_traffic():
    instance = {"Type": "AWS::EC2::Instance", "Properties": {
        "InstanceType": "t4g.nano", "NetworkInterfaces": [{"AssociatePublicIpAddress": True}]}}
    line = advice(Api=API, Nat=instance)[("NAT instance", "Nat")]
    assert line.verdict == "no break-even"
    assert line.monthly_usd == pytest.approx(0.0042 * 730 + 8 * 0.08 + 3.65)


def test_the_api_cache_break_even_in_cached_reads():
    saving = 0.2 / 1e6 + A["processor_seconds"] * 0.5 * US["lambda_arm_per_gb_second"] + 0.125 / 1e6
    reads_at_break_even = 14.60 / saving
    stage = {"Type": "AWS::ApiGateway::Stage", "Properties": {"CacheClusterEnabled": True, "CacheClusterSize": "0.5"}}
    cached = advice(Api=API, Stage=stage)[("API cache", "Stage")]
    assert cached.verdict == "below" and f"{reads_at_break_even / 1e6:,.1f}M cached reads" in cached.break_even
    assert cached.monthly_usd == pytest.approx(14.60)
    busy = advice(int(reads_at_break_even) + 10, Api=API, Stage=stage)[("API cache", "Stage")]
    assert busy.verdict == "above"  # one GET per payment
    none = advice(Api=API, Stage={"Type": "AWS::ApiGateway::Stage", "Properties": {}})[("API cache", "Stage")]
    assert none.monthly_usd == 0 and "IAM authorization" in none.detail


def test_each_waf_rule_is_a_fixed_fee_without_a_break_even():
    acl = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [
        {"Statement": {"RateBasedStatement": {"Limit": 1000}}},
        {"Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesSQLiRuleSet"}}}]}}
    lines = advice(Acl=acl)
    assert {k for k in lines if k[0] == "WAF rule"} == {("WAF rule", "rate-based rule"),
                                                       ("WAF rule", "AWSManagedRulesSQLiRuleSet")}
    assert all(a.monthly_usd == 1.0 and a.verdict == "no break-even" for k, a in lines.items() if k[0] == "WAF rule")


def test_per_method_metrics_cost_the_same_at_any_traffic():
    stage = {"Type": "AWS::ApiGateway::Stage", "Properties": {"MethodSettings": [{"MetricsEnabled": True}]}}
    methods = {f"M{i}": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": v}}
               for i, v in enumerate(("POST", "GET"))}
    line = advice(Stage=stage, **methods)[("per-method metrics", "Stage")]
    assert line.monthly_usd == pytest.approx(10 * 0.30) and line.verdict == "no break-even"
    off = {"Type": "AWS::ApiGateway::Stage", "Properties": {"MethodSettings": [{"MetricsEnabled": False}]}}
    assert ("per-method metrics", "Stage") not in advice(Stage=off, **methods)


def test_the_cli_prints_the_choices_and_json_carries_them(tmp_path):
    template = {"Resources": {"Api": API, "Nat": NAT, "Sqs": endpoint("sqs")}}
    (tmp_path / "Stack.template.json").write_text(json.dumps(template))
    table = subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(tmp_path), "--payments-per-month", "1000"],
                           capture_output=True, text=True, check=True).stdout
    assert "Choices and their break-even at 1,000 payments/month:" in table
    assert "interface endpoint" in table and "break-even 417 GB/month" in table
    data = json.loads(subprocess.run([sys.executable, "-m", "cdk_payments.cost", str(tmp_path), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert {a["choice"] for a in data["stacks"]["Stack"]["advice"]} == {"interface endpoint", "NAT gateway"}
