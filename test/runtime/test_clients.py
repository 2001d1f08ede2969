"""Every AWS client comes from runtime.clients (boto3's default session): Powertools' idempotency
layer and secrets provider would otherwise each start a session of their own on the first request."""

from __future__ import annotations

from unittest import mock

from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

from cdk_payments.runtime import api, clients, providers


def test_the_idempotency_layer_uses_the_shared_dynamodb_client(aws):
    persistence, _ = api._idempotency()
    assert persistence.client is clients.dynamodb()
    assert persistence.table_name == "payments" and persistence.key_attr == "payment_id"


def test_credentials_are_read_with_the_shared_client_and_cached(aws):
    with mock.patch.object(clients.secretsmanager(), "get_secret_value",
                           wraps=clients.secretsmanager().get_secret_value) as read:
        assert providers.credentials() == {"api_key": "sk_test_123"}
        assert providers.credentials() == {"api_key": "sk_test_123"}
    assert read.call_count == 1
    assert DEFAULT_PROVIDERS["secrets"].client is clients.secretsmanager()
