"""The calls AWS makes with a function's own role, read from how the template configures it: Lambda
writes the function's logs and traces, decrypts its environment, creates its network interfaces in a
VPC, sends failed async events to its dead-letter queue, and polls the queues mapped to it.

Recorded in the same shape as ``recorder`` records the code's calls, with the resource already an
ARN of the stack, so that ``simulator.requests`` judges them (and adds the KMS calls SQS makes).
"""

from __future__ import annotations

from typing import Iterator

from .deployed import Deployed

ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
# What Lambda's event source mapping calls on an SQS queue with the function's role.
POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def _call(function_id: str, action: str, arn: str, **context: str) -> dict:
    return {"principal": function_id, "action": action, "kind": "arn", "ref": arn, "sources": [], "suffix": "",
            "context": context, "test": "(Lambda, from the template)"}


def platform_calls(stack: Deployed, handler_prefix: str = "runtime.") -> Iterator[dict]:
    """The calls Lambda makes with the role of each function whose handler starts with the prefix."""
    for function_id, function in stack.of_type("AWS::Lambda::Function"):
        props = function.get("Properties", {})
        if not str(props.get("Handler", "")).startswith(handler_prefix):
            continue
        name = stack.resolve({"Ref": function_id})
        log_group = props.get("LoggingConfig", {}).get("LogGroup")
        if log_group is not None:
            stream = f"arn:aws:logs:{stack.region}:123456789012:log-group:{stack.resolve(log_group)}:log-stream:x"
            yield _call(function_id, "logs:CreateLogStream", stream)
            yield _call(function_id, "logs:PutLogEvents", stream)
        if props.get("TracingConfig", {}).get("Mode") == "Active":
            yield _call(function_id, "xray:PutTraceSegments", "*")
            yield _call(function_id, "xray:PutTelemetryRecords", "*")
        if props.get("KmsKeyArn"):
            yield _call(function_id, "kms:Decrypt", str(stack.resolve(props["KmsKeyArn"])),
                        **{"kms:EncryptionContext:LambdaFunctionName": name,
                           "kms:ViaService": f"lambda.{stack.region}.amazonaws.com"})
        if props.get("DeadLetterConfig", {}).get("TargetArn"):
            yield _call(function_id, "sqs:SendMessage", str(stack.resolve(props["DeadLetterConfig"]["TargetArn"])))
        if props.get("VpcConfig"):
            for action in ENI_ACTIONS:
                yield _call(function_id, action, "*")
        for _, mapping in stack.of_type("AWS::Lambda::EventSourceMapping"):
            source = mapping["Properties"]
            if stack.logical_id_of(source.get("FunctionName")) == function_id and ":sqs:" in str(
                    stack.resolve(source.get("EventSourceArn"))):
                for action in POLL_ACTIONS:
                    yield _call(function_id, action, str(stack.resolve(source["EventSourceArn"])))
