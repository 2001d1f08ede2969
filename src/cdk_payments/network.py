"""CostOptimizedVpc: a VPC for payment workloads whose NAT cost is an explicit choice."""

from __future__ import annotations

import functools
import ipaddress
from typing import Optional, Sequence

from aws_cdk import CfnResource, Fn, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._boot import dnf_install
from ._kms import allow_log_delivery, key_for, key_policy_statements
from ._nag import AcknowledgeGrantPolicies, acknowledge, acknowledge_log_retention, guard
from ._overrides import Override, flag_overridden_defaults, shorter_retention
from ._validation import PropErrors, pick
from .choices import FlowLogDestination, NatStrategy, NetworkLayout
from .profiles import Profile, defaults_for, layout_settings

__all__ = ["CostOptimizedVpc", "FlowLogDestination", "NatStrategy", "NetworkLayout"]

ENV_AGNOSTIC_AZS = 2  # what Stack.availability_zones returns when the region is not known


class CostOptimizedVpc(Construct):
    """A VPC with free S3/DynamoDB gateway endpoints, flow logs and a NAT strategy you choose.

    Subnets: a public tier (only when there is NAT), a private tier for workloads (with egress when
    there is NAT, isolated otherwise) and an isolated data tier. The default NAT strategy comes from
    the profile: a Graviton NAT instance in dev (the cheapest option that still lets Lambda and
    EC2 reach every AWS API), one NAT gateway in each of two AZs in prod. ``layout`` picks the AZs,
    NAT and interface endpoints together (``NetworkLayout``); docs/network-costs.md prices each.

    Pass ``existing_vpc`` to wrap a VPC you already have: then no network resources are created,
    ``workload_subnets`` selects its private subnets, and of the other props only
    ``interface_endpoints`` applies (every other network prop, and ``encryption_key``, raises a
    ValueError). The profile's interface endpoints are not added to an existing VPC: it may have
    its own, and two endpoints with private DNS for one service cannot share a VPC; name the ones
    you want in ``interface_endpoints``.

    Imported ``encryption_key``: the construct cannot edit its policy, so it needs, beside the
    default statement that lets this account's IAM policies use the key, the statements
    :meth:`key_policy_statements` returns (CloudWatch Logs of the stack's region may encrypt and
    decrypt, for the flow log group); synthesis warns when they could not be added.

    cdk-nag acknowledgements made here: the NAT instance's public IP (NIST/PCI
    EC2InstanceNoPublicIp, it is what a NAT instance is) and, with ``FlowLogDestination.NONE``,
    the flow-log rules.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile = Profile.DEV,
        existing_vpc: Optional[ec2.IVpc] = None,
        layout: Optional[NetworkLayout] = None,
        nat: Optional[NatStrategy] = None,
        max_azs: Optional[int] = None,
        availability_zones: Optional[Sequence[str]] = None,
        nat_gateways: Optional[int] = None,
        cidr: Optional[str] = None,
        subnet_cidr_mask: Optional[int] = None,
        data_subnets: Optional[bool] = None,
        interface_endpoints: Optional[Sequence[str]] = None,
        flow_logs: Optional[FlowLogDestination] = None,
        flow_log_bucket: Optional[s3.IBucket] = None,
        flow_log_traffic_type: Optional[ec2.FlowLogTrafficType] = None,
        flow_log_retention: Optional[logs.RetentionDays] = None,
        encryption_key: Optional[kms.IKey] = None,
    ) -> None:
        """
        :param profile: where unset props take their defaults from. Default: Profile.DEV
        :param existing_vpc: a VPC to use instead of creating one; exclusive with every network prop
            and ``encryption_key``, but not ``interface_endpoints``, which are added to its private (or
            isolated) subnets. The profile's endpoints are not added to it.
        :param layout: AZs, NAT strategy and interface endpoints in one choice (``NetworkLayout``);
            ``nat``, ``max_azs`` and ``interface_endpoints`` still override its values. Default: the
            profile's (DEV: NetworkLayout.NAT_INSTANCE, PROD: NetworkLayout.TWO_AZ)
        :param nat: NAT strategy. Default: the layout's (DEV: INSTANCE, PROD: GATEWAY_PER_AZ)
        :param max_azs: number of AZs, 1 to 6. Default: the layout's (DEV: 2, PROD: 2). In an
            environment-agnostic stack they are the region's first ``max_azs`` AZs, chosen by
            CloudFormation (``Fn::GetAZs``): no look-up, no hard-coded names.
        :param availability_zones: explicit AZ names, e.g. ``["us-east-1a", "us-east-1b"]``.
            Default: the region's first ``max_azs`` AZs.
        :param nat_gateways: NAT gateways for the GATEWAY strategies, at most the AZ count.
            Default: 1 for SINGLE_GATEWAY, one per AZ for GATEWAY_PER_AZ.
        :param cidr: the VPC's IPv4 CIDR, a /16 to /24 block with room for every subnet: tiers
            (public when there is NAT, private, data) x AZs subnets of ``subnet_cidr_mask``; with /24
            subnets, 3 tiers in 2 AZs need a /21 and in 3 AZs a /20 (a /24 VPC takes
            ``subnet_cidr_mask=27`` or longer). Default: ``10.0.0.0/16``
        :param subnet_cidr_mask: prefix length of each subnet, 16 to 28, at least the CIDR's.
            Default: 24
        :param data_subnets: add an isolated tier for databases and caches. Default: True
        :param interface_endpoints: interface endpoint service names, as CDK's
            ``ec2.InterfaceVpcEndpointAwsService`` knows them (``sqs``, ``secretsmanager``, ``kms``,
            ``logs``, ``ecr.dkr``...), each once; about $7.30 per AZ per month each. Default: the
            layout's (DEV: none, PROD: secretsmanager), none for ``existing_vpc``.
        :param flow_logs: flow log destination. Default: CLOUDWATCH_LOGS
        :param flow_log_bucket: the bucket for ``FlowLogDestination.S3``.
        :param flow_log_traffic_type: which traffic to log. Default: ALL
        :param flow_log_retention: retention of the flow log group, only with CLOUDWATCH_LOGS.
            Default: the profile's (DEV: one month, PROD: one year)
        :param encryption_key: KMS key for the flow log group, only with CLOUDWATCH_LOGS flow logs
            of a new VPC; an imported key must already allow CloudWatch Logs
            (:meth:`key_policy_statements`). Default: a new key (about $1/month).
        """
        super().__init__(scope, id)
        defaults = defaults_for(profile).network
        network_props = {
            "layout": layout,
            "nat": nat,
            "max_azs": max_azs,
            "availability_zones": availability_zones,
            "nat_gateways": nat_gateways,
            "cidr": cidr,
            "subnet_cidr_mask": subnet_cidr_mask,
            "data_subnets": data_subnets,
            "flow_logs": flow_logs,
            "flow_log_bucket": flow_log_bucket,
            "flow_log_traffic_type": flow_log_traffic_type,
            "flow_log_retention": flow_log_retention,
        }
        errors = PropErrors("CostOptimizedVpc")
        errors.check_implements(existing_vpc, "existing_vpc", "ec2.IVpc", "vpc_id", required=False)
        errors.check_implements(flow_log_bucket, "flow_log_bucket", "s3.IBucket", "bucket_name", required=False)
        errors.check_implements(encryption_key, "encryption_key", "kms.IKey", "key_arn", required=False)
        errors.check_sequence(availability_zones, "availability_zones", str, "['us-east-1a', 'us-east-1b']")
        errors.check_sequence(interface_endpoints, "interface_endpoints", str, "['sqs', 'secretsmanager']")
        errors.raise_if_any()
        region = Stack.of(self).region
        for zone in availability_zones or ():
            if errors.check_format(zone, "availability_zones", "availability_zone") and not Token.is_unresolved(region):
                errors.check(zone[:-1] == region or zone.startswith(f"{region}-"), "availability_zones",  # local zones
                             f"{zone!r} is not in the stack's region {region}")
        _validate_endpoint_names(errors, interface_endpoints)
        if existing_vpc is not None:
            for name, value in network_props.items():
                errors.check(value is None, name, "cannot be combined with existing_vpc")
            errors.check_not_with(encryption_key, "encryption_key", "existing_vpc",
                                  "it encrypts the flow log group, which is created only with a new VPC")
            errors.raise_if_any()
            # Interface endpoints may still be added to it: they need its private or isolated subnets.
            errors.check(
                not interface_endpoints or bool(existing_vpc.private_subnets or existing_vpc.isolated_subnets),
                "interface_endpoints",
                "existing_vpc has no private or isolated subnets to put interface endpoints in",
            )
            errors.raise_if_any()
            self._vpc: ec2.IVpc = existing_vpc
            self._nat = None
            self._nat_provider = None
            self._flow_log: Optional[ec2.FlowLog] = None
            self._flow_log_group: Optional[logs.LogGroup] = None
            self._workload_subnets = ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if existing_vpc.private_subnets
                else ec2.SubnetType.PRIVATE_ISOLATED
            )
            self._interface_endpoints = (
                self._add_interface_endpoints(list(interface_endpoints), _literal_cidr(existing_vpc))
                if interface_endpoints else {}
            )
            return

        errors.check_enum(layout, "layout", NetworkLayout)
        errors.check_enum(nat, "nat", NatStrategy)
        errors.check_enum(flow_logs, "flow_logs", FlowLogDestination)
        errors.check_enum(flow_log_traffic_type, "flow_log_traffic_type", ec2.FlowLogTrafficType)
        errors.check_enum(flow_log_retention, "flow_log_retention", logs.RetentionDays)
        errors.check_int(max_azs, "max_azs", minimum=1, maximum=6)
        errors.check_int(nat_gateways, "nat_gateways", minimum=1)
        errors.check_int(subnet_cidr_mask, "subnet_cidr_mask", minimum=16, maximum=28)
        errors.check_type(data_subnets, "data_subnets", bool)
        chosen = layout_settings(layout) if isinstance(layout, NetworkLayout) else {
            "nat": defaults.nat, "max_azs": defaults.max_azs, "interface_endpoints": defaults.interface_endpoints}
        nat = pick(nat, chosen["nat"])
        flow_logs = pick(flow_logs, defaults.flow_logs)
        cidr = pick(cidr, defaults.cidr)
        azs = list(availability_zones) if availability_zones is not None else None
        az_count = pick(max_azs, len(azs) if azs else chosen["max_azs"])
        endpoints = list(pick(interface_endpoints, chosen["interface_endpoints"]))

        self._validate_cidr(errors, cidr)
        errors.check_unique(azs, "availability_zones")
        if azs is not None:
            errors.check(
                bool(azs) and all(isinstance(a, str) and a for a in azs),
                "availability_zones",
                "must be a non-empty list of AZ names such as 'us-east-1a'",
            )
            errors.check(
                max_azs is None or max_azs == len(azs),
                "max_azs",
                f"is {max_azs} but availability_zones names {len(azs)} AZs",
            )
        if nat_gateways is not None and isinstance(nat_gateways, int) and isinstance(az_count, int):
            errors.check(
                nat in (NatStrategy.SINGLE_GATEWAY, NatStrategy.GATEWAY_PER_AZ),
                "nat_gateways",
                "applies only to NatStrategy.SINGLE_GATEWAY or NatStrategy.GATEWAY_PER_AZ",
            )
            errors.check(
                nat_gateways <= az_count,
                "nat_gateways",
                f"{nat_gateways} NAT gateways for {az_count} AZs: at most one per AZ",
            )
        errors.check(
            all(isinstance(e, str) and e for e in endpoints),
            "interface_endpoints",
            "must be service names such as 'sqs' or 'secretsmanager'",
        )
        errors.check(
            flow_logs != FlowLogDestination.S3 or flow_log_bucket is not None,
            "flow_log_bucket",
            "is required when flow_logs is FlowLogDestination.S3",
        )
        errors.check(
            flow_log_bucket is None or flow_logs == FlowLogDestination.S3,
            "flow_log_bucket",
            "is used only when flow_logs is FlowLogDestination.S3",
        )
        if flow_logs is not FlowLogDestination.CLOUDWATCH_LOGS:
            why = f"flow_logs is {flow_logs}, so there is no flow log group"
            errors.check_not_with(flow_log_retention, "flow_log_retention", "flow_logs", why)
            errors.check_not_with(encryption_key, "encryption_key", "flow_logs", why)
        if flow_logs is FlowLogDestination.NONE:
            errors.check_not_with(flow_log_traffic_type, "flow_log_traffic_type", "flow_logs",
                                  "FlowLogDestination.NONE logs no traffic")
        errors.raise_if_any()
        has_nat = nat is not NatStrategy.NONE
        mask = pick(subnet_cidr_mask, defaults.subnet_cidr_mask)
        tiers = 1 + int(has_nat) + int(bool(pick(data_subnets, defaults.data_subnets)))
        _validate_layout(errors, cidr, mask, tiers, az_count)
        errors.raise_if_any()
        flag_overridden_defaults(self, [
            Override("flow_logs", network_props["flow_logs"], defaults.flow_logs,
                     lambda d, v: v is FlowLogDestination.NONE and d is not v,
                     "no record of the VPC's traffic is kept (PCI DSS 10.2)"),
            Override("flow_log_retention", flow_log_retention, defaults.flow_log_retention, shorter_retention,
                     "flow logs are deleted sooner"),
            Override("flow_log_traffic_type", flow_log_traffic_type, defaults.flow_log_traffic_type,
                     lambda d, v: v != d, "only part of the VPC's traffic is logged"),
        ])

        self._nat = nat
        subnets = []
        if has_nat:
            # Only the NAT lives here, and it gets its public address explicitly.
            subnets.append(
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=mask, map_public_ip_on_launch=False
                )
            )
        subnets.append(
            ec2.SubnetConfiguration(
                name="private",
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if has_nat else ec2.SubnetType.PRIVATE_ISOLATED,
                cidr_mask=mask,
            )
        )
        if pick(data_subnets, defaults.data_subnets):
            subnets.append(
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=mask)
            )

        if azs is None and az_count > ENV_AGNOSTIC_AZS and _region_unknown(self):
            # An environment-agnostic stack knows only two AZs by name; pick more at deploy time.
            azs = [Fn.select(index, Fn.get_azs()) for index in range(az_count)]
        nat_provider = self._nat_provider(nat, defaults.nat_instance_type)
        self._vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=azs,
            max_azs=None if azs else az_count,
            subnet_configuration=subnets,
            nat_gateway_provider=nat_provider,
            nat_gateways=self._nat_count(nat, nat_gateways, az_count, defaults.single_nat_gateways),
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )
        self._workload_subnets = ec2.SubnetSelection(subnet_group_name="private")
        _annotate_default_sg_provider(self)
        if isinstance(nat_provider, ec2.NatInstanceProviderV2):
            self._harden_nat_instances(nat_provider, cidr)
        for subnet in self._vpc.public_subnets:
            acknowledge(
                subnet.node.find_child("DefaultRoute"),
                "Public subnets hold only the NAT gateway or NAT instance, whose route to the "
                "internet gateway is what gives the private subnets egress; nothing else runs there.",
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
            )
        self._nat_provider = nat_provider

        self._interface_endpoints = self._add_interface_endpoints(endpoints, cidr)

        self._flow_log_group = None
        self._flow_log = None
        traffic = pick(flow_log_traffic_type, defaults.flow_log_traffic_type)
        if flow_logs is FlowLogDestination.CLOUDWATCH_LOGS:
            self._flow_log_group = logs.LogGroup(
                self,
                "FlowLogGroup",
                retention=pick(flow_log_retention, defaults.flow_log_retention),
                encryption_key=key_for(self, encryption_key, purpose="VPC flow logs", logs=True),
                removal_policy=defaults.removal_policy,
            )
            acknowledge_log_retention(self._flow_log_group, pick(flow_log_retention, defaults.flow_log_retention))
            destination = ec2.FlowLogDestination.to_cloud_watch_logs(self._flow_log_group)
        elif flow_logs is FlowLogDestination.S3:
            destination = ec2.FlowLogDestination.to_s3(flow_log_bucket, "vpc-flow-logs/")
            if flow_log_bucket.encryption_key is not None:
                # Flow logs reach S3 through the log delivery service, which must use the bucket's key.
                allow_log_delivery(flow_log_bucket.encryption_key, scope=self)
        else:
            destination = None
            acknowledge(
                self._vpc,
                "Flow logs were turned off explicitly with FlowLogDestination.NONE by the user.",
                "AwsSolutions-VPC7",
                "NIST.800.53.R5-VPCFlowLogsEnabled",
                "PCI.DSS.321-VPCFlowLogsEnabled",
            )
        if destination is not None:
            self._flow_log = self._vpc.add_flow_log("FlowLog", destination=destination, traffic_type=traffic)
        AcknowledgeGrantPolicies.apply(self)

    def _add_interface_endpoints(self, services: list[str], cidr: str) -> dict[str, ec2.InterfaceVpcEndpoint]:
        if not services:
            return {}
        endpoint_sg = ec2.SecurityGroup(self, "EndpointSecurityGroup", vpc=self._vpc, allow_all_outbound=False,
                                        description="HTTPS from the VPC to its interface endpoints")
        endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.HTTPS, "HTTPS from the VPC")
        if Token.is_unresolved(cidr):  # an imported VPC whose CIDR is known only at deploy time
            acknowledge(
                endpoint_sg,
                "HTTPS (443 only) from the VPC's own CIDR, which this imported VPC gives as a deploy-time "
                "value the rules cannot read; nothing outside the VPC reaches the endpoints.",
                "AwsSolutions-EC23",
                "NIST.800.53.R5-EC2RestrictedCommonPorts",
                "NIST.800.53.R5-EC2RestrictedSSH",
                "PCI.DSS.321-EC2RestrictedCommonPorts",
                "PCI.DSS.321-EC2RestrictedSSH",
            )
        options = dict(subnets=self._workload_subnets, private_dns_enabled=True, security_groups=[endpoint_sg],
                       open=False)
        if self._vpc.node.scope is not self:
            # An existing VPC may live in another stack: add_interface_endpoint would put the endpoints
            # there, referencing this stack's security group (a dependency cycle). Keep them here.
            return {name: ec2.InterfaceVpcEndpoint(self, f"{name.title().replace('.', '')}Endpoint", vpc=self._vpc,
                                                   service=ec2.InterfaceVpcEndpointAwsService(name), **options)
                    for name in services}
        return {
            name: self._vpc.add_interface_endpoint(
                f"{name.title().replace('.', '')}Endpoint", service=ec2.InterfaceVpcEndpointAwsService(name), **options)
            for name in services
        }

    def _harden_nat_instances(self, provider: ec2.NatInstanceProviderV2, cidr: str) -> None:
        # HTTPS from inside the VPC only: payment workloads talk to AWS APIs and providers over TLS.
        # A literal CIDR (not the VPC's token) so the rule can be checked at synth.
        provider.connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.HTTPS, "HTTPS from the VPC")
        for subnet in self._vpc.public_subnets:
            instance = subnet.node.try_find_child("NatInstance")
            if not isinstance(instance, ec2.Instance):
                continue
            # IMDSv2 on the instance itself: CDK's InstanceRequireImdsv2Aspect would add a launch
            # template with a fixed name ("NatInstanceLaunchTemplate") unless the app sets the
            # @aws-cdk/aws-ec2:uniqueImdsv2TemplateName flag, and a second copy would collide.
            instance.instance.metadata_options = ec2.CfnInstance.MetadataOptionsProperty(http_tokens="required")
            instance.instance.block_device_mappings = [
                ec2.CfnInstance.BlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=ec2.CfnInstance.EbsProperty(encrypted=True, volume_type="gp3", delete_on_termination=True),
                )
            ]
            acknowledge(
                instance,
                "A NAT instance needs a public IPv4 address to forward the private subnets' traffic; "
                "its security group admits the VPC CIDR only, it has no SSH key and IMDSv2 is required.",
                "NIST.800.53.R5-EC2InstanceNoPublicIp",
                "PCI.DSS.321-EC2InstanceNoPublicIp",
                "CKV_AWS_88",
                guard("ec2_instance_no_public_ip_check"),
            )
            acknowledge(
                instance,
                "The NAT instance is launched into the VPC's public subnet through its network "
                "interface (NetworkInterfaces[0].SubnetId), which the rule does not read.",
                "NIST.800.53.R5-EC2InstancesInVPC",
                "PCI.DSS.321-EC2InstancesInVPC",
            )
            acknowledge(
                instance,
                "The NAT instance's root volume is encrypted by its own BlockDeviceMappings; cdk-nag 3.0's "
                "EC26 rule reads an instance without a launch template as unencrypted whenever the stack holds "
                "any launch template (it dereferences the missing LaunchTemplate property).",
                "AwsSolutions-EC26",
            )
            acknowledge(
                instance,
                "Basic 5-minute monitoring is enough for a NAT instance; detailed monitoring would cost "
                "about $2.10/month, more than the t4g.nano itself. Use NatStrategy.GATEWAY_PER_AZ for "
                "production-grade NAT.",
                "AwsSolutions-EC28",
                guard("ec2_instance_detailed_monitoring_enabled_check"),
                guard("ec2_launch_template_monitoring_enabled_check"),  # its launch template, a child
            )
            acknowledge(
                instance,
                "The t4g.nano NAT instance type has no Nitro encryption in transit; what it forwards is "
                "already TLS end to end (its security group admits HTTPS from the VPC only).",
                guard("ec2_instance_nitro_encryption_in_transit_check"),
            )
            acknowledge(
                instance,
                "The NAT instance is stateless and replaced by CloudFormation on update; termination "
                "protection would make those replacements and stack deletion fail.",
                "AwsSolutions-EC29",
            )

    @property
    def vpc(self) -> ec2.IVpc:
        """The VPC (the one created, or ``existing_vpc``)."""
        return self._vpc

    @property
    def nat(self) -> Optional[NatStrategy]:
        """The NAT strategy in use; None for an existing VPC."""
        return self._nat

    @property
    def nat_provider(self) -> Optional[ec2.NatProvider]:
        """The NAT provider (gateway or instance), if any."""
        return self._nat_provider

    @property
    def flow_log(self) -> Optional[ec2.FlowLog]:
        """The VPC flow log, if any."""
        return self._flow_log

    @property
    def flow_log_group(self) -> Optional[logs.LogGroup]:
        """The flow log group, with CloudWatch Logs as destination."""
        return self._flow_log_group

    @property
    def interface_endpoints(self) -> dict[str, ec2.InterfaceVpcEndpoint]:
        """Interface endpoints by service name."""
        return self._interface_endpoints

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements ``encryption_key``'s policy needs for this construct, as built: CloudWatch Logs of
        the stack's region (``logs.<region>.amazonaws.com``) may encrypt and decrypt, for the flow log
        group (none for an existing VPC or flow logs to S3).
        Added to a key the construct owns; add them yourself to an imported key's policy (synthesis
        warns). Roles get their access through IAM grants, which need only the default key policy."""
        return key_policy_statements(self)

    @property
    def workload_subnets(self) -> ec2.SubnetSelection:
        """The subnets Lambda functions and workers run in."""
        return self._workload_subnets

    @property
    def private_subnets(self) -> list[ec2.ISubnet]:
        """The subnets workloads run in (private with egress, or isolated when there is no NAT)."""
        selection = self._workload_subnets
        return self._vpc.select_subnets(
            subnet_type=selection.subnet_type, subnet_group_name=selection.subnet_group_name
        ).subnets

    @staticmethod
    def _validate_cidr(errors: PropErrors, cidr: object) -> None:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
            errors.add("cidr", f"must be an IPv4 CIDR block such as '10.0.0.0/16', got {cidr!r}")
            return
        errors.check(
            16 <= network.prefixlen <= 24,
            "cidr",
            f"prefix length must be 16 to 24 (AWS allows /16 to /28 and subnets need room), got /{network.prefixlen}",
        )

    @staticmethod
    def _nat_count(nat: NatStrategy, nat_gateways: Optional[int], az_count: int, single: int) -> int:
        if nat is NatStrategy.NONE:
            return 0
        return pick(nat_gateways, az_count if nat is NatStrategy.GATEWAY_PER_AZ else single)

    @staticmethod
    def _nat_provider(nat: NatStrategy, instance_type: str) -> Optional[ec2.NatProvider]:
        if nat is NatStrategy.INSTANCE:
            return ec2.NatProvider.instance_v2(
                instance_type=ec2.InstanceType(instance_type),
                machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
                default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
                associate_public_ip_address=True,
                user_data=_nat_user_data(),
            )
        if nat is NatStrategy.NONE:
            return None
        return ec2.NatProvider.gateway()


