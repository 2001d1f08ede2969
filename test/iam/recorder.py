"""Record every AWS call the handler code makes: who (which deployed function), what (the IAM
action), on what (the resource, as the code named it) and with which request context.

Hooked into botocore's built-in handlers, so that every session created afterwards records (moto
swaps boto3's default session for a fresh one inside ``mock_aws``; a hook on one session would miss
it). Two hooks per request: ``before-parameter-build`` sees the API parameters, ``before-call`` the
region the request is signed for.

A call names its resource as the code got it (a table name, a queue URL, a secret ARN): the
evaluator translates those values through the function's environment into the resources of a
synthesized template, and only then builds ARNs (``arn_of``). The calls AWS makes on the caller's
behalf (KMS through SQS, DynamoDB, SNS, Secrets Manager) depend on how the template configures the
resource, so the evaluator adds them (``test/iam/simulator.py``), not the recorder.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Iterator

from botocore.handlers import BUILTIN_HANDLERS

# Operations whose IAM action has another name than ``<prefix>:<operation>``.
ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "dynamodb:BatchWriteItem": "dynamodb:PutItem",
}
# The handler module a runtime module's code runs in (for calls the tests make through it directly).
HANDLERS = {
    "cdk_payments.runtime.api": "runtime.api.handler",
    "cdk_payments.runtime.listing": "runtime.api.handler",
    "cdk_payments.runtime.events": "runtime.events.handler",
    "cdk_payments.runtime.rotation": "runtime.rotation.handler",
    "cdk_payments.runtime.webhooks": "runtime.webhooks.handler",
    "cdk_payments.runtime.webhook_rotation": "runtime.webhook_rotation.handler",
    "cdk_payments.runtime.audit_copy": "runtime.audit_copy.handler",
}

_active: list[Callable[[dict], None]] = []  # the sink of the recording in progress, if any
_principal: list[Callable[[], str | None]] = []


def _params(params: dict, context: dict, **_: Any) -> None:
    context["iam-recorder-params"] = params


def _call(model: Any, context: dict, request_signer: Any, **_: Any) -> None:
    if not _active or not _principal:
        return
    principal = _principal[-1]()
    if principal is None:  # a test's own setup call, not the handler's
        return
    service = model.service_model.signing_name
    params = context.get("iam-recorder-params", {})
    region = request_signer._region_name
    for operation, kind, ref, request_context in _targets(service, model.name, params):
        action = ACTIONS.get(f"{service}:{operation}", f"{service}:{operation}")
        # The resource's name as the environment holds it; what follows it (an index, an object key) is kept.
        separator = {"table": "/index/", "s3": "/"}.get(kind)
        ref, _, suffix = ref.partition(separator) if separator else (ref, "", "")
        sources = _sources(ref)
        _active[-1]({"principal": principal, "action": action, "kind": kind, "ref": ref, "sources": sources,
                     "suffix": f"{separator}{suffix}" if suffix else "", "region": region, "context": request_context})


def _sources(ref: str) -> list[str]:
    """The environment variables that hold ``ref``: ``NAME``, or ``NAME[key]`` for a value of a JSON
    object variable (the delivery function's merchant-to-secret map)."""
    found = []
    for name, value in os.environ.items():
        if value == ref:
            found.append(name)
        elif value.startswith("{") and ref in value:
            try:
                mapping = json.loads(value)
            except ValueError:
                continue
            found += [f"{name}[{key}]" for key, item in mapping.items() if item == ref] if isinstance(mapping, dict) else []
    return sorted(found)


def _targets(service: str, operation: str, p: dict) -> Iterator[tuple[str, str, str, dict]]:
    """(operation, resource kind, the value naming it, request context) for each authorization."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            for item in p.get("TransactItems", []):
                for name, body in item.items():
                    yield {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                           "ConditionCheck": "ConditionCheckItem"}[name], "table", body["TableName"], {}
            return
        for table in p.get("RequestItems", {}):
            yield operation, "table", table, {}
        if "TableName" in p:
            index = f"/index/{p['IndexName']}" if p.get("IndexName") else ""
            yield operation, "table", p["TableName"] + index, {}
    elif service == "sqs":
        yield operation, "queue", p.get("QueueUrl", "*"), {}
    elif service == "events" and operation == "PutEvents":
        for bus in sorted({entry.get("EventBusName", "default") for entry in p.get("Entries", [])}):
            yield operation, "event-bus", bus, {}
    elif service == "secretsmanager":
        yield operation, "secret", p.get("SecretId", "*"), {}
    elif service == "kms":
        context = {f"kms:EncryptionContext:{k}": v for k, v in p.get("EncryptionContext", {}).items()}
        if p.get("EncryptionContext"):
            context["kms:EncryptionContextKeys"] = sorted(p["EncryptionContext"])
        yield operation, "key", p.get("KeyId", "*"), context
    elif service == "sns":
        yield operation, "topic", p.get("TopicArn") or p.get("TargetArn", "*"), {}
    elif service == "s3":
        yield operation, "s3", p.get("Bucket", "*") + (f"/{p['Key']}" if "Key" in p else ""), {}
    else:
        yield operation, "*", "*", {}


def arn_of(kind: str, ref: str, region: str, account: str) -> str:
    """The ARN IAM authorizes a call on, from the value the code named the resource with."""
    if kind == "table" and not ref.startswith("arn:"):
        return f"arn:aws:dynamodb:{region}:{account}:table/{ref}"
    if ref.startswith("arn:") or ref == "*":
        return ref
    if kind == "queue":  # https://sqs.<region>.amazonaws.com/<account>/<name> (or the emulator's host)
        owner, name = ref.rstrip("/").rsplit("/", 2)[-2:]
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if kind == "event-bus":
        return f"arn:aws:events:{region}:{account}:event-bus/{ref}"
    if kind == "secret":  # by name: the ARN adds six random characters
        return f"arn:aws:secretsmanager:{region}:{account}:secret:{ref}-AbCdEf"
    if kind == "key":
        return f"arn:aws:kms:{region}:{account}:{ref if ref.startswith('alias/') else 'key/' + ref}"
    if kind == "topic":
        return f"arn:aws:sns:{region}:{account}:{ref}"
    if kind == "s3":
        return f"arn:aws:s3:::{ref}"
    return ref


def handler_in_stack() -> str | None:
    """The deployed handler whose code is running: the outermost runtime module on the call stack."""
    frame, found = sys._getframe(1), None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("cdk_payments.runtime"):
            found = HANDLERS.get(module, found or f"unattributed:{module}")
        frame = frame.f_back
    return found


def install() -> None:
    """Add the hooks to botocore's built-in handlers (once per process): sessions created from now on
    record while ``recording`` is active."""
    if (("before-call", _call)) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.extend([("before-parameter-build", _params), ("before-call", _call)])


class recording:
    """``with recording(principal) as calls:``; ``principal()`` names the function the running code
    is deployed as (None: not a handler's call)."""

    def __init__(self, principal: Callable[[], str | None] = handler_in_stack) -> None:
        self.calls: list[dict] = []
        self.principal = principal

    def __enter__(self) -> list[dict]:
        install()
        _active.append(self.calls.append)
        _principal.append(self.principal)
        return self.calls

    def __exit__(self, *exc: Any) -> None:
        _active.pop()
        _principal.pop()


def record_process(function_name: str, path: str) -> Callable[[], None]:
    """For the emulator's runner: record this process's calls as ``function_name``'s. Returns the
    flush the runner calls after each invocation: it appends the calls so far to ``path`` (JSON lines)."""
    context = recording(lambda: function_name)
    calls = context.__enter__()

    def flush() -> None:
        with open(path, "a") as out:
            out.writelines(json.dumps(call) + "\n" for call in calls)
        calls.clear()

    return flush
