"""PaymentWorkerFleet: EC2 Auto Scaling workers for work that does not fit Lambda."""

from __future__ import annotations

import json
import re
from typing import Optional, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ._alarms import alarm as create_alarm
from ._boot import dnf_install
from ._kms import allow_auto_scaling_volumes, key_for, key_policy_statements
from ._nag import AcknowledgeGrantPolicies, acknowledge, acknowledge_log_retention, guard
from ._overrides import Override, flag_overridden_defaults, shorter_retention
from ._queues import dead_letter_alarm, dead_letter_queue, encrypted_queue, topic_target
from ._topics import warn_if_imported_topic
from ._validation import WORKLOAD_SUBNETS_HINT, PropErrors, pick
from .profiles import Profile, defaults_for

__all__ = ["PaymentWorkerFleet"]

DEFAULT_INSTANCE_TYPES = {
    ec2.InstanceArchitecture.ARM_64: ("t4g.small", "t4g.medium", "c7g.medium", "m7g.medium"),
    ec2.InstanceArchitecture.X86_64: ("t3.small", "t3a.small", "c7i.large", "m7i.large"),
}
GRAVITON_FAMILY = re.compile(r"^(a1|[a-z]+\d+g[a-z]*)$")  # t4g, c7gn, m6gd, x2gd, im4gn...
MEMORY_METRIC = ("CWAgent", "mem_used_percent")
DEFAULT_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
# Auto Scaling events worth a page: instances that could not be launched or terminated.
UNSUCCESSFUL_ACTIVITIES = ("EC2 Instance Launch Unsuccessful", "EC2 Instance Terminate Unsuccessful")


