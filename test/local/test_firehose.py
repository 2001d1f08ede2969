"""The audit delivery path in the emulator: an EventBridge rule targeting a Firehose delivery stream to
S3, from a template (moto models neither the stream in CloudFormation nor Firehose as a rule target;
cdk_payments.local fills both gaps)."""

from __future__ import annotations

import json
import logging

import pytest

from cdk_payments.local.deploy import deploy
from cdk_payments.local.emulator import FAKE_CREDENTIALS, Emulator

ASSUME_FIREHOSE = {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                  "Principal": {"Service": "firehose.amazonaws.com"}}]}
TEMPLATE = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "DeliveryRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ASSUME_FIREHOSE}},
        "Stream": {"Type": "AWS::KinesisFirehose::DeliveryStream", "DependsOn": ["DeliveryRole"], "Properties": {
            "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": {"Fn::GetAtt": ["Bucket", "Arn"]}, "RoleARN": {"Fn::GetAtt": ["DeliveryRole", "Arn"]},
                "Prefix": "payment-events/", "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
                "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"}}}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "payments"}},
        # (A literal bus name: moto's rule model cannot take a Ref to a bus it created.)
        "ToAudit": {"Type": "AWS::Events::Rule", "DependsOn": "Bus", "Properties": {
            "EventBusName": "payments", "EventPattern": {"source": ["cdk-payments"]},
            "Targets": [{"Id": "audit", "Arn": {"Fn::GetAtt": ["Stream", "Arn"]}}]}},
    },
    "Outputs": {"StreamName": {"Value": {"Ref": "Stream"}}},
}


@pytest.fixture
def emulator(tmp_path, monkeypatch):
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = Emulator(tmp_path)
    server.start()
    yield server
    server.stop()


def test_events_on_the_bus_land_in_the_bucket_through_the_stream(emulator, tmp_path):
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    (assembly / "Audit.template.json").write_text(json.dumps(TEMPLATE))
    (assembly / "Audit.assets.json").write_text(json.dumps({"version": "1", "files": {}}))
    deployment = deploy(emulator, assembly, "Audit")
    assert deployment.status == "CREATE_COMPLETE" and deployment.touched["firehose-after-the-stack"] == ["Stream"]
    stream = deployment.physical["Stream"]
    assert stream == "Audit-Stream"
    outputs = deployment.client("cloudformation").describe_stacks(StackName="Audit")["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "StreamName", "OutputValue": stream}]
    target = deployment.client("events").list_targets_by_rule(Rule=deployment.physical["ToAudit"],
                                                             EventBusName="payments")["Targets"]
    assert target[0]["Arn"] == f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}"

    deployment.client("events").put_events(Entries=[
        {"Source": "cdk-payments", "DetailType": "Payment Processed", "Detail": json.dumps({"payment_id": "p-1"}),
         "EventBusName": "payments"},
        {"Source": "someone-else", "DetailType": "Other", "Detail": "{}", "EventBusName": "payments"}])
    s3 = deployment.client("s3")
    (record,) = s3.list_objects_v2(Bucket=deployment.physical["Bucket"], Prefix="payment-events/")["Contents"]
    event = json.loads(s3.get_object(Bucket=deployment.physical["Bucket"], Key=record["Key"])["Body"].read())
    assert event["detail"] == {"payment_id": "p-1"} and event["detail-type"] == "Payment Processed"
