"""Where moto's CloudFormation differs from AWS's, and the smallest template rewrite around each gap.

Each rewrite names the moto gap it covers and touches only the resources that hit it; everything else
is created from the template exactly as synthesized. The rehearsal asserts which logical ids each
rewrite touched, so a rewrite that stops matching (a moto upgrade, a changed construct) is noticed.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from .emulator import ACCOUNT


@dataclass(frozen=True)
class Rewrite:
    name: str
    gap: str
    resource_type: str
    apply: Callable[[str, dict[str, Any], "Context"], bool]  # mutates one resource; True if it changed it
    replaces: bool = False  # the resource, or what its Ref or GetAtt resolves to, is replaced in the template


@dataclass
class Context:
    stack_name: str
    client: Callable[[str], Any]  # the emulator's client of a service, in the stack's region
    replacements: dict[str, str]  # logical id -> the value its Ref resolves to, for removed resources
    region: str = "us-east-1"
    template: dict[str, Any] = field(default_factory=dict)  # the whole template, as rewritten so far
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> its Ref's value, for kept resources
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attribute) -> value
    # Removed resources to create through the API once the stack exists (they refer to its resources),
    # and kept ones to finish there: (logical id, the resource).
    after_the_stack: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # A global table's logical id -> the regions of its other replicas (see global-table-as-table).
    replicas: dict[str, list[str]] = field(default_factory=dict)


def _kms_tags(_: str, resource: dict[str, Any], __: Context) -> bool:
    tags = resource.get("Properties", {}).get("Tags")
    if not tags:
        return False
    resource["Properties"]["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
    return True


def _root_volume_size(_: str, resource: dict[str, Any], __: Context) -> bool:
    changed = False
    for mapping in resource.get("Properties", {}).get("BlockDeviceMappings", []):
        ebs = mapping.get("Ebs")
        if ebs is not None and "VolumeSize" not in ebs and "SnapshotId" not in ebs:
            ebs["VolumeSize"] = 8  # the Amazon Linux 2023 AMI's root snapshot size
            changed = True
    return changed


def _secret_through_the_api(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource.get("Properties", {})
    generate = properties.get("GenerateSecretString")
    value = properties.get("SecretString")
    if generate is not None:
        body = json.loads(generate.get("SecretStringTemplate", "{}"))
        body[generate["GenerateStringKey"]] = secrets.token_hex(16)
        value = json.dumps(body)
    created = context.client("secretsmanager").create_secret(
        Name=properties.get("Name", f"{context.stack_name}-{logical_id}"),
        Description=properties.get("Description", ""), SecretString=value,
        Tags=properties.get("Tags", []),
    )
    context.replacements[logical_id] = created["ARN"]
    return True


def _parameter_name(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource.setdefault("Properties", {})
    if "Name" in properties:
        return False
    # CloudFormation generates CFN-<logical id>-<random>; the stack name stands in for the random part,
    # so that the same stack twice side by side (dev and prod) does not collide.
    properties["Name"] = f"CFN-{logical_id}-{context.stack_name}"
    return True


def _parameter_tags(_: str, resource: dict[str, Any], __: Context) -> bool:
    tags = resource.get("Properties", {}).get("Tags")
    if not isinstance(tags, dict):
        return False
    resource["Properties"]["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return True


def _firehose_after_the_stack(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource.setdefault("Properties", {})
    # CloudFormation generates <stack>-<logical id>-<random> (64 characters at most).
    name = properties.setdefault("DeliveryStreamName", f"{context.stack_name}-{logical_id}"[:64])
    context.replacements[logical_id] = name
    context.attributes[(logical_id, "Arn")] = f"arn:aws:firehose:{context.region}:{ACCOUNT}:deliverystream/{name}"
    context.after_the_stack.append((logical_id, resource))
    return True


def _bucket_events_after_the_stack(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    notifications = resource.get("Properties", {}).get("NotificationConfiguration", {})
    if not notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        return False
    context.after_the_stack.append((logical_id, resource))
    return True


def _stage_name_ref(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    context.refs[logical_id] = resource["Properties"]["StageName"]
    return True


def _event_bus_name_ref(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    context.refs[logical_id] = resource["Properties"]["Name"]
    return True


def _global_table_as_table(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource["Properties"]
    if properties.get("BillingMode") != "PAY_PER_REQUEST":  # its capacity settings have no rewrite here
        raise NotImplementedError(f"{logical_id}: a global table of {properties.get('BillingMode')} capacity")

    def here(replica: dict[str, Any]) -> bool:
        return replica["Region"] in (context.region, {"Ref": "AWS::Region"})

    [replica] = [r for r in properties["Replicas"] if here(r)]
    context.replicas[logical_id] = sorted(r["Region"] for r in properties["Replicas"] if not here(r))
    kept = ("TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes", "StreamSpecification", "TimeToLiveSpecification")
    table = {key: value for key, value in properties.items() if key in kept}
    table.update({key: value for key, value in replica.items() if key in (
        "DeletionProtectionEnabled", "PointInTimeRecoverySpecification", "Tags", "TableClass")})
    if "SSESpecification" in properties:
        table["SSESpecification"] = {**properties["SSESpecification"], **replica.get("SSESpecification", {})}
    resource["Type"], resource["Properties"] = "AWS::DynamoDB::Table", table
    context.after_the_stack.append((logical_id, resource))
    return True


def _certificate_through_the_api(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    if logical_id not in context.replacements:  # else requested already, for a domain that names it
        properties = resource["Properties"]
        context.replacements[logical_id] = context.client("acm").request_certificate(
            DomainName=properties["DomainName"], ValidationMethod=properties.get("ValidationMethod", "DNS"),
        )["CertificateArn"]
    return True


def _domain_name_through_the_api(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    wanted = resource["Properties"]
    if wanted.get("EndpointConfiguration", {}).get("Types") != ["REGIONAL"]:
        raise NotImplementedError(f"{logical_id}: an API domain that is not REGIONAL")
    certificate = wanted["RegionalCertificateArn"]
    if isinstance(certificate, dict) and set(certificate) == {"Ref"}:  # requested first, wherever it is
        _certificate_through_the_api(certificate["Ref"], context.template["Resources"][certificate["Ref"]], context)
    properties = _replace_refs(wanted, context)
    created = context.client("apigateway").create_domain_name(
        domainName=properties["DomainName"], regionalCertificateArn=properties["RegionalCertificateArn"],
        endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy=properties.get("SecurityPolicy", "TLS_1_2"))
    context.replacements[logical_id] = created["domainName"]
    context.attributes[(logical_id, "RegionalDomainName")] = created["regionalDomainName"]
    context.attributes[(logical_id, "RegionalHostedZoneId")] = created["regionalHostedZoneId"]
    return True


def _hosted_zone_of_the_emulator(_: str, resource: dict[str, Any], context: Context) -> bool:
    properties = resource["Properties"]
    imported = properties.get("HostedZoneId")
    if not isinstance(imported, str):
        return False
    route53 = context.client("route53")
    zones = route53.list_hosted_zones()["HostedZones"]
    existing = [z["Id"] for z in zones if z["CallerReference"] == imported]  # the zone stands for the imported one
    if existing:
        zone_id = existing[0]
    else:  # named after the record's parent domain (the template does not name the zone)
        labels = properties["Name"].rstrip(".").split(".")
        name = ".".join(labels[1:] if len(labels) > 2 else labels) + "."
        zone_id = route53.create_hosted_zone(Name=name, CallerReference=imported)["HostedZone"]["Id"]
    properties["HostedZoneId"] = zone_id.rsplit("/", 1)[-1]
    return True


def _alarm_a_health_check_follows(logical_id: str, resource: dict[str, Any], context: Context) -> bool:
    followed = [r for r in context.template["Resources"].values() if r["Type"] == "AWS::Route53::HealthCheck"
                and r["Properties"]["HealthCheckConfig"].get("AlarmIdentifier", {}).get("Name") == {"Ref": logical_id}]
    if not followed:
        return False
    # CloudFormation generates <stack>-<logical id>-<random>.
    name = resource["Properties"].setdefault("AlarmName", f"{context.stack_name}-{logical_id}")
    context.replacements[logical_id] = name
    context.after_the_stack.append((logical_id, resource))
    return True


REWRITES = (
    Rewrite(
        "kms-key-tags",
        "moto's AWS::KMS::Key hands CloudFormation's {Key, Value} tags to the KMS API's tagger, which "
        "reads {TagKey, TagValue}: KeyError 'TagKey' fails the stack.",
        "AWS::KMS::Key",
        _kms_tags,
    ),
    Rewrite(
        "instance-volume-size",
        "moto's RunInstances requires VolumeSize or SnapshotId in an Ebs block device mapping; AWS takes "
        "the size from the AMI's snapshot (the NAT instance's encrypted gp3 root volume names neither).",
        "AWS::EC2::Instance",
        _root_volume_size,
    ),
    Rewrite(
        "parameter-name",
        "moto's AWS::SSM::Parameter requires Name (AttributeError on None); CloudFormation generates one "
        "(the workers' CloudWatch agent configuration leaves it to CloudFormation).",
        "AWS::SSM::Parameter",
        _parameter_name,
    ),
    Rewrite(
        "parameter-tags",
        "AWS::SSM::Parameter's Tags is a map in CloudFormation; moto's model passes it to PutParameter, "
        "which iterates a list of {Key, Value} (TypeError).",
        "AWS::SSM::Parameter",
        _parameter_tags,
    ),
    Rewrite(
        "secret-through-the-api",
        "moto has no CloudFormation model for AWS::SecretsManager::Secret: it skips the secret, its Ref "
        "resolves to nothing and the IAM policy granting it fails (MalformedPolicyDocument). The secret is "
        "created through moto's Secrets Manager API with the template's properties (its generated key too; "
        "KmsKeyId is dropped, moto does not encrypt) and every Ref to it becomes its ARN.",
        "AWS::SecretsManager::Secret",
        _secret_through_the_api,
        replaces=True,
    ),
    Rewrite(
        "stage-name-ref",
        "moto has no CloudFormation model for AWS::ApiGateway::Stage, so its Ref resolves to something other "
        "than the stage name: the stage URL output and every execute-api ARN naming the stage (the callers' "
        "execute-api:Invoke grants, the functions' permissions) would name no stage. Each Ref to a stage "
        "becomes its StageName, as in AWS; the stage itself stays in the template.",
        "AWS::ApiGateway::Stage",
        _stage_name_ref,
        replaces=True,
    ),
    Rewrite(
        "event-bus-name-ref",
        "moto's AWS::Events::EventBus resolves its Ref to the model object rather than the bus name, and a "
        "rule on the bus then fails the stack (AttributeError: 'EventBus' object has no attribute 'split'). "
        "Each Ref to a bus becomes its Name, as in AWS; the bus itself stays in the template.",
        "AWS::Events::EventBus",
        _event_bus_name_ref,
        replaces=True,
    ),
    Rewrite(
        "firehose-after-the-stack",
        "moto has no CloudFormation model for AWS::KinesisFirehose::DeliveryStream: it skips the stream and "
        "its GetAtt Arn (an EventBridge rule's target) resolves to nothing. The stream is removed from the "
        "template, every Ref and GetAtt Arn to it becomes its name and ARN, and it is created through "
        "moto's Firehose API once the stack exists (its bucket and role are the stack's); encryption and "
        "logging options are dropped. moto's rules do not deliver to Firehose: Emulator delivers them.",
        "AWS::KinesisFirehose::DeliveryStream",
        _firehose_after_the_stack,
        replaces=True,
    ),
    Rewrite(
        "bucket-events-after-the-stack",
        "moto's AWS::S3::Bucket drops NotificationConfiguration: a bucket that sends its events to "
        "EventBridge (the audit trail's staging bucket, whose new objects the copier puts into the Object "
        "Lock bucket) would send none. The bucket stays in the template; EventBridge is turned on in moto's "
        "S3 backend once the stack exists, before anything writes to it (moto's API reads the empty "
        "<EventBridgeConfiguration/> element as absent).",
        "AWS::S3::Bucket",
        _bucket_events_after_the_stack,
    ),
    Rewrite(
        "global-table-as-table",
        "moto has no CloudFormation model for AWS::DynamoDB::GlobalTable, and its DynamoDB replicates "
        "nothing. The global table becomes an AWS::DynamoDB::Table in the stack's region, with that replica's "
        "properties (its key, deletion protection, point-in-time recovery, tags); what a table cannot have is "
        "dropped (MultiRegionConsistency, witnesses, the other replicas' settings and resource policies, "
        "Kinesis streams), and a table of provisioned capacity is refused. Once the stack exists each other "
        "replica's region is given the same table object in moto's backend (it reports the first region's "
        "ARN there), so that a write in one region is read in the other: replication with no lag and no "
        "conflicts, which AWS does not promise (the deploy-semantics tests check the replicas, their keys "
        "and the lag alarm instead).",
        "AWS::DynamoDB::GlobalTable",
        _global_table_as_table,
    ),
    Rewrite(
        "certificate-through-the-api",
        "moto has no CloudFormation model for AWS::CertificateManager::Certificate: its Ref (the API "
        "domain's certificate) resolves to nothing. The certificate is requested through moto's ACM API "
        "(moto validates nothing; AWS validates it in the hosted zone) and every Ref to it becomes its ARN.",
        "AWS::CertificateManager::Certificate",
        _certificate_through_the_api,
        replaces=True,
    ),
    Rewrite(
        "domain-name-through-the-api",
        "moto has no CloudFormation model for AWS::ApiGateway::DomainName: the Route 53 alias record's "
        "GetAtt RegionalDomainName fails the stack. The domain is created through moto's API Gateway API "
        "with the template's certificate, endpoint type and security policy; every Ref to it becomes its "
        "name and GetAtt its regional domain name and hosted zone (REGIONAL domains only). Its base path "
        "mapping stays a skipped resource: moto's API refuses a mapping to a stage, which it has no model for "
        "either.",
        "AWS::ApiGateway::DomainName",
        _domain_name_through_the_api,
        replaces=True,
    ),
    Rewrite(
        "hosted-zone-of-the-emulator",
        "A record in a hosted zone imported by id (the user's zone exists before the deploy) names a zone "
        "the emulator does not have, and moto makes up its own zone ids. A zone standing for the imported "
        "one (its caller reference is the imported id) is created in the emulator once, for the records of "
        "every stack that names that id, under the first record's parent domain; each record names the "
        "emulator's id.",
        "AWS::Route53::RecordSet",
        _hosted_zone_of_the_emulator,
    ),
    Rewrite(
        "alarm-a-health-check-follows",
        "moto has no CloudFormation model for AWS::CloudWatch::Alarm, and its health checks drop the alarm "
        "they follow. An alarm a Route 53 health check follows is created through moto's CloudWatch API once "
        "the stack exists (its actions name the stack's topics) under the name CloudFormation would give it, "
        "so that its state can be set and read where Route 53's answer is worked out (the project's "
        "rehearsal of a failover); every Ref to it becomes that name. Other alarms stay skipped.",
        "AWS::CloudWatch::Alarm",
        _alarm_a_health_check_follows,
        replaces=True,
    ),
)


def rewrite(template: dict[str, Any], context: Context) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The template moto can create, and which logical ids each rewrite touched."""
    template = copy.deepcopy(template)
    context.template = template
    touched: dict[str, list[str]] = {r.name: [] for r in REWRITES}
    for logical_id, resource in list(template["Resources"].items()):
        for r in REWRITES:
            if resource["Type"] == r.resource_type and r.apply(logical_id, resource, context):
                touched[r.name].append(logical_id)
    for logical_id in context.replacements:
        del template["Resources"][logical_id]
    for resource in template["Resources"].values():  # nothing waits for what is no longer in the template
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = [d for d in resource["DependsOn"] if d not in context.replacements]
        elif resource.get("DependsOn") in context.replacements:
            del resource["DependsOn"]
    return _replace_refs(template, context), touched


def _replace_refs(node: Any, context: Context) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in context.replacements:
            return context.replacements[node["Ref"]]
        if set(node) == {"Ref"} and node["Ref"] in context.refs:
            return context.refs[node["Ref"]]
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in context.replacements:
            if tuple(node["Fn::GetAtt"]) not in context.attributes:
                raise NotImplementedError(f"GetAtt of a resource created through the API: {node}")
            return context.attributes[tuple(node["Fn::GetAtt"])]
        return {key: _replace_refs(value, context) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_refs(item, context) for item in node]
    return node