def _nat_user_data() -> ec2.UserData:
    """CDK's NAT instance commands, with the package install retried (the boot-time dnf race)."""
    user_data = ec2.UserData.for_linux()
    commands = list(ec2.NatInstanceProviderV2.DEFAULT_USER_DATA_COMMANDS)
    if commands[0] != "yum install iptables-services -y":  # CDK changed its script: look before replacing
        raise RuntimeError(f"aws-cdk-lib's NAT instance user data changed: {commands[0]!r}")
    user_data.add_commands(dnf_install("iptables-services"), *commands[1:])
    return user_data


def _region_unknown(scope: Construct) -> bool:
    return Token.is_unresolved(Stack.of(scope).region)


def _annotate_default_sg_provider(scope: Construct) -> None:
    """restrict_default_security_group adds a CDK-owned custom resource provider (one per stack)."""
    provider = Stack.of(scope).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    handler = provider.node.try_find_child("Handler") if provider else None
    if not isinstance(handler, CfnResource):
        return
    # Its function depends on its role twice (DependsOn and GetAtt), which cfn-lint reports as W3005.
    handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
    acknowledge(
        handler,
        "CDK's own provider that strips the default security group's rules, run only by CloudFormation "
        "on create and update; its function is not configurable (no DLQ, VPC or concurrency props).",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        guard("lambda_inside_vpc_check"),
    )


