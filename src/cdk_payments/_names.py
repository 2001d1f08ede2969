"""Names that stay the same when a stack moves into a ``cdk.Stage`` (a CDK Pipelines stage).

``Names.unique_id`` hashes a construct's path from the app down, and a Stage adds its own id to that
path: a physical name built from it would change (a new API name, a new backup vault) the day a team
moves its stacks into a pipeline. The stack's name stays the unit of uniqueness (two copies of a stack
in one account and region have two stack names), so the names here hash the path from the stack down,
prefixed by the stack's id, exactly as ``Names.unique_id`` does for a stack at the app's top level.

A resource that must be named (a backup vault; a WAF log group, which must start with ``aws-waf-logs-``)
and is kept on deletion would block the next deploy of the same stack after a destroy, whose
CloudFormation would create it again under the same name. The stack's ID ends in a UUID that
CloudFormation draws for each stack it creates, so a name ending in part of it
(:func:`deployment_suffix`) is new for every deployment and the same on every update, while the template
stays deterministic.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws, CfnElement, Fn, Names, Stack
from constructs import Construct, IConstruct, RootConstruct

SUFFIX_LENGTH = 8  # the UUID's first group: eight hex digits


def deployment_suffix() -> str:
    """The first group of the stack ID's UUID (``arn:...:stack/<name>/<uuid>``): eight hex digits."""
    return Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))))


def top_level_unique_id(scope: IConstruct, *ids: str) -> str:
    """``Names.unique_id`` of ``scope`` (or of its future child at ``ids``) as if its stack were a direct child of
    the app: equal to ``Names.unique_id`` there, and unchanged inside a Stage."""
    stack = Stack.of(scope)
    return _unique_id([stack.node.id, *_below(stack, scope), *ids])


def pin_top_level_logical_id(element: CfnElement, *, prefix: str, named_after: IConstruct) -> None:
    """Give ``element`` the logical id it has when its stack is a direct child of the app, where CDK named one
    of its scopes ``prefix + Names.unique_id(named_after)`` (``SqsEventSource:<queue's unique id>``).

    For resources whose replacement fails: Lambda refuses a second event source mapping between one queue
    and one function, so a mapping whose logical id changed could not be created next to the old one.
    """
    stack = Stack.of(element)
    inside, outside = prefix + Names.unique_id(named_after), prefix + top_level_unique_id(named_after)
    path = _below(stack, element)
    if inside not in path:  # CDK renamed the scope: fail here rather than let the logical id drift
        raise ValueError(f"{element.node.path}: no scope named {inside!r} to pin")
    if inside != outside:
        element.override_logical_id(_unique_id([outside if part == inside else part for part in path]))


def _below(stack: Stack, scope: IConstruct) -> list[str]:
    scopes = scope.node.scopes
    return [s.node.id for s in scopes[scopes.index(stack) + 1:]]


def _unique_id(components: Sequence[str]) -> str:
    """CDK's own unique id of a path (``Names.unique_id`` of a detached copy of it), never a copy of its hashing."""
    node: Construct = RootConstruct("")
    for part in components:
        node = Construct(node, part)
    return Names.unique_id(node)
