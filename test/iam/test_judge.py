"""The recorder and the IAM simulator themselves: a call is recorded with its action, resource and
context; a grant taken out of the synthesized template makes the judge refuse the call it covered."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from moto import mock_aws

from ..deploy_semantics.cfn import load_assembly
from .deployed import deployed
from .platform import platform_calls
from .recorder import install, recording
from .simulator import Policies, evaluate, explain, requests

SEND = {"principal": "runtime.api.handler", "action": "sqs:SendMessage", "kind": "queue", "ref": "https://q",
        "sources": ["QUEUE_URL"], "suffix": "", "region": "us-east-1", "context": {}}


@pytest.fixture(scope="module")
def dev(example_assemblies):
    return deployed(load_assembly(example_assemblies.get("dev"))[0])


def test_records_the_handler_calls_only_with_action_resource_and_context(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    install()  # before the session is created, as the handler tests' fixture does
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="payments")["QueueUrl"]  # the test's own call: not recorded
        monkeypatch.setenv("QUEUE_URL", url)
        with recording(lambda: "runtime.api.handler") as calls:
            boto3.client("sqs").send_message(QueueUrl=url, MessageBody="{}")
            key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
            boto3.client("kms").encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"merchant_id": "m1"})
    assert [(c["action"], c["kind"]) for c in calls] == [
        ("sqs:SendMessage", "queue"), ("kms:CreateKey", "key"), ("kms:Encrypt", "key")]
    assert calls[0]["ref"] == url and calls[0]["sources"] == ["QUEUE_URL"]
    assert calls[2]["context"] == {"kms:EncryptionContext:merchant_id": "m1", "kms:EncryptionContextKeys": ["merchant_id"]}


def test_a_setup_call_outside_the_runtime_is_not_recorded(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(), recording() as calls:
        boto3.client("sqs").create_queue(QueueName="q")
    assert calls == []


def test_the_processor_may_send_to_the_payment_queue_and_use_its_key(dev):
    wanted = requests(Policies(dev), [SEND])
    assert [(r.action, r.via) for r in wanted] == [
        ("sqs:SendMessage", ""), ("kms:GenerateDataKey", "sqs"), ("kms:Decrypt", "sqs")]
    assert evaluate(Policies(dev), wanted) == []


def _without(stack, action: str):
    """The stack with every processor statement granting ``action`` removed."""
    template = copy.deepcopy(stack.template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and "Processor" in json.dumps(resource["Properties"]["Roles"]):
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [s for s in document["Statement"] if action not in json.dumps(s["Action"])]
    return deployed(type(stack)(stack.name, stack.region, template))


@pytest.mark.parametrize("action,denied", [
    ("sqs:SendMessage", ["sqs:SendMessage"]),
    # grant_encrypt_decrypt: SQS can no longer make the data key for the processor's message.
    ("kms:GenerateDataKey*", ["kms:GenerateDataKey", "kms:Decrypt"]),
])
def test_without_the_grant_the_send_is_refused_with_the_call_in_the_message(dev, action, denied):
    """The issue's own example: without grant_send_messages every POST /payments would answer 500."""
    policies = Policies(_without(dev, action))
    refused = evaluate(policies, requests(policies, [SEND]))
    assert [r.action for r, _ in refused] == denied
    message = explain(policies, refused)
    assert "PaymentsProcessorRole" in message and "no statement of the role's policies allows it" in message


def test_every_call_lambda_makes_with_the_function_roles_is_allowed(dev):
    calls = list(platform_calls(dev))
    assert {c["action"] for c in calls} >= {"logs:PutLogEvents", "xray:PutTraceSegments", "kms:Decrypt",
                                             "sqs:ReceiveMessage", "ec2:CreateNetworkInterface"}
    refused = evaluate(Policies(dev), requests(Policies(dev), calls))
    assert refused == [], refused
