"""Render CloudFormation values as a deploy in one account and region would, and answer IAM questions.

Small on purpose: Ref, Fn::GetAtt (Arn of log groups) and Fn::Join over pseudo parameters and the
physical ids a test supplies; IAM wildcards as IAM matches them (``*`` spans ``:`` and ``/``).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Mapping, Optional

ACCOUNT, REGION, PARTITION = "111111111111", "us-east-1", "aws"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
          "AWS::URLSuffix": "amazonaws.com"}


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


def allows(statements: list[dict], action: str, resource: str, physical: Optional[Mapping[str, str]] = None) -> bool:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        patterns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(fnmatchcase(action, a) for a in actions) and any(
                fnmatchcase(resource, render(p, physical)) for p in patterns):
            return True
    return False
