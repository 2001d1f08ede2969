"""AWS clients, created once per execution environment on first use (and reset by the tests), all
from boto3's default session so that they share its loaded endpoint rules and service models."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3


@cache
def table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


@cache
def dynamodb() -> Any:
    """The low-level client (the table resource's own client translates attribute values)."""
    return boto3.client("dynamodb")


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
    for client in (table, dynamodb, sqs, events, secretsmanager, kms):
        client.cache_clear()
