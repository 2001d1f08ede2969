"""Every AWS client comes from runtime.clients (boto3's default session): Powertools' secrets
provider would otherwise start a session of its own on the first request."""

from __future__ import annotations

from unittest import mock

from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

from cdk_payments.runtime import api, clients, providers

from .conftest import FakeContext, api_event, valid_body


def test_the_intake_writes_with_the_shared_dynamodb_client(aws):
    with mock.patch.object(clients.dynamodb(), "put_item", wraps=clients.dynamodb().put_item) as put:
        response = api.handler(api_event("POST", "/payments", body=valid_body(),
                                         headers={"Idempotency-Key": "order-shared-0001"}), FakeContext())
    assert response["statusCode"] == 202 and put.call_count == 1


def test_credentials_are_read_with_the_shared_client_and_cached(aws):
    with mock.patch.object(clients.secretsmanager(), "get_secret_value",
                           wraps=clients.secretsmanager().get_secret_value) as read:
        assert providers.credentials() == {"api_key": "sk_test_123"}
        assert providers.credentials() == {"api_key": "sk_test_123"}
    assert read.call_count == 1
    assert DEFAULT_PROVIDERS["secrets"].client is clients.secretsmanager()
