"""The acknowledgement helpers: ids with '::', checkov skips, and the grant-policy finding ids."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs

from cdk_payments._nag import _grant_wildcards, acknowledge

REASON = "A reason long enough to say why, and what compensates for it."


def test_grant_wildcards_are_named_as_cdk_nag_names_them():
    document = {"Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
         "Resource": {"Fn::GetAtt": ["Key1", "Arn"]}},
        {"Effect": "Allow", "Action": "dynamodb:GetItem",
         "Resource": [{"Fn::GetAtt": ["Table1", "Arn"]},
                      {"Fn::Join": ["", [{"Fn::GetAtt": ["Table1", "Arn"]}, "/index/*"]]}]},
        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:*:*:log-group:x:*"}},
    ]}
    assert _grant_wildcards(document) == [
        "Action::kms:GenerateDataKey*",
        "Resource::<Table1.Arn>/index/*",
        "Resource::arn:<AWS::Partition>:logs:*:*:log-group:x:*",
    ]  # never Resource::*, never a Deny


def test_acknowledge_writes_ids_validations_refuses_and_checkov_skips():
    stack = Stack(App(), "S")
    queue = sqs.Queue(stack, "Q")
    acknowledge(queue, REASON, "AwsSolutions-SQS3", "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/*]",
                "CKV_AWS_27", "CKV_AWS_28")
    entries = [e.data for e in queue.node.metadata if e.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY]
    assert {"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/*]": REASON} in entries
    assert any(any(key.endswith("AwsSolutions-SQS3") for key in e) for e in entries)
    skips = queue.node.default_child.get_metadata("checkov")["skip"]
    assert skips == [{"id": "CKV_AWS_27", "comment": REASON}, {"id": "CKV_AWS_28", "comment": REASON}]


def test_acknowledge_needs_a_real_reason():
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(sqs.Queue(Stack(App(), "S"), "Q"), "because", "AwsSolutions-SQS3")


def test_acknowledging_a_reused_cdk_nag_rule_acknowledges_the_pci_dss_401_rule_too():
    stack = Stack(App(), "S")
    queue = sqs.Queue(stack, "Q")
    acknowledge(queue, REASON, "PCI.DSS.321-S3BucketLoggingEnabled", "NIST.800.53.R5-EC2IMDSv2Enabled",
                "PCI.DSS.321-LambdaInsideVPC", "AwsSolutions-S1")
    acknowledged = {rule.split("::")[-1]: reason for e in queue.node.metadata
                    if e.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY for rule, reason in e.data.items()}
    assert acknowledged["PCI.DSS.401-S3BucketLoggingEnabled"] == REASON  # the same finding, the same reason
    assert acknowledged["PCI.DSS.401-EC2IMDSv2Enabled"] == REASON
    assert "PCI.DSS.401-LambdaInsideVPC" not in acknowledged  # not a rule of the v4.0.1 pack
    assert not any(rule.startswith("PCI.DSS.401-S1") for rule in acknowledged)
