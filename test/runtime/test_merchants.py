"""Merchant isolation, in each authorization mode (the ``mode`` fixture): the merchant comes from
the authenticated identity, and one merchant never creates, reads, lists or replays as another."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from cdk_payments.runtime import api, clients
from cdk_payments.runtime.merchants import merchant_of

from .conftest import ACCOUNT, ROLE_ARNS, UNMAPPED, FakeContext, api_event, request_identity, valid_body

A, B = "merchant-42", "merchant-43"


def call(event):
    response = api.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def create(caller, key="order-7f3a-0001", **body):
    body = {"amount": 1250, "currency": "EUR", "payment_method_token": "tok_visa_abcdef12", **body}
    return call(api_event("POST", "/payments", body=body, headers={"Idempotency-Key": key}, caller=caller))


def test_each_mode_creates_as_the_authenticated_merchant(mode, aws):
    status, created = create(B)
    assert status == 202
    (payment,) = aws.payments()
    assert payment["merchant_id"] == B and payment["payment_id"] == created["payment_id"]


def test_a_cannot_create_as_b(mode, aws):
    status, body = create(A, merchant_id=B)
    assert (status, body["error"]["code"]) == (403, "merchant_mismatch")
    assert aws.table.scan()["Items"] == [] and aws.messages() == []


def test_a_cannot_read_bs_payment_which_is_not_found(mode, aws):
    _, created = create(B)
    path = f"/payments/{created['payment_id']}"
    status, body = call(api_event("GET", path, caller=A))
    assert (status, body["error"]["code"]) == (404, "payment_not_found")
    assert body == call(api_event("GET", "/payments/00000000-0000-4000-8000-000000000000", caller=A))[1]
    status, body = call(api_event("GET", path, caller=B))
    assert status == 200 and body["merchant_id"] == B


def test_a_cannot_list_bs_payments(mode, aws):
    create(B, key="order-b-000001")
    create(B, key="order-b-000002")
    _, mine = create(A, key="order-a-000001")
    status, page = call(api_event("GET", "/payments", caller=A))
    assert status == 200
    assert [p["payment_id"] for p in page["payments"]] == [mine["payment_id"]]
    status, page = call(api_event("GET", "/payments", caller=B))
    assert {p["merchant_id"] for p in page["payments"]} == {B} and len(page["payments"]) == 2


def test_a_cannot_reuse_bs_idempotency_answer(mode, aws):
    _, bs = create(B)
    status, as_ = create(A)  # same key, same body
    assert status == 202 and as_["payment_id"] != bs["payment_id"]
    assert sorted(p["merchant_id"] for p in aws.payments()) == [A, B]
    assert create(B) == (202, bs) and create(A) == (202, as_)  # each replays its own answer


@pytest.mark.parametrize("method,path", [("POST", "/payments"), ("GET", "/payments"),
                                         ("GET", "/payments/00000000-0000-4000-8000-000000000000")])
def test_unmapped_identity_is_refused_before_anything_is_read_or_written(mode, aws, method, path):
    event = api_event(method, path, caller=UNMAPPED, body=valid_body() if method == "POST" else None,
                      headers={"Idempotency-Key": "order-7f3a-0001"})
    untouchable = mock.Mock(side_effect=AssertionError("AWS was called for an unmapped identity"))
    with mock.patch.multiple(clients, table=untouchable, dynamodb=untouchable, sqs=untouchable, kms=untouchable):
        status, body = call(event)
    assert (status, body["error"]["code"]) == (403, "merchant_not_mapped")
    assert aws.table.scan()["Items"] == [] and aws.messages() == []


def test_a_request_without_identity_is_refused(mode, aws):
    event = api_event("GET", "/payments")
    event["requestContext"].pop("identity", None)
    event["requestContext"].pop("authorizer", None)
    assert call(event)[1]["error"]["code"] == "merchant_not_mapped"


# -- how each mode maps an identity (merchants.merchant_of) --------------------------------------------

def session(role: str, account: str = ACCOUNT, partition: str = "aws") -> dict:
    return {"identity": {"userArn": f"arn:{partition}:sts::{account}:assumed-role/{role}/s-1"}}


@pytest.mark.parametrize("context,merchant", [
    (session("Merchant42Caller"), A),  # the mapped role has a path; the session ARN has none
    (session("Merchant43Caller"), B),
    (session("Merchant42Caller", account="210987654321"), None),  # same name, another account
    (session("Merchant42Caller", partition="aws-cn"), None),
    (session("merchant42caller"), None),
    (session("Stranger"), None),
    ({"identity": {"userArn": f"arn:aws:iam::{ACCOUNT}:user/Merchant42Caller"}}, None),  # users are not mapped
    ({"identity": {"userArn": f"arn:aws:iam::{ACCOUNT}:root"}}, None),
    ({"identity": {"userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Merchant42Caller"}}, None),
    ({"identity": {"userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Merchant42Caller/s-1\n"}}, None),
    ({"identity": {}}, None),
    ({"identity": None}, None),
    (None, None),
])
def test_iam_maps_role_sessions_to_merchants(aws, context, merchant):
    assert merchant_of(context) == merchant


def test_iam_role_mapped_to_two_merchants_identifies_neither(aws, monkeypatch):
    monkeypatch.setenv("MERCHANT_ROLES", json.dumps({**ROLE_ARNS, "merchant-44": ROLE_ARNS[A]}))
    assert merchant_of(session("Merchant42Caller")) is None
    assert merchant_of(session("Merchant43Caller")) == B


@pytest.mark.parametrize("context,merchant", [
    ({"identity": {"apiKeyId": "k42abcdefg"}}, A),
    ({"identity": {"apiKeyId": "k99zzzzzzz"}}, None),
    ({"identity": {"apiKeyId": None}}, None),
    ({"identity": {"apiKey": "k42abcdefg"}}, None),  # the key's id, never its value or a header
    ({"identity": {}, "authorizer": {"claims": {"custom:merchant_id": A}}}, None),  # another mode's identity
])
def test_api_key_ids_map_to_merchants(aws, monkeypatch, context, merchant):
    monkeypatch.setenv("AUTH_MODE", "api-key")
    assert merchant_of(context) == merchant


@pytest.mark.parametrize("claims,merchant", [
    ({"custom:merchant_id": A}, A),
    ({"merchant_id": A}, None),
    ({"custom:merchant_id": "a b"}, None),
    ({"custom:merchant_id": "m" * 65}, None),
    ({"custom:merchant_id": "merchant-42\n"}, None),
    ({"custom:merchant_id": ""}, None),
    ({"custom:merchant_id": ["merchant-42"]}, None),
    ({}, None),
])
def test_cognito_merchant_is_the_custom_merchant_id_claim(aws, monkeypatch, claims, merchant):
    monkeypatch.setenv("AUTH_MODE", "cognito")
    assert merchant_of({"identity": {}, "authorizer": {"claims": claims}}) == merchant
    assert merchant_of(session("Merchant42Caller")) is None  # another mode's identity


@pytest.mark.parametrize("auth_mode", [None, "", "none", "IAM"])
def test_a_missing_or_unknown_mode_maps_nobody(aws, monkeypatch, auth_mode):
    if auth_mode is None:
        monkeypatch.delenv("AUTH_MODE")
    else:
        monkeypatch.setenv("AUTH_MODE", auth_mode)
    for mode in ("iam", "api-key", "cognito"):
        assert merchant_of(request_identity(A, mode)) is None


@pytest.mark.parametrize("mapping", ["not json", "[]", '{"merchant-42": 7}'])
def test_a_malformed_map_maps_nobody(aws, monkeypatch, mapping):
    monkeypatch.setenv("MERCHANT_ROLES", mapping)
    assert merchant_of(session("Merchant42Caller")) is None
