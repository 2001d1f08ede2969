"""Read synthesized templates the way AWS will: resolve intrinsics to the strings they become in one
account and region, and evaluate resource and key policies for the principal a service really uses.

Also the hand-written IAM matching the deploy-semantics tests used before the IAM simulator
(test/iam/): ``render``/``statements_allow`` (rendering against physical ids a test supplies) and
``flat``/``allowing`` (references flattened to ``<Ref>`` strings). New checks use the simulator.

Resolution is deliberately simple: a Ref or Fn::GetAtt of a resource becomes "<stack>/<logical id>",
which is unique per stack copy, exactly like the physical ids CloudFormation generates. Two stacks
whose rendered names are equal would collide in a real account.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

ACCOUNT = "111111111111"
DEFAULT_REGION = REGION = "us-east-1"
PARTITION = "aws"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
          "AWS::URLSuffix": "amazonaws.com"}


@dataclass
class StackTemplate:
    """One stack of a cloud assembly: its name, region and template."""

    name: str
    region: str
    template: dict
    dependencies: tuple = ()  # the stacks of the app this one is deployed after
    resources: dict = field(init=False)

    def __post_init__(self) -> None:
        self.resources = self.template.get("Resources", {})

    def of_type(self, *types: str) -> Iterator[tuple[str, dict]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] in types:
                yield logical_id, resource

    def props(self, logical_id: str) -> dict:
        return self.resources[logical_id].get("Properties", {})

    def resolve(self, value: Any) -> Any:
        """The value CloudFormation would pass to the service, with generated ids made stack-unique."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        (function, args), = value.items()
        if function == "Ref":
            return self._ref(args)
        if function == "Fn::GetAtt":
            logical_id, attribute = args if isinstance(args, list) else args.split(".", 1)
            return self._get_att(logical_id, attribute)
        if function == "Fn::Join":
            separator, items = args
            return separator.join(str(self.resolve(item)) for item in self.resolve(items))
        if function == "Fn::Sub":
            text, variables = (args, {}) if isinstance(args, str) else args
            for name, item in variables.items():
                text = text.replace("${%s}" % name, str(self.resolve(item)))
            for pseudo in ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix"):
                text = text.replace("${%s}" % pseudo, str(self._ref(pseudo)))
            return text
        if function == "Fn::Split":
            delimiter, text = args
            resolved = self.resolve(text)
            if isinstance(resolved, str):
                return resolved.split(delimiter)
            return f"{function}:{json.dumps([delimiter, resolved], sort_keys=True)}"
        if function == "Fn::Select":
            index, items = args
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Split":
            separator, text = args
            return str(self.resolve(text)).split(separator)
        if function == "Fn::GetAZs":
            return [f"{self.region}{suffix}" for suffix in "abc"]
        if function == "Fn::If":
            return self.resolve(args[1])  # the branch taken where the condition holds
        if function == "Fn::ImportValue":
            return f"import:{self.resolve(args)}"
        if function.startswith("Fn::"):
            return f"{function}:{json.dumps(self.resolve(args), sort_keys=True)}"
        return {function: self.resolve(args)}

    def _ref(self, name: str) -> str:
        # A stack ID ends in a UUID CloudFormation draws per stack: here one per stack name.
        uuid = hashlib.sha256(self.name.encode()).hexdigest()
        stack_id = (f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.name}/"
                    f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:32]}")
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": "aws",
                  "AWS::StackName": self.name, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None,
                  "AWS::StackId": stack_id}
        if name in pseudo:
            return pseudo[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            return parameter.get("Default", f"{self.name}/parameter/{name}")
        return f"{self.name}/{name}"

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id, {})
        if attribute == "Arn":
            return arn_of(self, logical_id, resource.get("Type", ""))
        return f"{self.name}/{logical_id}.{attribute}"

    def logical_id_of(self, value: Any) -> str | None:
        """The logical id a Ref or Fn::GetAtt points at, if it points into this template."""
        if isinstance(value, dict) and len(value) == 1:
            (function, args), = value.items()
            if function == "Ref" and args in self.resources:
                return args
            if function == "Fn::GetAtt":
                logical_id = args[0] if isinstance(args, list) else args.split(".", 1)[0]
                return logical_id if logical_id in self.resources else None
        return None


def arn_of(stack: StackTemplate, logical_id: str, type_: str) -> str:
    """An ARN that is equal for equal physical names and unique per stack copy for generated ones."""
    if type_ == "AWS::Logs::LogGroup":
        name = stack.resolve(stack.props(logical_id).get("LogGroupName", f"{stack.name}-{logical_id}"))
        return f"arn:aws:logs:{stack.region}:{ACCOUNT}:log-group:{name}:*"
    service = type_.split("::")[1].lower() if "::" in type_ else "unknown"
    return f"arn:aws:{service}:{stack.region}:{ACCOUNT}:{stack.name}/{logical_id}"


