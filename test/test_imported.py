"""Imported resources everywhere (issue 25): every resource prop takes the interface type, here a
resource imported by ARN or name, and synthesis says what such an import needs where the construct
cannot arrange it (key policies, topic policies, the table's key)."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from cdk_payments import (
    AlertChannel,
    AlertTopics,
    AuditBucket,
    ComplianceBaseline,
    CostOptimizedVpc,
    FlowLogDestination,
    PaymentApiAuthorization,
    PaymentWorkerFleet,
    SecurePaymentApi,
)

ACCOUNT, REGION = "111122223333", "us-east-1"
ARN = f"{REGION}:{ACCOUNT}"


def key(stack, id="Key"):
    return kms.Key.from_key_arn(stack, id, f"arn:aws:kms:{ARN}:key/1234abcd-12ab-34cd-56ef-1234567890ab")


def topic(stack, id="Topic"):
    return sns.Topic.from_topic_arn(stack, id, f"arn:aws:sns:{ARN}:{id.lower()}")


def bucket(stack, id="Bucket"):
    return s3.Bucket.from_bucket_name(stack, id, f"acme-{id.lower()}")


def vpc(stack):
    return ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a", "us-east-1b"],
        public_subnet_ids=["subnet-0a", "subnet-0b"], private_subnet_ids=["subnet-1a", "subnet-1b"],
        vpc_cidr_block="10.0.0.0/16")


def table(stack):
    return dynamodb.Table.from_table_name(stack, "Table", "payments")


IMPORTS = [
    # (construct, props built from the stack, warning ids synthesis must give)
    ("SecurePaymentApi-iam", SecurePaymentApi, lambda s: dict(
        vpc=vpc(s), encryption_key=key(s), existing_table=table(s), alarm_topic=topic(s),
        event_bus=events.EventBus.from_event_bus_arn(s, "Bus", f"arn:aws:events:{ARN}:event-bus/payments"),
        rotation_function=lambda_.Function.from_function_arn(s, "Rotate", f"arn:aws:lambda:{ARN}:function:rotate"),
        merchant_roles={"m1": iam.Role.from_role_arn(s, "Merchant", f"arn:aws:iam::{ACCOUNT}:role/m1")}),
     {"cdk-payments:importedKeyPolicy", "cdk-payments:importedTableKey", "cdk-payments:importedTopicPolicy"}),
    ("SecurePaymentApi-cognito", SecurePaymentApi, lambda s: dict(
        authorization=PaymentApiAuthorization.COGNITO,
        user_pool=cognito.UserPool.from_user_pool_arn(s, "Pool", f"arn:aws:cognito-idp:{ARN}:userpool/{REGION}_abc"),
        existing_table=dynamodb.Table.from_table_attributes(
            s, "KeyedTable", table_arn=f"arn:aws:dynamodb:{ARN}:table/payments", encryption_key=key(s, "TableKey"),
            global_indexes=["by-merchant"])),
     set()),
    ("AuditBucket", AuditBucket, lambda s: dict(
        encryption_key=key(s), access_log_bucket=bucket(s, "Logs"), replication_destination=bucket(s, "Replica"),
        replication_key=key(s, "ReplicaKey"), alarm_topic=topic(s)),
     {"cdk-payments:importedTopicPolicy"}),
    ("CostOptimizedVpc-existing", CostOptimizedVpc, lambda s: dict(existing_vpc=vpc(s)), set()),
    ("CostOptimizedVpc-flow-log-bucket", CostOptimizedVpc, lambda s: dict(
        flow_logs=FlowLogDestination.S3, flow_log_bucket=bucket(s, "FlowLogs")), set()),
    ("AlertTopics", AlertTopics, lambda s: dict(
        encryption_key=key(s), emails={AlertChannel.OPERATIONS: ["ops@example.com"]}),
     {"cdk-payments:importedKeyPolicy"}),
    ("ComplianceBaseline", ComplianceBaseline, lambda s: dict(
        security_topic=topic(s, "Security"), cost_topic=topic(s, "Cost"), encryption_key=key(s),
        create_recorder=True, recorder_bucket=bucket(s, "Records"), enforce_required_tags=False),
     {"cdk-payments:importedKeyPolicy", "cdk-payments:importedTopicPolicy"}),
    ("PaymentWorkerFleet", PaymentWorkerFleet, lambda s: dict(
        vpc=vpc(s), queue=sqs.Queue.from_queue_arn(s, "Queue", f"arn:aws:sqs:{ARN}:payments"), table=table(s),
        encryption_key=key(s), alarm_topic=topic(s)),
     {"cdk-payments:importedKeyPolicy", "cdk-payments:importedTopicPolicy"}),
]


@pytest.mark.parametrize("name,construct,props,warnings", IMPORTS, ids=[i[0] for i in IMPORTS])
def test_every_resource_prop_takes_an_imported_resource(name, construct, props, warnings):
    app = App()
    stack = Stack(app, "Imported", env={"account": ACCOUNT, "region": REGION})
    construct(stack, "Subject", **props(stack))
    messages = app.synth().get_stack_by_name("Imported").messages
    found = {str(m.entry.data).split("[ack: ")[-1].rstrip("]") for m in messages if m.entry.type == "aws:cdk:warning"}
    assert warnings <= found, found
    assert not [m for m in messages if m.entry.type == "aws:cdk:error"]
    # Only the warnings an import needs (and those the construct gives anyway), nothing about the imports left unsaid.
    imported = {w for w in found if w.startswith("cdk-payments:imported")}
    assert imported == warnings
