"""Physical names AWS requires us to give, unique per deployment of a stack.

A resource that must be named (a backup vault; a WAF log group, which must start with
``aws-waf-logs-``) and is kept on deletion would block the next deploy of the same stack after a
destroy, whose CloudFormation would create it again under the same name. The stack's ID ends in a
UUID that CloudFormation draws for each stack it creates, so a name ending in part of it is new for
every deployment and the same on every update, while the template stays deterministic.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn

SUFFIX_LENGTH = 8  # the UUID's first group: eight hex digits


def deployment_suffix() -> str:
    """The first group of the stack ID's UUID (``arn:...:stack/<name>/<uuid>``): eight hex digits."""
    return Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))))
