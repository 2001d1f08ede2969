from __future__ import annotations

import json

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match

from cdk_payments import CostOptimizedVpc, FlowLogDestination, NatStrategy, NetworkLayout, Profile
from cdk_payments.profiles import NETWORK_LAYOUTS, PROFILE_DEFAULTS, layout_settings

from .harness import synth


@pytest.fixture(scope="module", params=list(NatStrategy), ids=lambda nat: nat.value)
def nat_synth(request):
    return request.param, synth(lambda stack: CostOptimizedVpc(stack, "Network", nat=request.param))


@pytest.fixture(scope="module")
def prod():
    holder = {}

    def build(stack):
        holder["vpc"] = CostOptimizedVpc(stack, "Network", profile=Profile.PROD)

    return synth(build), holder


def test_snapshot_per_nat_strategy(nat_synth, template_snapshot):
    _, result = nat_synth
    assert result == template_snapshot


def test_no_unacknowledged_nag_findings(nat_synth):
    _, result = nat_synth
    assert [str(f) for f in result.findings] == []


def test_nat_resources_match_strategy(nat_synth):
    nat, result = nat_synth
    gateways = len(result.resources("AWS::EC2::NatGateway"))
    instances = len(result.resources("AWS::EC2::Instance"))
    assert (gateways, instances) == {
        NatStrategy.GATEWAY_PER_AZ: (2, 0),
        NatStrategy.SINGLE_GATEWAY: (1, 0),
        NatStrategy.INSTANCE: (0, 1),
        NatStrategy.NONE: (0, 0),
    }[nat]
    if nat is NatStrategy.NONE:
        result.template.resource_count_is("AWS::EC2::InternetGateway", 0)


def test_free_gateway_endpoints_always(nat_synth):
    _, result = nat_synth
    endpoints = result.resources("AWS::EC2::VPCEndpoint")
    services = sorted(str(e["Properties"]["ServiceName"]) for e in endpoints.values())
    assert len(services) == 2 and "dynamodb" in services[0] + services[1] and "s3" in services[0] + services[1]
    assert all(e["Properties"]["VpcEndpointType"] == "Gateway" for e in endpoints.values())


def test_flow_logs_to_owned_log_group_with_retention(nat_synth):
    _, result = nat_synth
    result.template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    result.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_no_public_ip_auto_assignment(nat_synth):
    _, result = nat_synth
    for subnet in result.resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_default_security_group_locked_down(nat_synth):
    _, result = nat_synth
    result.template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_nat_instance_is_graviton_hardened():
    result = synth(lambda stack: CostOptimizedVpc(stack, "Network", nat=NatStrategy.INSTANCE), nag=False)
    result.template.has_resource_properties(
        "AWS::EC2::Instance",
        {
            "InstanceType": "t4g.nano",
            "BlockDeviceMappings": [Match.object_like({"Ebs": Match.object_like({"Encrypted": True})})],
            "MetadataOptions": {"HttpTokens": "required"},
        },
    )
    # AL2023's boot-time dnf job can hold the lock (aws-cdk issue 36717): the NAT's install is retried.
    [instance] = result.resources("AWS::EC2::Instance").values()
    assert "dnf install -y iptables-services && break" in json.dumps(instance["Properties"]["UserData"])
    # IMDSv2 is set on the instance: no launch template, so no account-wide name to collide on.
    result.template.resource_count_is("AWS::EC2::LaunchTemplate", 0)
    result.template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"CidrIp": "10.0.0.0/16", "FromPort": 443, "ToPort": 443})]},
    )


def _interface_endpoints(result):
    return [e for e in result.resources("AWS::EC2::VPCEndpoint").values()
            if e["Properties"]["VpcEndpointType"] == "Interface"]