def load_assembly(outdir: Path) -> list[StackTemplate]:
    """Every stack of a cloud assembly, with the region its environment names (or the default)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        region = artifact["environment"].rsplit("/", 1)[-1]
        region = DEFAULT_REGION if region.startswith("unknown") else region
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        stacks.append(StackTemplate(artifact.get("displayName", name).split("/")[-1], region, template,
                                    tuple(d for d in artifact.get("dependencies", []) if not d.endswith(".assets"))))
    return stacks


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a property value refers to: Ref, Fn::GetAtt and Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                found |= references(item if isinstance(item, str) else item[1])
            else:
                found |= references(item)
    return found


def depends_on(stack: StackTemplate, logical_id: str) -> set[str]:
    """Everything CloudFormation creates before this resource: DependsOn and references, transitively."""
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = stack.resources.get(pending.pop(), {})
        direct = references(resource.get("Properties", {})) | set(
            resource.get("DependsOn", []) if isinstance(resource.get("DependsOn", []), list)
            else [resource["DependsOn"]])
        for name in direct & set(stack.resources) - seen:
            seen.add(name)
            pending.append(name)
    return seen


# -- policies ------------------------------------------------------------------------------------

def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(stack: StackTemplate, document: dict) -> list[dict]:
    return [stack.resolve(statement) for statement in _as_list(document.get("Statement"))]


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(pattern).lower()) for pattern in _as_list(patterns))


def principal_matches(principal: Any, *, service: str | None = None, arn: str | None = None) -> bool:
    """Whether a resolved policy principal names this service principal or this IAM principal.

    An account's root principal does not count for a service principal: services never act as the
    account, they need their own statement.
    """
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if service is not None:
        return service in _as_list(principal.get("Service"))
    aws = [str(p) for p in _as_list(principal.get("AWS"))]
    return "*" in aws or arn in aws


def allows(stack: StackTemplate, document: dict, actions: list[str], *, service: str | None = None,
           arn: str | None = None) -> bool:
    """Whether an Allow statement grants every action to the principal (conditions aside), and no
    unconditional Deny takes one back."""
    found = statements(stack, document)
    for action in actions:
        allowed = any(s.get("Effect") == "Allow" and principal_matches(s.get("Principal"), service=service, arn=arn)
                      and _matches(s.get("Action"), action) for s in found)
        denied = any(s.get("Effect") == "Deny" and not s.get("Condition")
                     and principal_matches(s.get("Principal"), service=service, arn=arn)
                     and _matches(s.get("Action"), action) for s in found)
        if not allowed or denied:
            return False
    return True


def identity_allows(stack: StackTemplate, role_id: str, actions: list[str], resource: str) -> bool:
    """Whether the role's inline and attached template policies allow every action on the resource."""
    role_arn = arn_of(stack, role_id, "AWS::IAM::Role")
    documents = [p["PolicyDocument"] for p in stack.props(role_id).get("Policies", [])]
    for _, policy in stack.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        props = policy.get("Properties", {})
        roles = [stack.resolve(r) for r in _as_list(props.get("Roles"))]
        if any(r in (f"{stack.name}/{role_id}", role_arn) for r in roles):
            documents.append(props["PolicyDocument"])
    found = [s for d in documents for s in statements(stack, d) if s.get("Effect") == "Allow"]
    return all(any(_matches(s.get("Action"), action) and _matches(s.get("Resource"), resource) for s in found)
               for action in actions)


def iam_statements(stack: StackTemplate) -> Iterator[tuple[str, dict]]:
    """Every identity-policy statement in the template, with the logical id that holds it."""
    for logical_id, resource in stack.of_type("AWS::IAM::Role"):
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in statements(stack, policy["PolicyDocument"]):
                yield logical_id, statement
    for logical_id, resource in stack.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for statement in statements(stack, resource["Properties"]["PolicyDocument"]):
            yield logical_id, statement


# -- hand-written matching over raw templates (older checks; the simulator judges new ones) ---------

def render(value: Any, physical: Optional[Mapping[str, str]] = None) -> str:
    """``value`` as a string; ``physical`` maps logical ids to what ``Ref`` returns."""
    physical = physical or {}
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return PSEUDO.get(value["Ref"]) or physical[value["Ref"]]
    if "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(render(item, physical) for item in items)
    if "Fn::GetAtt" in value:
        return physical[".".join(value["Fn::GetAtt"])]
    raise ValueError(f"cannot render {value!r}")


def log_group_arn(name: str) -> str:
    return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def role_statements(template: dict, role_id: str) -> list[dict]:
    """Every Allow statement a role has: inline, and from AWS::IAM::Policy resources attached to it."""
    resources = template["Resources"]
    documents = [p["PolicyDocument"] for p in resources[role_id]["Properties"].get("Policies", [])]
    documents += [r["Properties"]["PolicyDocument"] for r in resources.values()
                  if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])]
    return [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]


def statements_allow(statements: list[dict], action: str, resource: str,
                     physical: Optional[Mapping[str, str]] = None) -> bool:
    """Whether a statement allows ``action`` on ``resource`` (references rendered with ``physical``)."""
    for statement in statements:
        if any(fnmatchcase(action, a) for a in _as_list(statement["Action"])) and any(
                fnmatchcase(resource, render(p, physical)) for p in _as_list(statement["Resource"])):
            return True
    return False


def flat(node: Any) -> str:
    """A reference flattened to a string (``<Ref>``, ``<Res.Attr>``), to match patterns against."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flat(item) for item in items)
        if "Fn::GetAtt" in node:
            return "<{}.{}>".format(*node["Fn::GetAtt"])
        if "Ref" in node:
            return f"<{node['Ref']}>"
    raise ValueError(f"cannot flatten {node!r}")


def allowing(statements: list[dict], action: str, resource: Any) -> list[dict]:
    """The statements that allow ``action`` on ``resource`` (conditions are returned, not judged)."""
    wanted = flat(resource)
    return [
        statement for statement in statements
        if any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement["Action"]))
        and any(fnmatchcase(wanted, flat(r)) for r in _as_list(statement["Resource"]))
    ]
