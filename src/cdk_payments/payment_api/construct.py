"""SecurePaymentApi: a secure, idempotent payment intake API and its asynchronous settlement."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping, Optional, Sequence

from aws_cdk import Annotations, ArnFormat, Aws, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .._kms import allow_services, key_for, key_policy_statements
from .._names import deployment_suffix
from .._nag import AcknowledgeGrantPolicies, acknowledge, acknowledge_log_retention, guard
from .._overrides import flag_overridden_defaults
from .._queues import dead_letter_queue, encrypted_queue
from .._topics import service_topic, warn_if_imported_topic
from .._validation import WORKLOAD_SUBNETS_HINT, PropErrors, pick
from ..choices import PaymentApiAuthorization
from ..profiles import Profile, defaults_for
from .adapter import ProviderAdapter
from .alarms import payment_alarms
from .functions import PaymentFunction, powertools_layer
from .overrides import payment_api_overrides
from .routes import add_routes, never_cached
from .waf import MANAGED_RULE_GROUPS, WINDOW_SECONDS, PaymentWebAcl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "runtime" / "payment_request.schema.json"
MERCHANT_INDEX = "by-merchant"
MERCHANT_ID = re.compile(json.loads(SCHEMA_FILE.read_text())["properties"]["merchant_id"]["pattern"])
# The processor's environment holds the merchant map; Lambda allows 4 KB for all variables.
MERCHANT_MAP_BUDGET = 2500
# The request header that identifies the caller, which the prod cache keys reads on (see _create_api).
IDENTITY_HEADER = {PaymentApiAuthorization.API_KEY: "X-Api-Key", PaymentApiAuthorization.COGNITO: "Authorization"}
PROCESSOR_TIMEOUT = Duration.seconds(10)
# What the processor does to the table: GET reads, POST claims, records the outcome, and on a failure
# deletes its claim (runtime/intake.py; test/runtime/test_intake.py records the calls).
PROCESSOR_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
HANDLER_TIMEOUT = Duration.seconds(30)
STAGE = "v1"
ERROR_TEMPLATE = '{"error":{"code":"%s","message":%s}}'
# Gateway responses get variable substitution only (no VTL): $context.error.messageString is the
# message already quoted and escaped as a JSON string; anything else is a static JSON string.
MESSAGE_STRING = "$context.error.messageString"
# Every answer names its request (the same id as the access log's and the handler's X-Request-Id);
# throttling and 5xx answers say when to retry (RFC 9110 Retry-After: seconds, a quoted literal).
REQUEST_ID_HEADER = {"X-Request-Id": "context.requestId"}
RETRY_AFTER_SECONDS = 1


DEFAULT_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


class SecurePaymentApi(Construct):
    """A REST payment API (``POST /payments``, ``GET /payments/{payment_id}``, ``GET /payments``, and
    the lifecycle: ``POST /payments/{payment_id}/capture``, ``/void``, ``/refunds``, ``GET .../refunds``)
    behind WAF, with an on-demand DynamoDB table, an encrypted SQS queue and dead-letter queue, the
    processor and event-handler Lambdas (arm64, Python 3.14, Powertools), the provider secret and alarms.

    Every request acts for the merchant of the authenticated identity, never one named in the
    request: with IAM the caller's role (``merchant_roles``), with Cognito the token's
    ``custom:merchant_id`` claim, with API keys the merchant's own key (``merchants``). An identity
    that maps to no merchant is refused (403); another merchant's payment is not found (404).

    Requests are validated by API Gateway against the JSON schema the handler also enforces;
    errors are ``{"error": {"code", "message"}}``. ``POST`` needs an ``Idempotency-Key`` header.
    The event handler settles each payment (PROCESSED, AUTHORIZED for manual capture, or FAILED) and puts
    a ``Payment Processed``, ``Payment Authorized`` or ``Payment Failed`` event (source ``cdk-payments``)
    on ``event_bus``; captures, voids and refunds put ``Payment Captured``, ``Payment Voided`` and
    ``Payment Refunded``.

    Account settings: API Gateway writes execution and access logs with one CloudWatch role per
    account and region (``AWS::ApiGateway::Account``), which every REST API in the region shares. With
    ``configure_api_gateway_account`` (the default, so that a fresh account deploys) this construct
    sets that role, and the stage waits for it. The role may write to any log group of the account
    in this region, because it serves the other APIs there too; it and the setting are retained
    when the stack is deleted, so dev and prod in one account (each setting an equivalent role)
    and a destroyed stack never leave the region pointing at a deleted role. Where a platform team
    manages the setting, pass ``configure_api_gateway_account=False``: the region must then already
    have a role that can write to the access log group and to ``API-Gateway-Execution-Logs_*``.

    Quotas: reserved concurrency is opt-in (``reserved_concurrency``) in every profile. Lambda keeps
    100 concurrent executions unreserved and new accounts have a quota of 10, so reserving N on each
    of the two functions (and then 1 on the rotation function) needs a concurrency quota of at least
    2 * N + 101: request it in Service Quotas (Lambda, Concurrent executions) first.

    Payments are authorized through ``provider_adapter`` (the sandbox by default), whose credentials
    live in ``secret``; a rotation function (the adapter issues, tests and revokes keys) rotates them
    every ``rotation_days``.

    cdk-nag acknowledgements made here, each on the construct it concerns: SigV4 or API-key methods
    are not Cognito-authorized (AwsSolutions-COG4); the Lambda proxy integration needs no backend
    client certificate (APIGWSSLEnabled); X-Ray and VPC ENI actions need ``Resource: *``; in dev,
    the API cache and AWS Backup are off for cost (with IAM authorization there is no API cache in
    any profile: see ``cache_size_gb``), and the web ACL leaves out the Known Bad Inputs group
    (checkov CKV_AWS_192: Java/Log4j patterns, the handlers are Python); reserved concurrency is off
    until you opt in; the region's API Gateway logging role may write to the region's log groups and
    keeps its policy inline (it is retained).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile = Profile.DEV,
        vpc: Optional[ec2.IVpc] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        encryption_key: Optional[kms.IKey] = None,
        existing_table: Optional[dynamodb.ITable] = None,
        alarm_topic: Optional[sns.ITopic] = None,
        event_bus: Optional[events.IEventBus] = None,
        authorization: Optional[PaymentApiAuthorization] = None,
        user_pool: Optional[cognito.IUserPool] = None,
        merchants: Optional[Sequence[str]] = None,
        merchant_roles: Optional[Mapping[str, iam.IRole]] = None,
        throttling_rate_limit: Optional[int] = None,
        throttling_burst_limit: Optional[int] = None,
        waf_rate_limit: Optional[int] = None,
        waf_logging: Optional[bool] = None,
        waf_managed_rule_groups: Optional[Sequence[str]] = None,
        memory_size: Optional[int] = None,
        reserved_concurrency: Optional[int] = None,
        max_receive_count: Optional[int] = None,
        settlement_max_concurrency: Optional[int] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        cors_allowed_origins: Optional[Sequence[str]] = None,
        cache_size_gb: Optional[str] = None,
        provider_adapter: Optional[ProviderAdapter] = None,
        rotation_function: Optional[lambda_.IFunction] = None,
        rotation_days: Optional[int] = None,
        deletion_protection: Optional[bool] = None,
        backup_plan: Optional[bool] = None,
        configure_api_gateway_account: Optional[bool] = None,
        powertools_layer_version: Optional[int] = None,
        latency_alarm_threshold: Optional[Duration] = None,
    ) -> None:
        """
        :param profile: where unset props take their defaults from. Default: Profile.DEV
        :param vpc: run both functions in this VPC's private subnets. Default: no VPC
        :param vpc_subnets: which subnets of ``vpc``; with a ``CostOptimizedVpc`` without NAT, pass
            its ``workload_subnets`` (and interface endpoints). Default: private subnets with egress
        :param encryption_key: KMS key for the table, queues, secret, logs and topic; an imported
            key's policy must already let CloudWatch Logs and CloudWatch alarms use it
            (:meth:`key_policy_statements`). Default: a new key
        :param existing_table: use this payments table (partition key ``payment_id``, GSI
            ``by-merchant`` on ``merchant_id``/``created_at``, TTL ``expiration``); then
            ``deletion_protection`` and ``backup_plan`` do not apply and raise. Default: a new table
        :param alarm_topic: where alarms go. Default: a new KMS-encrypted topic
        :param event_bus: where settlement events go. Default: the account's default bus
        :param authorization: Default: IAM
        :param user_pool: the Cognito user pool, required with ``PaymentApiAuthorization.COGNITO``
        :param merchants: merchant ids that get an API key and usage plan, each once, required
            with ``PaymentApiAuthorization.API_KEY``; a request's key identifies its merchant
        :param merchant_roles: with ``PaymentApiAuthorization.IAM``, the IAM role each merchant id
            signs its requests with (``{"merchant-1": role}``); a caller whose role session is not
            in the map is refused. Default: none, so every request is refused with 403 until you map
            merchants to roles
        :param throttling_rate_limit: stage steady-state requests per second. Default: 50
        :param throttling_burst_limit: stage burst. Default: 100
        :param waf_rate_limit: requests per IP per 5 minutes before WAF blocks it (100 to
            20,000,000). Default: the stage's rate over 5 minutes (``throttling_rate_limit`` x 300, 15,000),
            so that WAF never blocks an address the stage throttle would let through
        :param waf_logging: log WAF decisions to an ``aws-waf-logs-`` group. Default: the profile's (True)
        :param waf_managed_rule_groups: AWS managed rule groups after the rate rule, each $1/month, from
            ``AWSManagedRulesCommonRuleSet`` (XSS and more), ``AWSManagedRulesSQLiRuleSet``,
            ``AWSManagedRulesKnownBadInputsRuleSet``, ``AWSManagedRulesAmazonIpReputationList``.
            Default: the profile's (DEV: common and SQLi, PROD: all four)
        :param memory_size: MB for both functions, 128 to 10240. Default: 512
        :param reserved_concurrency: per function (the rotation function then reserves 1); needs an
            account concurrency quota of at least 2 * reserved_concurrency + 101 (new accounts have 10).
            Default: none, in every profile
        :param max_receive_count: deliveries before a message goes to the DLQ, 1 to 1000. Default: 3
        :param settlement_max_concurrency: at most this many event handler invocations at once from the
            queue, 2 to 1000; the rest wait in the queue, so a backlog cannot take the concurrency the
            API needs (a new account has 10 in all). Default: 5
        :param log_retention: for every log group. Default: the profile's (DEV: 1 month, PROD: 1 year)
        :param cors_allowed_origins: turn CORS on for these origins. Default: CORS off
        :param cache_size_gb: API Gateway cache size (``0.5``, ``1.6``, ``6.1``...), or ``""`` for none;
            ``GET /payments/{payment_id}`` is cached per caller credential, so not with IAM (every
            SigV4 signature differs). Default: the profile's (DEV: none, PROD: 0.5; none with IAM)
        :param provider_adapter: the payment provider adapter the functions load:
            ``ProviderAdapter.http()``, or your own with ``ProviderAdapter.from_directory(directory,
            module=..., class_name=...)``, bundled into the functions' asset. Default: ``ProviderAdapter.sandbox()``
        :param rotation_function: a Lambda that rotates the provider secret instead of the built-in one,
            which delegates to ``provider_adapter``. Default: the built-in rotation function
        :param rotation_days: rotation interval, 1 to 365. Default: 30
        :param deletion_protection: on the table. Default: the profile's (DEV: False, PROD: True)
        :param backup_plan: daily AWS Backup of the table kept 35 days. Default: the profile's
        :param configure_api_gateway_account: set the region's API Gateway CloudWatch role, which
            execution and access logging need (one per account and region, shared by every REST API
            there; retained on delete). Default: True
        :param powertools_layer_version: pin this version of the AWS-published Powertools layer.
            Default: the layer of the Powertools release the library is tested with
            (``POWERTOOLS_VERSION``), resolved from AWS's public SSM parameter at deploy time
        :param latency_alarm_threshold: p99 latency that alarms. Default: 2 seconds
        """
        super().__init__(scope, id)
        defaults = defaults_for(profile).payment_api
        auth = pick(authorization, defaults.authorization)
        self._validate(locals())
        flag_overridden_defaults(self, payment_api_overrides(defaults, dict(
            waf_managed_rule_groups=waf_managed_rule_groups, waf_logging=waf_logging, waf_rate_limit=waf_rate_limit,
            throttling_rate_limit=throttling_rate_limit, throttling_burst_limit=throttling_burst_limit,
            deletion_protection=deletion_protection, backup_plan=backup_plan, log_retention=log_retention,
            cors_allowed_origins=cors_allowed_origins, rotation_days=rotation_days,
            configure_api_gateway_account=configure_api_gateway_account)))
        retention = pick(log_retention, defaults.log_retention)
        removal = defaults.removal_policy

        self._encryption_key = key_for(self, encryption_key, purpose="payment data", logs=True)
        key = self._encryption_key
        self._table = existing_table or self._create_table(defaults, deletion_protection, backup_plan)
        imported = existing_table is not None and not isinstance(existing_table, (dynamodb.Table, dynamodb.TableV2))
        if imported and existing_table.encryption_key is None:
            Annotations.of(self).add_warning_v2(
                "cdk-payments:importedTableKey",
                "existing_table names no encryption key, so the functions are granted none: if the table is "
                "encrypted with a customer managed KMS key, import it with dynamodb.Table.from_table_attributes("
                "table_arn=..., encryption_key=key, global_indexes=['by-merchant']) so they may use it.")
        self._dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", key, holds="payments that failed settlement max_receive_count times and "
            "failed asynchronous invocations (the DeadLetters alarm fires)", redrive_queue=True)
        self._queue = encrypted_queue(
            self,
            "Queue",
            key,
            visibility_timeout=Duration.seconds(HANDLER_TIMEOUT.to_seconds() * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self._dead_letter_queue,
                                                  max_receive_count=pick(max_receive_count, defaults.max_receive_count)),
        )
        self._secret = secretsmanager.Secret(
            self,
            "ProviderSecret",
            description="Payment provider credentials (set api_key after deployment)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"provider": "sandbox"}),
                generate_string_key="api_key",
                exclude_punctuation=True,
            ),
        )
        self._event_bus = event_bus or events.EventBus.from_event_bus_name(self, "DefaultBus", "default")

        adapter = provider_adapter or ProviderAdapter.sandbox()
        layer = powertools_layer(self, pick(powertools_layer_version, defaults.powertools_layer_version))
        common = dict(
            code=adapter.code(), layer=layer, key=key, memory_size=pick(memory_size, defaults.memory_size), log_retention=retention,
            removal_policy=removal, reserved_concurrency=pick(reserved_concurrency, defaults.reserved_concurrency),
            dead_letter_queue=self._dead_letter_queue, vpc=vpc,
            vpc_subnets=pick(vpc_subnets, DEFAULT_SUBNETS) if vpc else None,
        )
        processor = PaymentFunction(
            self, "Processor", handler="runtime.api.handler", description="cdk-payments payment API",
            timeout=PROCESSOR_TIMEOUT,
            environment={"TABLE_NAME": self._table.table_name, "QUEUE_URL": self._queue.queue_url,
                         "EVENT_BUS_NAME": self._event_bus.event_bus_name,
                         "PROVIDER_SECRET_ARN": self._secret.secret_arn, **adapter.environment,
                         **self._merchant_environment(auth, merchant_roles)},
            **common,
        )
        handler = PaymentFunction(
            self, "EventHandler", handler="runtime.events.handler", description="cdk-payments settlement",
            timeout=HANDLER_TIMEOUT,
            environment={"TABLE_NAME": self._table.table_name, "EVENT_BUS_NAME": self._event_bus.event_bus_name,
                         "PROVIDER_SECRET_ARN": self._secret.secret_arn, **adapter.environment},
            **common,
        )
        self._processor, self._event_handler = processor.function, handler.function
        self._grant_least_privilege()
        self._rotation_function = rotation_function or self._create_rotation_function(adapter, common)
        # Not at deployment: the generated api_key is a placeholder until you store the provider's key.
        self._secret.add_rotation_schedule(
            "Rotation", rotation_lambda=self._rotation_function, rotate_immediately_on_update=False,
            automatically_after=Duration.days(pick(rotation_days, defaults.rotation_days)),
        )
        if rotation_function is None:
            self._scope_rotation_permission()
        self._event_handler.add_event_source(
            sources.SqsEventSource(self._queue, batch_size=10, max_batching_window=Duration.seconds(1),
                                   report_batch_item_failures=True,
                                   max_concurrency=pick(settlement_max_concurrency,
                                                        defaults.settlement_max_concurrency))
        )
        for mapping in self._event_handler.node.children:
            if isinstance(mapping, lambda_.EventSourceMapping):
                acknowledge(
                    mapping,
                    "SQS event source mappings take no on-failure destination: failed messages go to the "
                    "queue's own dead-letter queue after max_receive_count deliveries, and that DLQ alarms.",
                    "Serverless-LambdaEventSourceMappingDestination",
                )

        # A generated name, as in 0.1.0: naming it now would replace the group (and its logs) on upgrade,
        # and the region's logging role may write to every log group of the account here anyway.
        self._access_log_group = logs.LogGroup(self, "AccessLogs", retention=retention, encryption_key=key,
                                               removal_policy=removal)
        acknowledge_log_retention(self._access_log_group, retention)
        # Reads are cached per caller credential; SigV4 signatures differ on every request (and can
        # travel in the query string), so with IAM a cache could serve nobody safely: none.
        cache = None if auth is PaymentApiAuthorization.IAM else pick(cache_size_gb, defaults.cache_size_gb) or None
        rate = pick(throttling_rate_limit, defaults.throttling_rate_limit)
        self._rest_api = self._create_api(
            auth=auth, user_pool=user_pool, merchants=merchants or [], cors=cors_allowed_origins, cache=cache,
            rate=rate, burst=pick(throttling_burst_limit, defaults.throttling_burst_limit),
        )
        if pick(configure_api_gateway_account, defaults.configure_api_gateway_account):
            # The stage enables logging, which fails until the region has the role: order them.
            self._rest_api.deployment_stage.node.add_dependency(self._configure_account_logging())
        # Own the execution log group API Gateway would otherwise create unencrypted and kept forever;
        # before the stage, so that API Gateway never creates it first (the deploy would then fail).
        execution_logs = logs.LogGroup(
            self, "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self._rest_api.rest_api_id}/{STAGE}",
            retention=retention, encryption_key=key, removal_policy=removal,
        )
        self._rest_api.deployment_stage.node.add_dependency(execution_logs)
        acknowledge_log_retention(execution_logs, retention)

        acl = PaymentWebAcl(
            self, "Waf", stage_arn=self._rest_api.deployment_stage.stage_arn,
            # Per IP, no lower than the stage allows everyone: one NAT address may carry a merchant's whole traffic.
            rate_limit=pick(waf_rate_limit, defaults.waf_rate_limit) or rate * WINDOW_SECONDS,
            logging=pick(waf_logging, defaults.waf_logging),
            managed_rule_groups=tuple(pick(waf_managed_rule_groups, defaults.waf_managed_rule_groups)),
            key=key, log_retention=retention, removal_policy=removal,
        )
        self._web_acl, self._waf_log_group = acl.web_acl, acl.log_group

        warn_if_imported_topic(self, alarm_topic, "alarm_topic", ["cloudwatch.amazonaws.com"])
        self._alarm_topic = alarm_topic or self._create_topic(key)
        self._alarms = payment_alarms(
            self, api=self._rest_api, functions={"Processor": self._processor, "EventHandler": self._event_handler},
            queue=self._queue, dead_letter_queue=self._dead_letter_queue, table=self._table, index_name=MERCHANT_INDEX,
            topic=self._alarm_topic,
            latency_threshold=pick(latency_alarm_threshold, defaults.latency_alarm_threshold),
            max_message_age=Duration.minutes(5),
        )
        AcknowledgeGrantPolicies.apply(self)

    # -- grants --------------------------------------------------------------------------------------
    def grant_invoke(self, grantee: iam.IGrantable, *, methods: Optional[Sequence[str]] = None) -> iam.Grant:
        """Let ``grantee`` call this API's deployed stage (``execute-api:Invoke``), on its routes only.

        With IAM authorization a caller also needs a merchant: map its role in ``merchant_roles``.
        A role in another account (a merchant's own backend) is granted there: give it this policy
        (``execute-api:Invoke`` on ``invoke_arns()``) and map its ARN in ``merchant_roles``.

        :param grantee: the principal that calls the API (a role a merchant's backend assumes).
        :param methods: HTTP methods to allow, such as ``["GET"]``. Default: every method of the API
        """
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["execute-api:Invoke"],
                                           resource_arns=self.invoke_arns(methods=methods))
        if isinstance(grantee, iam.Role):  # the stage's routes are a wildcard, as every grant's are
            AcknowledgeGrantPolicies.apply(grantee)
        return grant

    def invoke_arns(self, *, methods: Optional[Sequence[str]] = None) -> list[str]:
        """The ``execute-api`` ARNs of this API's stage for ``methods`` (default: every method), on
        every path: what ``grant_invoke`` allows."""
        allowed = sorted({m.upper() for m in methods}) if methods else ["*"]
        errors = PropErrors("SecurePaymentApi.grant_invoke")
        for method in allowed:
            errors.check_choice(method, "methods", ["*", "GET", "POST", "PUT", "PATCH", "DELETE"])
        errors.raise_if_any()
        stage = self._rest_api.deployment_stage
        return [stage.rest_api.arn_for_execute_api(method, "/*", stage.stage_name) for method in allowed]

    # -- validation ------------------------------------------------------------------------------
    @staticmethod
    def _validate(props: dict) -> None:
        errors = PropErrors("SecurePaymentApi")
        errors.check_enum(props["authorization"], "authorization", PaymentApiAuthorization)
        for prop, interface, attribute in (
            ("vpc", "ec2.IVpc", "vpc_id"), ("encryption_key", "kms.IKey", "key_arn"),
            ("existing_table", "dynamodb.ITable", "table_name"), ("alarm_topic", "sns.ITopic", "topic_arn"),
            ("event_bus", "events.IEventBus", "event_bus_name"), ("user_pool", "cognito.IUserPool", "user_pool_id"),
            ("rotation_function", "lambda.IFunction", "function_arn"),
        ):
            errors.check_implements(props[prop], prop, interface, attribute, required=False)
        errors.check_type(props["vpc_subnets"], "vpc_subnets", ec2.SubnetSelection)
        adapter = props["provider_adapter"]
        if errors.check_type(adapter, "provider_adapter", ProviderAdapter) and adapter is not None:
            for problem in adapter.problems():
                errors.add("provider_adapter", problem)
        errors.check_type(props["latency_alarm_threshold"], "latency_alarm_threshold", Duration)
        errors.check_sequence(props["cors_allowed_origins"], "cors_allowed_origins", str, "['https://shop.example']")
        errors.check_sequence(props["merchants"], "merchants", str, "['merchant-1', 'merchant-2']")
        if errors.check_sequence(props["waf_managed_rule_groups"], "waf_managed_rule_groups", str,
                                 "['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesSQLiRuleSet']"):
            for group in props["waf_managed_rule_groups"] or ():
                errors.check_choice(group, "waf_managed_rule_groups", MANAGED_RULE_GROUPS)
        errors.check_enum(props["log_retention"], "log_retention", logs.RetentionDays)
        errors.check_int(props["throttling_rate_limit"], "throttling_rate_limit", minimum=1, maximum=10_000)
        errors.check_int(props["throttling_burst_limit"], "throttling_burst_limit", minimum=1, maximum=5_000)
        errors.check_int(props["waf_rate_limit"], "waf_rate_limit", minimum=100, maximum=20_000_000)
        errors.check_int(props["memory_size"], "memory_size", minimum=128, maximum=10_240)
        errors.check_int(props["reserved_concurrency"], "reserved_concurrency", minimum=1, maximum=1000)
        errors.check_int(props["max_receive_count"], "max_receive_count", minimum=1, maximum=1000)
        errors.check_int(props["settlement_max_concurrency"], "settlement_max_concurrency", minimum=2, maximum=1000)
        errors.check_int(props["rotation_days"], "rotation_days", minimum=1, maximum=365)
        errors.check_int(props["powertools_layer_version"], "powertools_layer_version", minimum=1)
        for flag in ("waf_logging", "deletion_protection", "backup_plan", "configure_api_gateway_account"):
            errors.check_type(props[flag], flag, bool)
        auth = props["auth"]
        if errors.check_choice(props["cache_size_gb"], "cache_size_gb",
                               ["", "0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"]):
            errors.check(not props["cache_size_gb"] or auth is not PaymentApiAuthorization.IAM, "cache_size_gb",
                         "has no effect with PaymentApiAuthorization.IAM: reads are cached per caller credential, "
                         "and every SigV4 signature differs; leave it unset or use COGNITO or API_KEY")
        errors.check(auth is not PaymentApiAuthorization.COGNITO or props["user_pool"] is not None, "user_pool",
                     "is required with PaymentApiAuthorization.COGNITO")
        errors.check(props["user_pool"] is None or auth is PaymentApiAuthorization.COGNITO, "user_pool",
                     "is used only with PaymentApiAuthorization.COGNITO")
        merchants = props["merchants"]
        errors.check(auth is not PaymentApiAuthorization.API_KEY or bool(merchants), "merchants",
                     "at least one merchant id is required with PaymentApiAuthorization.API_KEY")
        errors.check(not merchants or auth is PaymentApiAuthorization.API_KEY, "merchants",
                     "is used only with PaymentApiAuthorization.API_KEY")
        if isinstance(merchants, (list, tuple)):
            SecurePaymentApi._check_merchant_ids(errors, "merchants", merchants)
            errors.check(len(set(merchants)) == len(merchants), "merchants", "must not repeat a merchant id")
            # Each entry of {"merchant": "10-char key id"} takes its id's length plus 16 bytes of JSON.
            size = sum(len(str(m)) + 16 for m in merchants)
            errors.check(size <= MERCHANT_MAP_BUDGET, "merchants",
                         f"the merchant-to-key map must fit the function's environment ({size} of at most "
                         f"{MERCHANT_MAP_BUDGET} bytes); use PaymentApiAuthorization.COGNITO for more merchants")
        roles = props["merchant_roles"]
        errors.check(not roles or auth is PaymentApiAuthorization.IAM, "merchant_roles",
                     "is used only with PaymentApiAuthorization.IAM")
        if roles is not None and errors.check(isinstance(roles, Mapping) and all(hasattr(r, "role_arn")
                                                                                   for r in roles.values()),
                                              "merchant_roles", "expected a mapping {merchant id: iam.IRole}"):
            SecurePaymentApi._check_merchant_ids(errors, "merchant_roles", list(roles))
            arns = [r.role_arn for r in roles.values()]
            known = [a for a in arns if not Token.is_unresolved(a)]
            errors.check(len({id(r) for r in roles.values()}) == len(roles) and len(set(known)) == len(known),
                         "merchant_roles", "each role identifies one merchant: give each merchant its own role")
            # A role ARN known only at deploy time is at most 31 + 64 characters without a path.
            size = sum(len(str(m)) + 6 + (95 if Token.is_unresolved(a) else len(a)) for m, a in zip(roles, arns, strict=True))
            errors.check(size <= MERCHANT_MAP_BUDGET, "merchant_roles",
                         f"the merchant-to-role map must fit the function's environment (about {size} of at most "
                         f"{MERCHANT_MAP_BUDGET} bytes); use PaymentApiAuthorization.COGNITO for more merchants")
        errors.check(props["vpc_subnets"] is None or props["vpc"] is not None, "vpc_subnets", "needs vpc")
        errors.check_unique(merchants, "merchants")
        origins = props["cors_allowed_origins"]
        if errors.check(not isinstance(origins, (list, tuple)) or all(isinstance(o, str) for o in origins),
                        "cors_allowed_origins", f"must be origins such as 'https://shop.example' (or '*'), got {origins!r}"):
            for origin in origins or () if isinstance(origins, (list, tuple)) else ():
                if origin != "*":
                    errors.check_format(origin, "cors_allowed_origins", "origin")
        errors.check_subnets(props["vpc"], pick(props["vpc_subnets"], DEFAULT_SUBNETS), WORKLOAD_SUBNETS_HINT)
        existing = "existing_table"
        if props[existing] is not None:
            why = "the table is yours, so its settings are too"
            errors.check_not_with(props["deletion_protection"], "deletion_protection", existing, why)
            errors.check_not_with(props["backup_plan"], "backup_plan", existing, why + " (back it up where it is defined)")
        rate, burst = props["throttling_rate_limit"], props["throttling_burst_limit"]
        if isinstance(rate, int) and isinstance(burst, int):
            errors.check(burst >= rate, "throttling_burst_limit", f"must be at least throttling_rate_limit ({rate})")
        errors.raise_if_any()

    @staticmethod
    def _check_merchant_ids(errors: PropErrors, prop: str, merchant_ids: Sequence[object]) -> None:
        bad = [m for m in merchant_ids if not (isinstance(m, str) and MERCHANT_ID.fullmatch(m))]
        errors.check(not bad, prop, f"merchant ids are 1 to 64 of letters, digits, - and _; got {bad!r}")

    # -- resources -------------------------------------------------------------------------------
    def _merchant_environment(self, auth: PaymentApiAuthorization, merchant_roles) -> dict[str, str]:
        """How the processor maps an identity to a merchant (API keys are added in _create_api)."""
        environment = {"AUTH_MODE": auth.value, "CURSOR_KEY_ARN": self._encryption_key.key_arn}
        if auth is PaymentApiAuthorization.IAM:
            roles = {merchant: role.role_arn for merchant, role in (merchant_roles or {}).items()}
            environment["MERCHANT_ROLES"] = Stack.of(self).to_json_string(roles)
            if not roles:
                Annotations.of(self).add_warning_v2(
                    "cdk-payments:noMerchantRoles",
                    "SecurePaymentApi with IAM authorization and no merchant_roles refuses every request "
                    "with 403 merchant_not_mapped: map each merchant id to the IAM role it calls with.",
                )
        return environment

    def _create_table(self, defaults, deletion_protection, backup_plan) -> dynamodb.Table:
        # Table, not TableV2: TableV2 cannot render a customer-managed key in a region-agnostic stack.
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="payment_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self._encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=pick(deletion_protection, defaults.deletion_protection),
            time_to_live_attribute="expiration",  # Powertools idempotency records (before issue 23) expire; payments never
            removal_policy=defaults.removal_policy,
        )
        table.add_global_secondary_index(
            index_name=MERCHANT_INDEX,
            partition_key=dynamodb.Attribute(name="merchant_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="created_at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["amount", "currency", "status"],
        )
        if pick(backup_plan, defaults.backup_plan):
            # Kept on delete for its recovery points (not after a failed first create: it holds none). AWS
            # requires a name: the path's, ending in the stack ID's suffix, so a kept vault never blocks the
            # next deploy of the same stack.
            vault = backup.BackupVault(
                self, "BackupVault", encryption_key=self._encryption_key,
                backup_vault_name=f"{Names.unique_resource_name(self, max_length=41, separator='-')}-{deployment_suffix()}",
                removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
            plan = backup.BackupPlan.daily35_day_retention(self, "BackupPlan", vault)
            # Named after its path (so after the stack), not CDK's literal "BackupPlan" for every copy.
            plan.node.default_child.add_property_override(
                "BackupPlan.BackupPlanName", Names.unique_resource_name(plan, max_length=50, separator="-"))
            selection = plan.add_selection("Table", resources=[backup.BackupResource.from_dynamo_db_table(table)])
            acknowledge(
                selection,
                "AWS Backup's service role uses the AWS-managed AWSBackupServiceRolePolicyForBackup, the "
                "documented policy that AWS keeps current as Backup adds resource types.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]",
            )
        else:
            acknowledge(
                table,
                "No AWS Backup plan in the dev profile, for cost: point-in-time recovery (on) restores any "
                "second of the last 35 days. The prod profile adds a daily backup plan.",
                "NIST.800.53.R5-DynamoDBInBackupPlan",
                "PCI.DSS.321-DynamoDBInBackupPlan",
            )
        return table

    def _grant_least_privilege(self) -> None:
        # Every action here is exercised by a recorded call (tools/grant_mutation.py), except what the
        # L2 grants bundle, kept because grants track CDK's own fixes: grant_send_messages adds
        # sqs:GetQueueAttributes/GetQueueUrl, grant_encrypt_decrypt kms:Encrypt/ReEncrypt*/GenerateDataKey*
        # for the roles that only decrypt, grant_read secretsmanager:DescribeSecret, grant_consume (the
        # event source) sqs:ChangeMessageVisibility/GetQueueUrl, the rotation schedule GetRandomPassword.
        # All are on the named resources only (GetRandomPassword has no resource).
        self._table.grant(self._processor, *PROCESSOR_TABLE_ACTIONS)
        # GET /payments queries the merchant index only (an imported table's grant would not name it).
        iam.Grant.add_to_principal(grantee=self._processor, actions=["dynamodb:Query"],
                                   resource_arns=[f"{self._table.table_arn}/index/{MERCHANT_INDEX}"])
        self._table.grant(self._event_handler, "dynamodb:GetItem", "dynamodb:UpdateItem")
        for function in (self._processor, self._event_handler):
            self._encryption_key.grant_encrypt_decrypt(function)
        self._queue.grant_send_messages(self._processor)
        for function in (self._processor, self._event_handler):  # the event handler resolves UNKNOWN outcomes
            self._secret.grant_read(function)
        # The event handler announces settlements; the processor captures, voids and refunds.
        for function in (self._processor, self._event_handler):
            self._event_bus.grant_put_events_to(function)

    def _create_rotation_function(self, adapter: ProviderAdapter, common: dict) -> lambda_.Function:
        # In the same subnets as the processor (the provider sees one egress), reaching Secrets Manager
        # through the NAT or the VPC's interface endpoint. One rotation at a time is all it ever runs.
        rotation = PaymentFunction(
            self, "SecretRotation", handler="runtime.rotation.handler", description="cdk-payments secret rotation",
            timeout=HANDLER_TIMEOUT, environment=adapter.environment,
            **{**common, "reserved_concurrency": 1 if common["reserved_concurrency"] else None},
        )
        self._encryption_key.grant_encrypt_decrypt(rotation.function)
        acknowledge(
            rotation.role,
            "Besides X-Ray and the VPC ENI actions, secretsmanager:GetRandomPassword, which CDK's rotation "
            "schedule grants and which supports no resource-level scoping; the secret actions name the secret.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        return rotation.function

    def _scope_rotation_permission(self) -> None:
        # CDK lets secretsmanager.amazonaws.com invoke the function for any secret; only this one may.
        for child in self._rotation_function.node.children:
            if isinstance(child, lambda_.CfnPermission) and child.principal == "secretsmanager.amazonaws.com":
                child.source_arn = self._secret.secret_arn

    def _create_api(self, *, auth, user_pool, merchants, cors, cache, rate, burst) -> apigw.RestApi:
        method_options = apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM)
        if auth is PaymentApiAuthorization.COGNITO:
            authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])
            method_options = apigw.MethodOptions(authorizer=authorizer,
                                                 authorization_type=apigw.AuthorizationType.COGNITO)
        elif auth is PaymentApiAuthorization.API_KEY:
            method_options = apigw.MethodOptions(api_key_required=True)
        api = apigw.RestApi(
            self,
            "Api",
            # The name is the ApiName dimension of every API metric: unique per stack, so two copies of
            # a stack in one region never add up in each other's alarms and dashboards.
            rest_api_name=f"{Aws.STACK_NAME}-{Names.unique_id(self)}",
            description="cdk-payments payment API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,
            default_method_options=method_options,
            default_cors_preflight_options=apigw.CorsOptions(allow_origins=list(cors),
                                                             allow_headers=["Content-Type", "Authorization",
                                                                            "Idempotency-Key", "X-Amz-Date",
                                                                            "X-Amz-Security-Token", "X-Api-Key"])
            if cors else None,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self._access_log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies never reach execution logs
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=rate,
                throttling_burst_limit=burst,
                cache_cluster_enabled=bool(cache),
                cache_cluster_size=cache,
                caching_enabled=bool(cache),
                cache_data_encrypted=bool(cache),
                cache_ttl=Duration.seconds(5) if cache else None,  # short: payment status changes
                # Never cache the intake (every POST must reach the handler and its idempotency) nor
                # the list (its pages depend on the caller and the query string).
                method_options={"/payments/POST": apigw.MethodDeploymentOptions(caching_enabled=False),
                                "/payments/GET": apigw.MethodDeploymentOptions(caching_enabled=False), **never_cached()}
                if cache else None,
            ),
        )
        retry = {"Retry-After": f"'{RETRY_AFTER_SECONDS}'"}
        for response_type, status, code, message, headers in (
            (apigw.ResponseType.BAD_REQUEST_BODY, "400", "invalid_request", MESSAGE_STRING, {}),
            (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "missing_idempotency_key",
             '"the Idempotency-Key header is required"', {}),
            (apigw.ResponseType.WAF_FILTERED, "403", "forbidden", '"request blocked"', {}),
            (apigw.ResponseType.THROTTLED, "429", "throttled", '"too many requests; retry later"', retry),
            (apigw.ResponseType.DEFAULT_4_XX, None, "request_refused", MESSAGE_STRING, {}),
            (apigw.ResponseType.DEFAULT_5_XX, None, "internal_error", MESSAGE_STRING, retry),
        ):
            api.add_gateway_response(
                response_type.response_type, type=response_type, status_code=status,
                response_headers={**REQUEST_ID_HEADER, **headers},
                templates={"application/json": ERROR_TEMPLATE % (code, message)},
            )

        model = api.add_model(
            "CreatePaymentRequest",
            content_type="application/json",
            schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT),
        )
        # The exact schema the handler validates with, from the one file both read.
        model.node.default_child.add_property_override("Schema", json.loads(SCHEMA_FILE.read_text()))
        integration = apigw.LambdaIntegration(self._processor)
        payments = api.root.add_resource("payments")
        post = payments.add_method(
            "POST", integration,
            request_validator=api.add_request_validator("BodyValidator", validate_request_body=True,
                                                        validate_request_parameters=True),
            request_models={"application/json": model},
            request_parameters={"method.request.header.Idempotency-Key": True},
        )
        # A cached read is keyed on the payment id AND the caller's credential, so one merchant's
        # cached answer is never served to another (IAM: no cache, see __init__).
        identity = [f"method.request.header.{IDENTITY_HEADER[auth]}"] if cache else []
        get = payments.add_resource("{payment_id}").add_method(
            "GET", apigw.LambdaIntegration(self._processor,
                                           cache_key_parameters=["method.request.path.payment_id", *identity])
            if cache else integration,
            request_validator=api.add_request_validator("ParameterValidator", validate_request_parameters=True),
            request_parameters={"method.request.path.payment_id": True, **{p: False for p in identity}},
        )
        listing = payments.add_method("GET", integration)  # the handler validates its query string
        self._acknowledge_api(api, [post, get, listing, *add_routes(api, integration)], auth, cache)
        keys = {}
        for merchant in merchants:
            plan = api.add_usage_plan(
                f"Plan{merchant}", name=f"{merchant}",
                throttle=apigw.ThrottleSettings(rate_limit=rate, burst_limit=burst),
                api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
            )
            # What api.add_api_key creates (same id), minus the legacy stage link: the usage plan binds
            # the key to the stage, and the processor's environment can then name the key's id.
            key = apigw.ApiKey(api, f"Key{merchant}")
            plan.add_api_key(key)
            keys[merchant] = key.key_id
        if auth is PaymentApiAuthorization.API_KEY:
            # The key id API Gateway reports in the request context identifies the merchant.
            self._processor.add_environment("MERCHANT_API_KEYS", Stack.of(self).to_json_string(keys))
        return api

    def _acknowledge_api(self, api, methods, auth, cache) -> None:
        for method in methods:  # its Lambda permissions are its children
            acknowledge(
                method,
                "API Gateway may invoke the processor only through this API's stage, method and path (SourceArn, "
                "an execute-api ARN CDK builds with Fn::Join); the control accepts only a literal or a Ref there.",
                guard("lambda_function_public_access_prohibited_check"),
            )
        if auth is not PaymentApiAuthorization.COGNITO:
            for method in methods:
                acknowledge(
                    method,
                    f"Authorization is {auth.name} as configured (authorization prop): SigV4 IAM by default, "
                    "which authenticates every request; Cognito is one option among three.",
                    "AwsSolutions-COG4",
                )
        if auth is PaymentApiAuthorization.API_KEY:
            for method in methods:
                acknowledge(
                    method,
                    "The user chose PaymentApiAuthorization.API_KEY: per-merchant API keys and usage plans "
                    "identify callers and cap their traffic; use IAM or COGNITO to authenticate them.",
                    "AwsSolutions-APIG4",
                    "NIST.800.53.R5-APIGWAuthorization",
                    "PCI.DSS.321-APIGWAuthorization",
                )
        stage = api.deployment_stage
        acknowledge(
            stage,
            "The only backend is the processor Lambda, invoked through the signed Lambda API; client "
            "certificates authenticate HTTP backends, which this API does not have.",
            "NIST.800.53.R5-APIGWSSLEnabled",
            "PCI.DSS.321-APIGWSSLEnabled",
        )
        if not cache:
            acknowledge(
                stage,
                "With IAM authorization no API Gateway cache: reads would be cached per caller credential and "
                "every SigV4 signature differs, so a cache could only ever miss (or, keyed on less, serve one "
                "merchant's payment to another)." if auth is PaymentApiAuthorization.IAM else
                "No API Gateway cache in the dev profile, for cost (the smallest costs about $14.60/month); "
                "the prod profile turns on a 0.5 GB encrypted cache. Payments are never cached long anyway.",
                "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
                "PCI.DSS.321-APIGWCacheEnabledAndEncrypted",
                "CKV_AWS_120",
            )

    def _configure_account_logging(self) -> apigw.CfnAccount:
        # The region-wide role API Gateway writes execution AND access logs with: the actions of the
        # AWS-managed AmazonAPIGatewayPushToCloudWatchLogs (DescribeLogGroups included, which access
        # logging needs), on this account's log groups in this region, since every REST API here uses it.
        log_groups = Stack.of(self).format_arn(service="logs", resource="log-group", resource_name="*",
                                               arn_format=ArnFormat.COLON_RESOURCE_NAME)
        # Inline, so that the policy is part of the role and is retained with it.
        role = iam.Role(
            self, "ApiGatewayLoggingRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway CloudWatch logging role for this region (retained; shared by every REST API)",
            inline_policies={"PushToCloudWatchLogs": iam.PolicyDocument(statements=[iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                         "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
                resources=[log_groups],
            )])},
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        # After the API, as CDK's own _configureCloudWatchRole orders it: in parallel with a new API and role,
        # the first deploy can fail (the role not yet usable by API Gateway).
        account.node.add_dependency(self._rest_api.node.default_child)
        # Destroying this stack must not leave the region pointing at a deleted role (CDK's default too).
        for resource in (role, account):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            role,
            "API Gateway uses one CloudWatch role per account and region for the execution and access logs "
            "of every REST API there, ours and other apps'; it gets the actions of the AWS-managed "
            "AmazonAPIGatewayPushToCloudWatchLogs on this account's log groups in this region only, inline "
            "so that the policy is retained with the role.",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]",
            "PCI.DSS.321-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
        )
        return account

    def _create_topic(self, key: kms.IKey) -> sns.Topic:
        allow_services(key, "cloudwatch.amazonaws.com", scope=self)
        return service_topic(self, "AlarmTopic", key, publishers=["cloudwatch.amazonaws.com"],
                             display_name="Payment API alarms")

    # -- attributes ------------------------------------------------------------------------------
    @property
    def rest_api(self) -> apigw.RestApi:
        """The REST API; its stage is ``rest_api.deployment_stage`` (``v1``)."""
        return self._rest_api

    @property
    def table(self) -> dynamodb.ITable:
        """The payments table (created, or ``existing_table``)."""
        return self._table

    @property
    def queue(self) -> sqs.Queue:
        """The payments queue the event handler consumes."""
        return self._queue

    @property
    def dead_letter_queue(self) -> sqs.Queue:
        """Messages that exhausted their retries, and failed asynchronous invocations."""
        return self._dead_letter_queue

    @property
    def processor(self) -> lambda_.Function:
        """The API handler: validates, authorizes, records and enqueues payments."""
        return self._processor

    @property
    def event_handler(self) -> lambda_.Function:
        """The queue consumer: settles payments and publishes their events."""
        return self._event_handler

    @property
    def web_acl(self) -> wafv2.CfnWebACL:
        """The WAF v2 web ACL associated with the stage."""
        return self._web_acl

    @property
    def waf_log_group(self) -> Optional[logs.LogGroup]:
        """The ``aws-waf-logs-`` group, when WAF logging is on."""
        return self._waf_log_group

    @property
    def access_log_group(self) -> logs.LogGroup:
        """The stage's JSON access log group."""
        return self._access_log_group

    @property
    def secret(self) -> secretsmanager.Secret:
        """The provider credentials, read by the processor and the event handler, rotated by
        ``rotation_function``."""
        return self._secret

    @property
    def rotation_function(self) -> lambda_.IFunction:
        """The function that rotates ``secret`` (the built-in one, or ``rotation_function``)."""
        return self._rotation_function

    @property
    def encryption_key(self) -> kms.IKey:
        """The KMS key for the table, queues, secret, logs and alarm topic."""
        return self._encryption_key

    @property
    def alarm_topic(self) -> sns.ITopic:
        """Where the alarms go."""
        return self._alarm_topic

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The statements ``encryption_key``'s policy needs for this construct, as built: CloudWatch Logs of
        the stack's region may encrypt and decrypt, for the access, execution, WAF and function log
        groups, and, when the construct creates the alarm topic, ``cloudwatch.amazonaws.com`` may
        too, to publish alarms to it.
        Added to a key the construct owns; add them yourself to an imported key's policy (synthesis
        warns). Roles get their access through IAM grants, which need only the default key policy."""
        return key_policy_statements(self)

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """API 5XX rate and p99 latency, each function's errors and throttles, DLQ depth, oldest
        message age and table throttles."""
        return list(self._alarms)

    @property
    def event_bus(self) -> events.IEventBus:
        """Where the payment events go (``Payment Processed``, ``Failed``, ``Authorized``, ``Captured``,
        ``Voided``, ``Refunded``)."""
        return self._event_bus
