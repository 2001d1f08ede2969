"""Evaluate a role's identity policies in a synthesized template, the way IAM matches them.

References are flattened to strings (``<Ref>``, ``<Res.Attr>``) so that a statement's resource
pattern can be matched against the resource a service really uses, with IAM's ``*`` wildcards.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def flat(node: Any) -> str:
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


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowing(statements: list[dict], action: str, resource: Any) -> list[dict]:
    """The statements that allow ``action`` on ``resource`` (conditions are returned, not judged)."""
    wanted = flat(resource)
    return [
        statement for statement in statements
        if any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement["Action"]))
        and any(fnmatchcase(wanted, flat(r)) for r in _as_list(statement["Resource"]))
    ]