class PaymentWorkerFleet(Construct):
    """An Auto Scaling group of workers from a launch template: Graviton (``t4g.small``) on Amazon
    Linux 2023 by default, IMDSv2 required, encrypted gp3 root volume, no public IP, no SSH (access
    through SSM Session Manager), in the VPC's private subnets.

    It scales on three signals: target tracking on CPU, target tracking on memory (published by the
    CloudWatch agent, whose configuration lives in an SSM parameter the user data loads) and step
    scaling on the queue backlog per instance, which also starts the first worker when the fleet is
    at zero and any message waits. Optionally mixed with Spot above an on-demand base, over several
    instance types, with capacity rebalancing.

    The root volume is encrypted with the fleet's KMS key, whose key policy lets the Auto Scaling
    service-linked role (``AWSServiceRoleForAutoScaling``, which launches the instances) use it; an
    imported ``encryption_key`` must allow that itself (a warning says so at synthesis). Failed
    launches and terminations reach ``alarm_topic`` through EventBridge (Auto Scaling's own
    notifications would go through that role, which cannot use the topic's key).

    You supply the software: ``user_data_commands``, your own ``machine_image``, or a
    ``container_image`` that the workers run with Docker. Workers find ``QUEUE_URL`` and
    ``TABLE_NAME`` in ``/etc/payment-worker.env`` and may consume the queue and read the table.

    cdk-nag acknowledgements made here: AmazonSSMManagedInstanceCore (IAM4, Session Manager instead of
    SSH), ``cloudwatch:PutMetricData`` and ``ec2:DescribeTags`` on ``*`` (IAM5, no resource scoping
    exists), EC26 and EC2IMDSv2Enabled on the group when Spot is on (the rules cannot see the launch
    template through the mixed-instances policy), AS3 (launch and termination failures go through
    EventBridge instead) and CloudWatchAlarmAction only when no ``alarm_topic`` is given; checkov
    CKV_AWS_33 on a key the fleet creates (its Auto Scaling statements name the service-linked role
    in a condition, so that they deploy before that role exists).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        profile: Profile = Profile.DEV,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        queue: Optional[sqs.IQueue] = None,
        table: Optional[dynamodb.ITable] = None,
        architecture: Optional[ec2.InstanceArchitecture] = None,
        instance_types: Optional[Sequence[str]] = None,
        machine_image: Optional[ec2.IMachineImage] = None,
        user_data_commands: Optional[Sequence[str]] = None,
        container_image: Optional[str] = None,
        min_capacity: Optional[int] = None,
        max_capacity: Optional[int] = None,
        desired_capacity: Optional[int] = None,
        spot: Optional[bool] = None,
        on_demand_base_capacity: Optional[int] = None,
        spot_percentage_above_base: Optional[int] = None,
        cpu_target_percent: Optional[int] = None,
        memory_target_percent: Optional[int] = None,
        backlog_per_instance: Optional[int] = None,
        root_volume_size_gb: Optional[int] = None,
        encryption_key: Optional[kms.IKey] = None,
        alarm_topic: Optional[sns.ITopic] = None,
        log_retention: Optional[logs.RetentionDays] = None,
    ) -> None:
        """
        :param vpc: the VPC (``CostOptimizedVpc.vpc``); workers need egress or VPC endpoints.
        :param profile: where unset props take their defaults from. Default: Profile.DEV
        :param vpc_subnets: which subnets of ``vpc``; with a ``CostOptimizedVpc`` without NAT, pass
            its ``workload_subnets`` (and interface endpoints). Default: private subnets with egress
        :param queue: the work queue. Default: a new KMS-encrypted queue with a dead-letter queue
        :param table: a table the workers may read (the payments table). Default: none
        :param architecture: Default: ARM_64 (Graviton)
        :param instance_types: instance types, each once, the first for on-demand, all for Spot
            diversity (so one only with ``spot=False``). Default: t4g.small, t4g.medium, c7g.medium, m7g.medium (x86: t3.small, t3a.small...)
        :param machine_image: Default: the latest Amazon Linux 2023 for the architecture (an SSM
            parameter resolved at deploy time, no synth-time look-up)
        :param user_data_commands: shell commands that install and start the worker. Default: none
        :param container_image: run this image with Docker instead of commands. Default: none
        :param min_capacity: Default: the profile's (DEV: 0, scale to zero; PROD: 1)
        :param max_capacity: Default: the profile's (DEV: 2, PROD: 6)
        :param desired_capacity: leave unset so deployments do not reset scaling. Default: unset
        :param spot: use a mixed-instances policy with Spot. Default: True (DEV all Spot, PROD half)
        :param on_demand_base_capacity: on-demand instances before any Spot. Default: the profile's
        :param spot_percentage_above_base: Spot share above the base, 0 to 100. Default: the profile's
        :param cpu_target_percent: CPU target, 10 to 90. Default: 60
        :param memory_target_percent: memory target, 10 to 95. Default: 70
        :param backlog_per_instance: queue messages one worker should hold, at least 1. Default: 100
        :param root_volume_size_gb: encrypted gp3 root volume, 8 to 1024. Default: 16
        :param encryption_key: KMS key for the work queue, worker logs and root volumes; an imported key's
            policy must already have :meth:`key_policy_statements`. Default: a new key
        :param alarm_topic: where CPU, memory, health, failed launch and Spot interruption alerts go.
            Default: none
        :param log_retention: of the worker log group. Default: the profile's
        """
        super().__init__(scope, id)
        defaults = defaults_for(profile).workers
        arch = pick(architecture, defaults.architecture)
        types = list(pick(instance_types, DEFAULT_INSTANCE_TYPES.get(arch, ())))
        self._validate(locals(), defaults)
        flag_overridden_defaults(self, [
            Override("log_retention", log_retention, defaults.log_retention, shorter_retention,
                     "worker logs are deleted sooner"),
        ])
        use_spot = pick(spot, defaults.spot)
        min_cap = pick(min_capacity, defaults.min_capacity)
        max_cap = pick(max_capacity, defaults.max_capacity)
        key = key_for(self, encryption_key, purpose="worker fleet", logs=True)

        self._dead_letters: Optional[sqs.Queue] = None  # ours only when we create the queue
        self._queue = queue or self._create_queue(key)
        self._log_group = logs.LogGroup(self, "Logs", retention=pick(log_retention, defaults.log_retention),
                                        encryption_key=key, removal_policy=defaults.removal_policy)
        acknowledge_log_retention(self._log_group, pick(log_retention, defaults.log_retention))
        self._role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                              managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                  "AmazonSSMManagedInstanceCore")])
        acknowledge(
            self._role,
            "Session Manager access (instead of SSH) needs AmazonSSMManagedInstanceCore, the AWS-managed "
            "policy AWS keeps current with the SSM agent; the worker's own access comes from grants.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
        )
        self._queue.grant_consume_messages(self._role)
        if table is not None:
            table.grant_read_data(self._role)
        self._log_group.grant_write(self._role)
        cloudwatch.Metric.grant_put_metric_data(self._role)
        # The agent reads the instance's aws:autoscaling:groupName tag to add the AutoScalingGroupName
        # dimension the memory policy and alarm select; without it nothing is published.
        self._role.add_to_principal_policy(iam.PolicyStatement(actions=["ec2:DescribeTags"], resources=["*"]))
        acknowledge(
            self._role,
            "cloudwatch:PutMetricData (the CloudWatch agent's memory metric) and ec2:DescribeTags (the agent "
            "reads the instance's Auto Scaling group name) have no resource-level scoping; the agent publishes "
            "only to the CWAgent namespace and DescribeTags reads tags only.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        agent_config = ssm.StringParameter(
            self, "AgentConfig", description="CloudWatch agent configuration of the payment workers",
            string_value=json.dumps(self._agent_config(self._log_group.log_group_name), sort_keys=True),
        )
        agent_config.grant_read(self._role)

        self._security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                 description="Payment workers: HTTPS out only, nothing in")
        self._security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.HTTPS, "AWS APIs and the provider")
        user_data = self._user_data(agent_config.parameter_name, table, user_data_commands, container_image)
        self._launch_template = ec2.LaunchTemplate(
            self, "LaunchTemplate",
            instance_type=ec2.InstanceType(types[0]),
            machine_image=machine_image or ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arch == ec2.InstanceArchitecture.ARM_64
                else ec2.AmazonLinuxCpuType.X86_64),
            user_data=user_data,
            role=self._role,
            security_group=self._security_group,
            require_imdsv2=True,
            http_put_response_hop_limit=2 if container_image else 1,  # containers sit one hop further
            associate_public_ip_address=False,
            detailed_monitoring=True,  # 1-minute metrics for scaling; free while the fleet is at zero
            # An explicit key: the account's default EBS key may be a customer key that the Auto
            # Scaling service-linked role cannot use, and every launch would then fail.
            block_devices=[ec2.BlockDevice(device_name="/dev/xvda", volume=ec2.BlockDeviceVolume.ebs(
                pick(root_volume_size_gb, defaults.root_volume_size_gb), encrypted=True, kms_key=key,
                volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True))],
        )
        allow_auto_scaling_volumes(key)

        mixed = None
        if use_spot:
            mixed = autoscaling.MixedInstancesPolicy(
                launch_template=self._launch_template,
                launch_template_overrides=[autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t))
                                           for t in types],
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_base_capacity=pick(on_demand_base_capacity, defaults.on_demand_base_capacity),
                    on_demand_percentage_above_base_capacity=100 - pick(spot_percentage_above_base,
                                                                        defaults.spot_percentage_above_base),
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
                ),
            )
        self._group = autoscaling.AutoScalingGroup(
            self, "Group", vpc=vpc,
            vpc_subnets=vpc_subnets or DEFAULT_SUBNETS,
            launch_template=None if mixed else self._launch_template,
            mixed_instances_policy=mixed,
            min_capacity=min_cap, max_capacity=max_cap, desired_capacity=desired_capacity,
            capacity_rebalance=use_spot,
            group_metrics=[autoscaling.GroupMetrics.all()],  # GroupInServiceInstances for backlog/instance
            health_checks=autoscaling.HealthChecks.ec2(grace_period=Duration.minutes(3)),
            default_instance_warmup=Duration.minutes(2),
            update_policy=autoscaling.UpdatePolicy.rolling_update(),
        )
        if mixed is not None:
            acknowledge(
                self._group,
                "The group launches from the launch template through its mixed-instances policy; that "
                "template requires IMDSv2 and encrypts the root volume, but the rules read only a launch "
                "template set directly on the group.",
                "AwsSolutions-EC26",
                "NIST.800.53.R5-EC2IMDSv2Enabled",
            )
        acknowledge(
            self._group,
            "Auto Scaling notifications would be published by the Auto Scaling service-linked role, which "
            "cannot use a KMS-encrypted topic's key; failed launches and terminations reach alarm_topic "
            "through an EventBridge rule instead (when alarm_topic is given).",
            "AwsSolutions-AS3",
        )
        acknowledge(
            self._group,
            "The group spreads over its VPC subnets (VPCZoneIdentifier), one per AZ of the VPC: 2 in dev, 3 "
            "in prod; the control reads only AvailabilityZones, which CloudFormation needs only without subnets.",
            guard("autoscaling_multiple_az_check"),
        )
        acknowledge(
            self._group,
            "The default Graviton types (t4g, c7g, m7g) have no Nitro encryption in transit; workers reach "
            "AWS APIs and the provider over TLS only (their security group allows HTTPS egress only).",
            guard("autoscaling_group_nitro_encryption_in_transit_override_check"),
        )
        self._scale(pick(cpu_target_percent, defaults.cpu_target_percent),
                    pick(memory_target_percent, defaults.memory_target_percent),
                    pick(backlog_per_instance, defaults.backlog_per_instance))
        warn_if_imported_topic(self, alarm_topic, "alarm_topic", ["cloudwatch.amazonaws.com", "events.amazonaws.com"])
        self._alarms = self._create_alarms(alarm_topic, use_spot, key)
        AcknowledgeGrantPolicies.apply(self)

    # -- validation ------------------------------------------------------------------------------
    @staticmethod
    def _validate(props: dict, defaults) -> None:
        errors = PropErrors("PaymentWorkerFleet")
        errors.check_implements(props["vpc"], "vpc", "ec2.IVpc", "vpc_id", required=True)
        errors.check_implements(props["queue"], "queue", "sqs.IQueue", "queue_url", required=False)
        errors.check_implements(props["table"], "table", "dynamodb.ITable", "table_name", required=False)
        errors.check_enum(props["architecture"], "architecture", ec2.InstanceArchitecture)
        errors.check_implements(props["encryption_key"], "encryption_key", "kms.IKey", "key_arn", required=False)
        errors.check_implements(props["alarm_topic"], "alarm_topic", "sns.ITopic", "topic_arn", required=False)
        errors.check_implements(props["machine_image"], "machine_image", "ec2.IMachineImage", "get_image",
                                required=False)
        errors.check_type(props["vpc_subnets"], "vpc_subnets", ec2.SubnetSelection)
        errors.check_sequence(props["user_data_commands"], "user_data_commands", str, "['systemctl start worker']")
        errors.check_type(props["container_image"], "container_image", str)
        errors.check(props["container_image"] != "", "container_image", "must name an image, got ''")
        if isinstance(props["container_image"], str) and props["container_image"]:
            errors.check_format(props["container_image"], "container_image", "container_image")
        errors.check_subnets(props["vpc"], pick(props["vpc_subnets"], DEFAULT_SUBNETS), WORKLOAD_SUBNETS_HINT)
        errors.check_enum(props["log_retention"], "log_retention", logs.RetentionDays)
        for name, low, high in (("min_capacity", 0, 1000), ("max_capacity", 1, 1000), ("desired_capacity", 0, 1000),
                                ("on_demand_base_capacity", 0, 1000), ("spot_percentage_above_base", 0, 100),
                                ("cpu_target_percent", 10, 90), ("memory_target_percent", 10, 95),
                                ("backlog_per_instance", 1, 100_000), ("root_volume_size_gb", 8, 1024)):
            errors.check_int(props[name], name, minimum=low, maximum=high)
        errors.check_type(props["spot"], "spot", bool)
        types, arch = props["types"], props["arch"]
        if isinstance(types, str) or not types:
            errors.add("instance_types", "must be a non-empty list of instance types such as 't4g.small'")
        else:
            for instance_type in types:
                if not errors.check_format(instance_type, "instance_types", "instance_type"):
                    continue
                graviton = bool(GRAVITON_FAMILY.match(instance_type.split(".")[0]))
                if graviton != (arch == ec2.InstanceArchitecture.ARM_64):
                    errors.add("instance_types",
                               f"{instance_type} is {'an ARM (Graviton)' if graviton else 'an x86'} type but "
                               f"architecture is {arch.name}; use "
                               f"{'families like t4g, c7g, m7g' if arch == ec2.InstanceArchitecture.ARM_64 else 'x86 families like t3, c7i, m7i'}")
        low, high = pick(props["min_capacity"], defaults.min_capacity), pick(props["max_capacity"], defaults.max_capacity)
        if isinstance(low, int) and isinstance(high, int):
            errors.check(low <= high, "min_capacity", f"({low}) must not exceed max_capacity ({high})")
            desired = props["desired_capacity"]
            errors.check(desired is None or not isinstance(desired, int) or low <= desired <= high,
                         "desired_capacity", f"must be between min_capacity ({low}) and max_capacity ({high})")
        errors.check(not (props["user_data_commands"] and props["container_image"]), "container_image",
                     "give either user_data_commands or container_image, not both")
        errors.check_unique(types, "instance_types")
        explicit_types = props["instance_types"]
        errors.check(pick(props["spot"], defaults.spot) or explicit_types is None or isinstance(explicit_types, str)
                     or len(explicit_types) <= 1, "instance_types",
                     "without spot only one instance type is used: pass one, or spot=True to mix them")
        errors.check(props["spot"] is not False or (props["on_demand_base_capacity"] is None and
                                                   props["spot_percentage_above_base"] is None),
                     "spot_percentage_above_base", "Spot settings need spot=True")
        errors.raise_if_any()

    # -- pieces ----------------------------------------------------------------------------------
    def _create_queue(self, key: kms.IKey) -> sqs.Queue:
        dead_letters = self._dead_letters = dead_letter_queue(self, "DeadLetterQueue", key,
                                                              holds="jobs that failed three times", redrive_queue=True)
        return encrypted_queue(self, "Queue", key, visibility_timeout=Duration.minutes(15),
                               dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=3))

    @staticmethod
    def _agent_config(log_group_name: str) -> dict:
        return {
            "agent": {"metrics_collection_interval": 60},
            "metrics": {
                "namespace": MEMORY_METRIC[0],
                "append_dimensions": {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"},
                "aggregation_dimensions": [["AutoScalingGroupName"]],
                "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}},
            },
            "logs": {"logs_collected": {"files": {"collect_list": [
                {"file_path": "/var/log/payment-worker.log", "log_group_name": log_group_name,
                 "log_stream_name": "{instance_id}"}]}}},
        }

    def _user_data(self, agent_parameter: str, table, commands, container_image) -> ec2.UserData:
        user_data = ec2.UserData.for_linux()
        env = [f"QUEUE_URL={self._queue.queue_url}", f"AWS_REGION={Stack.of(self).region}"]
        if table is not None:
            env.append(f"TABLE_NAME={table.table_name}")
        user_data.add_commands(
            "set -euo pipefail",
            f"printf '%s\\n' {' '.join(repr(e) for e in env)} > /etc/payment-worker.env",
            dnf_install("amazon-cloudwatch-agent"),
            "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
            f"-c ssm:{agent_parameter}",
        )
        if container_image:
            user_data.add_commands(
                dnf_install("docker"), "systemctl enable --now docker",
                # The container logs straight to the fleet's log group (the role may write there).
                f"docker run -d --restart=always --env-file /etc/payment-worker.env --log-driver=awslogs "
                f"--log-opt awslogs-group={self._log_group.log_group_name} {container_image}",
            )
        user_data.add_commands(*(commands or []))
        return user_data

    def _scale(self, cpu: int, memory: int, backlog: int) -> None:
        group = self._group
        group.scale_on_cpu_utilization("Cpu", target_utilization_percent=cpu)
        group.scale_to_track_metric(
            "Memory", target_value=memory,
            metric=cloudwatch.Metric(namespace=MEMORY_METRIC[0], metric_name=MEMORY_METRIC[1], statistic="Average",
                                     dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name}),
        )
        # Backlog per instance = waiting and in-flight messages / in-service instances. With no worker
        # in service, any message counts as a full worker's share (plus the messages), so that one
        # message starts the first worker instead of waiting for `backlog` of them.
        in_service = cloudwatch.Metric(namespace="AWS/AutoScaling", metric_name="GroupInServiceInstances",
                                       dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
                                       statistic="Average", period=Duration.minutes(1))
        per_instance = cloudwatch.MathExpression(
            expression=f"(visible + inflight) / IF(workers > 0, workers, 1) "
                       f"+ IF(workers > 0, 0, IF(visible + inflight > 0, {backlog}, 0))",
            using_metrics={
                "visible": self._queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                "inflight": self._queue.metric_approximate_number_of_messages_not_visible(period=Duration.minutes(1)),
                "workers": in_service,
            },
            period=Duration.minutes(1), label="Backlog per instance",
        )
        # Step scaling from StepScalingAction and two alarms rather than scale_on_metric, whose
        # StepScalingPolicy passes the deprecated StepScalingActionProps#cooldown (even when unset) and
        # makes jsii print a deprecation warning on every synth.
        scale_out = autoscaling.StepScalingAction(
            self, "BacklogScaleOut", auto_scaling_group=group,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=autoscaling.MetricAggregationType.AVERAGE)
        scale_out.add_adjustment(adjustment=1, lower_bound=0, upper_bound=backlog * 2)  # [backlog, 3 x backlog)
        scale_out.add_adjustment(adjustment=3, lower_bound=backlog * 2)
        per_instance.create_alarm(
            self, "BacklogHigh", threshold=backlog, evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description=f"Scale out: {backlog} or more messages per worker, or any message with no worker",
        ).add_alarm_action(cloudwatch_actions.AutoScalingAction(scale_out))
        scale_in = autoscaling.StepScalingAction(
            self, "BacklogScaleIn", auto_scaling_group=group,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=autoscaling.MetricAggregationType.AVERAGE)
        scale_in.add_adjustment(adjustment=-1, upper_bound=0)
        per_instance.create_alarm(
            self, "BacklogEmpty", threshold=0, evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="Scale in: nothing waiting or in flight",
        ).add_alarm_action(cloudwatch_actions.AutoScalingAction(scale_in))
        self._backlog_metric = per_instance

    def _create_alarms(self, topic: Optional[sns.ITopic], use_spot: bool, key: kms.IKey) -> list[cloudwatch.Alarm]:
        name = self._group.auto_scaling_group_name
        dims = {"AutoScalingGroupName": name}

        def alarm(id, metric, threshold, description):
            return create_alarm(self, id, metric, threshold=threshold, description=description, topic=topic,
                                periods=3)

        five = Duration.minutes(5)
        alarms = [
            alarm("CpuHigh", cloudwatch.Metric(namespace="AWS/EC2", metric_name="CPUUtilization",
                                               dimensions_map=dims, statistic="Average", period=five),
                  85, "Workers' CPU stays above 85% although the fleet scales on it"),
            alarm("MemoryHigh", cloudwatch.Metric(namespace=MEMORY_METRIC[0], metric_name=MEMORY_METRIC[1],
                                                  dimensions_map=dims, statistic="Average", period=five),
                  90, "Workers' memory stays above 90%"),
            # The agent may fail to install at boot, and then memory scaling is blind: alarm when workers run
            # and their memory metric stops arriving (-1 stands for missing; at zero instances none is expected).
            alarm("MemoryMetricMissing", cloudwatch.MathExpression(
                expression="IF(FILL(inservice, 0) > 0 AND FILL(memory, -1) < 0, 1, 0)", period=five,
                label="Workers in service without a memory metric",
                using_metrics={"memory": cloudwatch.Metric(namespace=MEMORY_METRIC[0], metric_name=MEMORY_METRIC[1],
                                                           dimensions_map=dims, statistic="SampleCount", period=five),
                               "inservice": cloudwatch.Metric(namespace="AWS/AutoScaling",
                                                              metric_name="GroupInServiceInstances",
                                                              dimensions_map=dims, statistic="Average", period=five)}),
                  1, "Workers run but publish no memory metric: the CloudWatch agent is not running (check the "
                     "instance's user data log), so the memory scaling policy is blind"),
            alarm("InstancesUnhealthy", cloudwatch.MathExpression(
                expression="desired - inservice", period=five, label="Instances missing",
                using_metrics={"desired": cloudwatch.Metric(namespace="AWS/AutoScaling", metric_name="GroupDesiredCapacity",
                                                            dimensions_map=dims, statistic="Average", period=five),
                               "inservice": cloudwatch.Metric(namespace="AWS/AutoScaling",
                                                              metric_name="GroupInServiceInstances",
                                                              dimensions_map=dims, statistic="Average", period=five)}),
                  1, "Fewer workers are in service than desired: launches or health checks are failing"),
        ]
        if self._dead_letters is not None:
            alarms.append(dead_letter_alarm(self, "DeadLetters", self._dead_letters, topic=topic,
                                            what="Jobs that failed three times"))
        if topic is not None:
            # EventBridge delivers to the (encrypted) topic and, when SNS refuses, to a dead-letter queue.
            target, waiting = topic_target(
                self, "UndeliveredInterruptions", key, topic, holds="fleet events SNS did not accept",
                what="Fleet events (failed launches, Spot interruptions) SNS did not accept")
            alarms.append(waiting)
            events.Rule(self, "ActivityFailures", description="Payment workers that could not be launched or terminated",
                        event_pattern=events.EventPattern(source=["aws.autoscaling"],
                                                          detail_type=list(UNSUCCESSFUL_ACTIVITIES),
                                                          detail={"AutoScalingGroupName": [name]}),
                        targets=[target])
            if use_spot:
                # Interruption warnings name the instance, not its group: route them all to operations.
                events.Rule(self, "SpotInterruptions", description="EC2 Spot interruption warnings",
                            event_pattern=events.EventPattern(source=["aws.ec2"], detail_type=[
                                "EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation"]),
                            targets=[target])
        return alarms

    # -- attributes ------------------------------------------------------------------------------
    @property
    def auto_scaling_group(self) -> autoscaling.AutoScalingGroup:
        """The Auto Scaling group."""
        return self._group

    @property
    def launch_template(self) -> ec2.LaunchTemplate:
        """The launch template every worker starts from."""
        return self._launch_template

    @property
    def role(self) -> iam.Role:
        """The workers' role: Session Manager, the queue, the table (read) and their logs."""
        return self._role

    @property
    def queue(self) -> sqs.IQueue:
        """The work queue (passed in, or created)."""
        return self._queue

    @property
    def security_group(self) -> ec2.SecurityGroup:
        """HTTPS out, nothing in."""
        return self._security_group

    @property
    def log_group(self) -> logs.LogGroup:
        """Where the CloudWatch agent ships /var/log/payment-worker.log."""
        return self._log_group

    @property
    def backlog_metric(self) -> cloudwatch.MathExpression:
        """Backlog per instance, the metric the fleet scales out on."""
        return self._backlog_metric

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """CPU high, memory high, memory metric missing, instances missing, and dead letters: failed jobs
        (when the fleet created its queue) and, with ``alarm_topic``, fleet events SNS did not accept."""
        return list(self._alarms)

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements ``encryption_key``'s policy needs for this construct, as built: CloudWatch Logs of
        the stack's region may encrypt and decrypt, for the worker log group, and, with Spot and an
        ``alarm_topic``, ``events.amazonaws.com`` may use it for the interruption warnings'
        dead-letter queue.
        Added to a key the construct owns; add them yourself to an imported key's policy (synthesis
        warns). Roles get their access through IAM grants, which need only the default key policy."""
        return key_policy_statements(self)
