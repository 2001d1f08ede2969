"""AWS clients, created once per execution environment (and reset by the tests)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3


@cache
def table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@cache
def sqs() -> Any:
    return boto3.client("sqs")


@cache
def events() -> Any:
    return boto3.client("events")


@cache
def secretsmanager() -> Any:
    return boto3.client("secretsmanager")


@cache
def kms() -> Any:
    return boto3.client("kms")


def reset() -> None:
    for client in (table, sqs, events, secretsmanager, kms):
        client.cache_clear()
