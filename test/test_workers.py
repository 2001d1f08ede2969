from __future__ import annotations

import json

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2

from cdk_payments import AlertTopics, CostOptimizedVpc, PaymentWorkerFleet, Profile

from .harness import synth


@pytest.fixture(scope="module")
def spot():
    holder = {}

    def build(stack):
        network = CostOptimizedVpc(stack, "Network")
        alerts = AlertTopics(stack, "Alerts")
        table = dynamodb.Table.from_table_name(stack, "Payments", "payments")
        holder["fleet"] = PaymentWorkerFleet(stack, "Workers", vpc=network.vpc, table=table,
                                             alarm_topic=alerts.operations_topic,
                                             user_data_commands=["/opt/worker/bin/start"])

    return synth(build), holder


@pytest.fixture(scope="module")
def on_demand():
    def build(stack):
        network = CostOptimizedVpc(stack, "Network", profile=Profile.PROD)
        PaymentWorkerFleet(stack, "Workers", vpc=network.vpc, profile=Profile.PROD, spot=False,
                           container_image="public.ecr.aws/example/settlement:1.4")

    return synth(build)


def test_snapshots(spot, on_demand, template_snapshot):
    assert (spot[0].json, on_demand.json) == template_snapshot


def test_nag_clean(spot, on_demand):
    assert [str(f) for f in spot[0].findings + on_demand.findings] == []


def test_launch_template_hardened_graviton_al2023(spot):
    result, _ = spot
    result.template.resource_count_is("AWS::AutoScaling::LaunchConfiguration", 0)
    lt = [v for v in result.resources("AWS::EC2::LaunchTemplate").values()
          if "UserData" in v["Properties"]["LaunchTemplateData"]][0]["Properties"]["LaunchTemplateData"]
    assert lt["InstanceType"] == "t4g.small"
    assert lt["MetadataOptions"]["HttpTokens"] == "required"
    fleet_key = next(k for k in result.resources("AWS::KMS::Key") if k.startswith("Workers"))
    assert lt["BlockDeviceMappings"] == [{"DeviceName": "/dev/xvda", "Ebs": {
        "DeleteOnTermination": True, "Encrypted": True, "KmsKeyId": {"Fn::GetAtt": [fleet_key, "Arn"]},
        "VolumeSize": 16, "VolumeType": "gp3"}}]
    assert lt["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    assert "KeyName" not in lt
    assert "al2023-ami" in json.dumps(result.json["Parameters"]) and "arm64" in json.dumps(result.json["Parameters"])
    user_data = json.dumps(lt["UserData"])
    assert "amazon-cloudwatch-agent-ctl" in user_data and "/opt/worker/bin/start" in user_data
    # AL2023's boot-time dnf job can hold the lock (aws-cdk issue 36717): the agent's install is retried.
    assert "for try in $(seq 1 10); do dnf install -y amazon-cloudwatch-agent && break" in user_data
    sg = next(iter(v for k, v in result.resources("AWS::EC2::SecurityGroup").items() if "Workers" in k))
    assert "SecurityGroupIngress" not in sg["Properties"]


def test_mixed_instances_spot_diversity_and_rebalancing(spot):
    result, _ = spot
    group = next(iter(result.resources("AWS::AutoScaling::AutoScalingGroup").values()))["Properties"]
    assert group["MinSize"] == "0" and group["MaxSize"] == "2" and "DesiredCapacity" not in group
    assert group["CapacityRebalance"] is True
    policy = group["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"] == {"OnDemandBaseCapacity": 0,
                                               "OnDemandPercentageAboveBaseCapacity": 0,
                                               "SpotAllocationStrategy": "price-capacity-optimized"}
    types = [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]]
    assert types == ["t4g.small", "t4g.medium", "c7g.medium", "m7g.medium"]
    # Auto Scaling notifications would be published by its service-linked role, which cannot use the
    # topic's key: failures go through EventBridge instead.
    assert "NotificationConfigurations" not in group
    assert any(m["Granularity"] == "1Minute" for m in group["MetricsCollection"])