def test_prod_profile_two_azs_a_nat_gateway_each_and_the_secrets_manager_endpoint(prod, template_snapshot):
    result, holder = prod
    assert result == template_snapshot
    assert [str(f) for f in result.findings] == []
    result.template.resource_count_is("AWS::EC2::NatGateway", 2)
    assert len(result.resources("AWS::EC2::Subnet")) == 6  # public, private and data in each of two AZs
    interface = _interface_endpoints(result)
    assert len(interface) == 1 and len(interface[0]["Properties"]["SubnetIds"]) == 2
    assert set(holder["vpc"].interface_endpoints) == {"secretsmanager"}
    result.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_each_profile_default_is_a_layout():
    for profile, layout in ((Profile.DEV, NetworkLayout.NAT_INSTANCE), (Profile.PROD, NetworkLayout.TWO_AZ)):
        network = PROFILE_DEFAULTS[profile].network
        assert {"nat": network.nat, "max_azs": network.max_azs,
                "interface_endpoints": network.interface_endpoints} == layout_settings(layout)
    assert set(NETWORK_LAYOUTS) == set(NetworkLayout)


@pytest.mark.parametrize("layout,gateways,endpoints,azs", [
    (NetworkLayout.TWO_AZ_NO_ENDPOINTS, 2, set(), 2),
    (NetworkLayout.THREE_AZ, 3, {"secretsmanager"}, 3),
    (NetworkLayout.LOCKED_DOWN, 3, {"sqs", "secretsmanager", "kms", "logs", "events", "monitoring"}, 3),
])
def test_a_layout_sets_azs_nat_and_endpoints_together(layout, gateways, endpoints, azs):
    holder = {}

    def build(stack):
        holder["vpc"] = CostOptimizedVpc(stack, "Network", profile=Profile.PROD, layout=layout)

    result = synth(build, nag=False)
    result.template.resource_count_is("AWS::EC2::NatGateway", gateways)
    assert set(holder["vpc"].interface_endpoints) == endpoints
    assert all(len(e["Properties"]["SubnetIds"]) == azs for e in _interface_endpoints(result))


def test_props_override_the_layouts_values():
    holder = {}

    def build(stack):
        holder["vpc"] = CostOptimizedVpc(stack, "Network", layout=NetworkLayout.LOCKED_DOWN, max_azs=2,
                                         interface_endpoints=["kms"], nat=NatStrategy.SINGLE_GATEWAY)

    result = synth(build, nag=False)
    result.template.resource_count_is("AWS::EC2::NatGateway", 1)
    assert set(holder["vpc"].interface_endpoints) == {"kms"}


def test_flow_logs_to_s3_bucket():
    from aws_cdk import aws_s3 as s3

    def build(stack):
        bucket = s3.Bucket(stack, "Logs")
        CostOptimizedVpc(stack, "Network", flow_logs=FlowLogDestination.S3, flow_log_bucket=bucket)

    result = synth(build, nag=False)
    result.template.has_resource_properties("AWS::EC2::FlowLog", {"LogDestinationType": "s3"})
    result.template.resource_count_is("AWS::Logs::LogGroup", 0)


def test_existing_vpc_creates_no_network():
    holder = {}

    def build(stack):
        existing = ec2.Vpc.from_vpc_attributes(
            stack,
            "Existing",
            vpc_id="vpc-12345678",
            availability_zones=["us-east-1a", "us-east-1b"],
            private_subnet_ids=["subnet-1", "subnet-2"],
        )
        holder["vpc"] = CostOptimizedVpc(stack, "Network", existing_vpc=existing)

    result = synth(build, nag=False)
    assert result.json.get("Resources", {}) == {}
    assert [s.subnet_id for s in holder["vpc"].private_subnets] == ["subnet-1", "subnet-2"]


def test_interface_endpoints_in_an_existing_vpc_need_private_subnets():
    def build(stack, private):
        existing = ec2.Vpc.from_vpc_attributes(
            stack, "Existing", vpc_id="vpc-12345678", vpc_cidr_block="10.20.0.0/16",
            availability_zones=["us-east-1a", "us-east-1b"],
            private_subnet_ids=["subnet-1", "subnet-2"] if private else None,
            public_subnet_ids=None if private else ["subnet-3", "subnet-4"],
        )
        CostOptimizedVpc(stack, "Network", existing_vpc=existing, interface_endpoints=["sqs"])

    result = synth(lambda stack: build(stack, private=True), nag=False)
    result.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "SubnetIds": ["subnet-1", "subnet-2"]}
    )
    result.template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"CidrIp": "10.20.0.0/16", "FromPort": 443})]},
    )
    with pytest.raises(ValueError, match="interface_endpoints: existing_vpc has no private or isolated subnets"):
        synth(lambda stack: build(stack, private=False), nag=False)
