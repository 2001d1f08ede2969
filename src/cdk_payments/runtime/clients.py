"""AWS clients, created once per execution environment on first use (and reset by the tests), all
from boto3's default session so that they share its loaded endpoint rules and service models."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# No client-side parameter validation: every request is built by this package's code, AWS validates it
# again, and the check walks each request's whole shape (about 15% of a call's CPU, tools/bench_handlers.py).
CONFIG = Config(parameter_validation=False)


@cache
def table() -> Any:
    return boto3.resource("dynamodb", config=CONFIG).Table(os.environ["TABLE_NAME"])


@cache
def dynamodb() -> Any:
    """The low-level client (the table resource's own client translates attribute values)."""
    return boto3.client("dynamodb", config=CONFIG)


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=CONFIG)


@cache
def events() -> Any:
    return boto3.client("events", config=CONFIG)


@cache
def secretsmanager() -> Any:
    return boto3.client("secretsmanager", config=CONFIG)


@cache
def kms() -> Any:
    return boto3.client("kms", config=CONFIG)


@cache
def s3() -> Any:
    return boto3.client("s3", config=CONFIG)


def reset() -> None:
    for client in (table, dynamodb, sqs, events, secretsmanager, kms, s3):
        client.cache_clear()