def test_three_scaling_policies(spot):
    result, _ = spot
    policies = result.resources("AWS::AutoScaling::ScalingPolicy").values()
    tracked = [p["Properties"]["TargetTrackingConfiguration"] for p in policies
               if p["Properties"]["PolicyType"] == "TargetTrackingScaling"]
    assert {"PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 60} in tracked
    memory = next(t for t in tracked if "CustomizedMetricSpecification" in t)
    assert memory["CustomizedMetricSpecification"]["MetricName"] == "mem_used_percent"
    assert memory["TargetValue"] == 70
    steps = [p for p in policies if p["Properties"]["PolicyType"] == "StepScaling"]
    assert len(steps) == 2  # scale-out and scale-in halves of the backlog policy
    assert all("Cooldown" not in p["Properties"] for p in steps)
    backlog_alarms = [a for a in result.resources("AWS::CloudWatch::Alarm").values()
                      if "IF(workers > 0, workers, 1)" in json.dumps(a["Properties"].get("Metrics", []))]
    assert len(backlog_alarms) == 2


def test_agent_config_publishes_memory_per_group(spot):
    result, _ = spot
    config = next(p for p in result.resources("AWS::SSM::Parameter").values())
    value = json.loads(config["Properties"]["Value"]) if isinstance(config["Properties"]["Value"], str) else None
    text = json.dumps(config["Properties"]["Value"])
    assert "mem_used_percent" in text and "AutoScalingGroupName" in text
    assert value is None or value["metrics"]["namespace"] == "CWAgent"


def test_grants_consume_queue_read_table_no_write(spot):
    result, _ = spot
    policy = json.dumps([p for n, p in result.resources("AWS::IAM::Policy").items() if "Workers" in n])
    assert "sqs:ReceiveMessage" in policy and "sqs:DeleteMessage" in policy
    assert "dynamodb:GetItem" in policy and "dynamodb:PutItem" not in policy
    role = next(v for k, v in result.resources("AWS::IAM::Role").items() if "WorkersRole" in k)
    assert "AmazonSSMManagedInstanceCore" in json.dumps(role["Properties"]["ManagedPolicyArns"])


def test_alarms_and_spot_interruptions_to_operations(spot):
    result, holder = spot
    assert [a.node.id for a in holder["fleet"].alarms] == [
        "CpuHigh", "MemoryHigh", "MemoryMetricMissing", "InstancesUnhealthy", "DeadLetters",
        "UndeliveredInterruptionsWaiting"]
    assert all(a.node.default_child.alarm_actions for a in holder["fleet"].alarms)
    [missing] = [a["Properties"] for k, a in result.resources("AWS::CloudWatch::Alarm").items()
                 if "MemoryMetricMissing" in k]
    [expression] = [m["Expression"] for m in missing["Metrics"] if "Expression" in m]
    assert expression == "IF(FILL(inservice, 0) > 0 AND FILL(memory, -1) < 0, 1, 0)"
    assert missing["AlarmActions"]
    rules = {k: v["Properties"] for k, v in result.resources("AWS::Events::Rule").items()}
    spot = next(r for k, r in rules.items() if "SpotInterruptions" in k)
    assert "EC2 Spot Instance Interruption Warning" in spot["EventPattern"]["detail-type"]
    failures = next(r for k, r in rules.items() if "ActivityFailures" in k)
    assert failures["EventPattern"]["source"] == ["aws.autoscaling"]
    assert failures["EventPattern"]["detail-type"] == ["EC2 Instance Launch Unsuccessful",
                                                       "EC2 Instance Terminate Unsuccessful"]
    assert all("DeadLetterConfig" in r["Targets"][0] for r in rules.values())


def test_on_demand_prod_container_variant(on_demand):
    group = next(iter(on_demand.resources("AWS::AutoScaling::AutoScalingGroup").values()))["Properties"]
    assert "MixedInstancesPolicy" not in group and group["MinSize"] == "1" and group["MaxSize"] == "6"
    on_demand.template.resource_count_is("AWS::Events::Rule", 0)  # no alarm topic, nowhere to send events
    lt = [v for v in on_demand.resources("AWS::EC2::LaunchTemplate").values()
          if "UserData" in v["Properties"]["LaunchTemplateData"]][0]["Properties"]["LaunchTemplateData"]
    assert "docker run" in json.dumps(lt["UserData"]) and lt["MetadataOptions"]["HttpPutResponseHopLimit"] == 2


@pytest.mark.parametrize("props,message", [
    (dict(min_capacity=3, max_capacity=2), "min_capacity: (3) must not exceed max_capacity (2)"),
    (dict(instance_types=["t3.small"]), "instance_types: t3.small is an x86 type but architecture is ARM_64"),
    (dict(instance_types=["c7g.large"], architecture=ec2.InstanceArchitecture.X86_64), "is an ARM (Graviton) type"),
    (dict(instance_types=["bogus"]), "'bogus' is not an EC2 instance type"),
    (dict(spot_percentage_above_base=120), "spot_percentage_above_base: must be an integer >= 0 and <= 100"),
    (dict(desired_capacity=5), "desired_capacity: must be between min_capacity (0) and max_capacity (2)"),
    (dict(user_data_commands=["x"], container_image="y"), "container_image: give either"),
    (dict(spot=False, spot_percentage_above_base=50), "Spot settings need spot=True"),
])
def test_bad_props(props, message):
    def build(stack):
        PaymentWorkerFleet(stack, "Workers", vpc=CostOptimizedVpc(stack, "Network").vpc, **props)

    with pytest.raises(ValueError) as error:
        synth(build, nag=False)
    assert message in str(error.value)