def _validate_layout(errors: PropErrors, cidr: str, mask: int, tiers: int, az_count: int) -> None:
    """Every subnet (tiers x AZs, each a /mask) must fit in the VPC's CIDR."""
    network = ipaddress.IPv4Network(cidr)
    if not errors.check(mask >= network.prefixlen, "subnet_cidr_mask",
                        f"/{mask} is larger than the VPC's {cidr}: use {network.prefixlen} or more"):
        return
    count = tiers * az_count
    bits = (count - 1).bit_length()  # 2**bits subnets of /mask hold them all
    remedies = [f"a /{mask - bits} or larger cidr"] if mask - bits >= 16 else []
    remedies += [f"a subnet_cidr_mask of {network.prefixlen + bits} to 28"] if network.prefixlen + bits <= 28 else []
    errors.check(
        count <= 2 ** (mask - network.prefixlen), "cidr",
        f"{cidr} cannot hold {count} subnets ({tiers} tiers x {az_count} AZs) of /{mask} (subnet_cidr_mask): use "
        + ", ".join(remedies + ["fewer AZs (max_azs)"]),
    )


@functools.cache
def _known_endpoint_services() -> frozenset[str]:
    """The interface endpoint services CDK knows, by the short name the prop takes (``sqs``)."""
    services = (getattr(ec2.InterfaceVpcEndpointAwsService, name) for name in dir(ec2.InterfaceVpcEndpointAwsService)
                if name.isupper() or name.endswith("_"))  # SQS, SECRETS_MANAGER... LAMBDA_
    return frozenset(s.short_name for s in services if isinstance(s, ec2.InterfaceVpcEndpointAwsService))


def _validate_endpoint_names(errors: PropErrors, names: Optional[Sequence[str]]) -> None:
    if not names:
        return
    errors.check_unique(list(names), "interface_endpoints")
    unknown = [n for n in names if n not in _known_endpoint_services()]
    errors.check(not unknown, "interface_endpoints",
                 f"{', '.join(map(repr, unknown))} not an endpoint service CDK knows "
                 "(ec2.InterfaceVpcEndpointAwsService short names such as 'sqs', 'secretsmanager', 'ecr.dkr')")


def _literal_cidr(vpc: ec2.IVpc) -> str:
    """The VPC's CIDR as a literal when the app defines it, so that rules on it can be checked at synth
    (cdk-nag cannot evaluate a Fn::GetAtt CIDR); its token otherwise."""
    cidr = vpc.vpc_cidr_block
    if not Token.is_unresolved(cidr):
        return cidr
    child = vpc.node.default_child
    literal = child.cidr_block if isinstance(child, ec2.CfnVPC) else None
    return literal if isinstance(literal, str) and not Token.is_unresolved(literal) else cidr
