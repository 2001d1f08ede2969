"""The processor (the API's handler) and the event handler (settlement), with what they share and
exactly the permissions their calls need."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .._kms import key_statement
from .functions import HANDLER_TIMEOUT, PROCESSOR_TIMEOUT, FunctionDefaults, PaymentFunction, powertools_layer
from .identity import merchant_environment
from .settings import PaymentApiSettings
from .settlement import Settlement
from .store import MERCHANT_INDEX, Store

# What grant_encrypt_decrypt allows, on a table key named by alias (DynamoDB uses it for the caller, kms:ViaService).
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
# What the processor does to the table: GET reads, POST claims, records the outcome, and on a failure
# deletes its claim (runtime/intake.py; test/runtime/test_intake.py records the calls).
PROCESSOR_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def function_defaults(scope: Construct, settings: PaymentApiSettings, key: kms.IKey,
                      settlement: Settlement) -> FunctionDefaults:
    return FunctionDefaults(
        code=settings.provider_adapter.code(), layer=powertools_layer(scope, settings.powertools_layer_version),
        key=key, memory_size=settings.memory_size, log_retention=settings.log_retention,
        removal_policy=settings.removal_policy, reserved_concurrency=settings.reserved_concurrency,
        dead_letter_queue=settlement.dead_letter_queue, vpc=settings.vpc, vpc_subnets=settings.vpc_subnets,
    )


@dataclass(frozen=True)
class Handlers:
    processor: lambda_.Function
    event_handler: lambda_.Function

    @classmethod
    def build(cls, scope: Construct, settings: PaymentApiSettings, defaults: FunctionDefaults, *, store: Store,
              settlement: Settlement, secret: secretsmanager.ISecret, bus: events.IEventBus) -> "Handlers":
        adapter = settings.provider_adapter
        processor = PaymentFunction(
            scope, "Processor", handler="runtime.api.handler", description="cdk-payments payment API",
            timeout=PROCESSOR_TIMEOUT,
            environment={"TABLE_NAME": store.table.table_name, "QUEUE_URL": settlement.queue.queue_url,
                         "EVENT_BUS_NAME": bus.event_bus_name,
                         "PROVIDER_SECRET_ARN": secret.secret_arn, **adapter.environment,
                         **merchant_environment(scope, settings, defaults.key)},
            defaults=defaults,
        )
        handler = PaymentFunction(
            scope, "EventHandler", handler="runtime.events.handler", description="cdk-payments settlement",
            timeout=HANDLER_TIMEOUT,
            environment={"TABLE_NAME": store.table.table_name, "QUEUE_URL": settlement.queue.queue_url,
                         "EVENT_BUS_NAME": bus.event_bus_name,
                         "PROVIDER_SECRET_ARN": secret.secret_arn, **adapter.environment},
            defaults=defaults,
        )
        handlers = cls(processor.function, handler.function)
        handlers._grant_least_privilege(store, settlement, secret, bus, defaults.key)
        return handlers

    def _grant_least_privilege(self, store: Store, settlement: Settlement, secret: secretsmanager.ISecret,
                               bus: events.IEventBus, key: kms.IKey) -> None:
        # Every action here is exercised by a recorded call (tools/grant_mutation.py), except what the
        # L2 grants bundle, kept because grants track CDK's own fixes: grant_send_messages adds
        # sqs:GetQueueAttributes/GetQueueUrl, grant_encrypt_decrypt kms:Encrypt/ReEncrypt*/GenerateDataKey*
        # for the roles that only decrypt, grant_read secretsmanager:DescribeSecret, grant_consume (the
        # event source) sqs:GetQueueUrl, the rotation schedule GetRandomPassword.
        # All are on the named resources only (GetRandomPassword has no resource).
        table = store.table
        table.grant(self.processor, *PROCESSOR_TABLE_ACTIONS)
        # GET /payments queries the merchant index only (an imported table's grant would not name it).
        iam.Grant.add_to_principal(grantee=self.processor, actions=["dynamodb:Query"],
                                   resource_arns=[f"{table.table_arn}/index/{MERCHANT_INDEX}"])
        table.grant(self.event_handler, "dynamodb:GetItem", "dynamodb:UpdateItem")
        table_key = table.encryption_key
        for function in (self.processor, self.event_handler):
            key.grant_encrypt_decrypt(function)
            # A table's grant leaves out its key: an existing table (a warm standby's replica) may have its own,
            # named by its alias in another stack.
            if table_key is not None and table_key is not key:
                function.add_to_role_policy(key_statement(table_key, TABLE_KEY_ACTIONS))
        settlement.queue.grant_send_messages(self.processor)
        for function in (self.processor, self.event_handler):  # the event handler resolves UNKNOWN outcomes
            secret.grant_read(function)
        # The event handler announces settlements; the processor captures, voids and refunds.
        for function in (self.processor, self.event_handler):
            bus.grant_put_events_to(function)
