"""SecurePaymentApi: a secure, idempotent payment intake API and its asynchronous settlement.

The constructor is a recipe: the settings (props validated and resolved once), then one builder per
part, each taking this construct as its scope (so every construct id, hence every logical id, is
what 0.1 deployed) and returning what it made.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from aws_cdk import Duration, Stack, Token
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
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .._kms import allow_services, key_for, key_policy_statements
from .._nag import AcknowledgeGrantPolicies
from .._topics import warn_if_imported_topic
from .._validation import PropErrors
from ..choices import PaymentApiAuthorization, ResilienceTier
from ..profiles import Profile
from .adapter import ProviderAdapter
from .alarms import backup_failure_alerts, payment_alarms, replication_alarm, topic_for
from .credentials import provider_secret, rotate
from .domain import Domain, Routing
from .forwarding import forward_events, same_region
from .functions import FunctionDefaults
from .gateway import Gateway
from .handlers import Handlers, function_defaults
from .settings import PaymentApiProps, PaymentApiSettings
from .settlement import Settlement
from .store import MERCHANT_INDEX, Store
from .store import global_table_name as name_of_global_table
from .waf import PaymentWebAcl
from .webhooks import PaymentWebhooks


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
        webhook_endpoints: Optional[Mapping[str, str]] = None,
        webhook_rotation_days: Optional[int] = None,
        resilience: Optional[ResilienceTier] = None,
        backup_copy_vault: Optional[backup.IBackupVault] = None,
        standby_region: Optional[str] = None,
        standby_encryption_key: Optional[kms.IKey] = None,
        peer_regions: Optional[Mapping[str, kms.IKey]] = None,
        witness_region: Optional[str] = None,
        global_table_name: Optional[str] = None,
        domain_name: Optional[str] = None,
        hosted_zone: Optional[route53.IHostedZone] = None,
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
        :param webhook_endpoints: deliver each merchant's payment events as signed Standard Webhooks to its
            HTTPS endpoint (``{"merchant-1": "https://shop.example/hooks"}``), retried for 3 days, then
            dead-lettered and replayable (``webhooks``; see docs/webhooks.md). Default: no webhooks
        :param webhook_rotation_days: rotation interval of each merchant's webhook signing secret, 1 to 365
            (the old secret keeps verifying for a day). Default: 90
        :param resilience: how much of a region's loss the API survives (docs/regions.md): with
            ``ResilienceTier.BACKUP_AND_RESTORE`` the daily backup plan is on in every profile and copies
            each backup to ``backup_copy_vault``; with ``ResilienceTier.WARM_STANDBY`` (a stack in a known
            region) the table is a global table with a replica in ``standby_region``, which a second
            ``SecurePaymentApi`` there, also ``WARM_STANDBY``, serves (``existing_table=primary.replica_table(...)``);
            with ``domain_name`` the two answer under one name, the standby when the primary's health check
            fails; with ``ResilienceTier.ACTIVE_ACTIVE`` (a stack in a known region) the table is a global table
            with multi-Region strong consistency and a replica in each of ``peer_regions``, whose
            ``SecurePaymentApi``, also ``ACTIVE_ACTIVE``, serves it (``existing_table=owner.replica_table(...)``);
            every region takes payments, and with ``domain_name`` each client reaches the nearest healthy one
            (latency routing). Default: the profile's (SINGLE_REGION)
        :param backup_copy_vault: a backup vault in a second region, required with
            ``ResilienceTier.BACKUP_AND_RESTORE``. Default: none
        :param standby_region: the region of the table's replica, required with ``ResilienceTier.WARM_STANDBY``.
            Default: none
        :param standby_encryption_key: a KMS key in ``standby_region`` that encrypts the replica, required with
            ``ResilienceTier.WARM_STANDBY``; it must exist before this stack deploys (a stack of that region
            deployed first), named here by its ARN or alias ARN:
            ``kms.Key.from_key_arn(self, "StandbyKey", f"arn:aws:kms:us-west-2:{Aws.ACCOUNT_ID}:alias/payments")``.
            Default: none
        :param peer_regions: with ``ResilienceTier.ACTIVE_ACTIVE``, the other regions that serve payments, each with
            the KMS key of that region that encrypts its replica, named by ARN or alias ARN like
            ``standby_encryption_key``: two regions, or one with ``witness_region``, all three in one of DynamoDB's
            strong-consistency region sets (us-east-1, us-east-2, us-west-2; eu-west-1, eu-west-2, eu-west-3,
            eu-central-1; ap-northeast-1, ap-northeast-2, ap-northeast-3). Default: none
        :param witness_region: with ``ResilienceTier.ACTIVE_ACTIVE`` and one peer, the third region, which holds
            no replica and serves nothing: it only votes on each write, so the table keeps taking writes when one
            of the two others is lost. Default: none
        :param global_table_name: the global table's name (warm standby or active-active), which the other
            regions must know at synthesis; to move an existing table into the tier without a copy, its current name (docs/regions.md,
            "Upgrading"). Default: derived from the construct's path, unique per stack name
        :param domain_name: serve the API at ``https://<domain_name>/`` too (an ACM certificate of this region,
            validated in ``hosted_zone``, and an alias record there); with ``ResilienceTier.WARM_STANDBY`` the
            primary's and the standby's records are a Route 53 failover pair. Default: none, the execute-api URL only
        :param hosted_zone: the public hosted zone that holds ``domain_name``, such as
            ``route53.HostedZone.from_hosted_zone_attributes(self, "Zone", hosted_zone_id=..., zone_name=...)``.
            Default: none
        """
        super().__init__(scope, id)
        settings = PaymentApiSettings.resolve(self, PaymentApiProps(
            profile=profile, vpc=vpc, vpc_subnets=vpc_subnets, encryption_key=encryption_key,
            existing_table=existing_table, alarm_topic=alarm_topic, event_bus=event_bus, authorization=authorization,
            user_pool=user_pool, merchants=merchants, merchant_roles=merchant_roles,
            throttling_rate_limit=throttling_rate_limit, throttling_burst_limit=throttling_burst_limit,
            waf_rate_limit=waf_rate_limit, waf_logging=waf_logging, waf_managed_rule_groups=waf_managed_rule_groups,
            memory_size=memory_size, reserved_concurrency=reserved_concurrency, max_receive_count=max_receive_count,
            settlement_max_concurrency=settlement_max_concurrency, log_retention=log_retention,
            cors_allowed_origins=cors_allowed_origins, cache_size_gb=cache_size_gb, provider_adapter=provider_adapter,
            rotation_function=rotation_function, rotation_days=rotation_days, deletion_protection=deletion_protection,
            backup_plan=backup_plan, configure_api_gateway_account=configure_api_gateway_account,
            powertools_layer_version=powertools_layer_version, latency_alarm_threshold=latency_alarm_threshold,
            webhook_endpoints=webhook_endpoints, webhook_rotation_days=webhook_rotation_days,
            resilience=resilience, backup_copy_vault=backup_copy_vault, standby_region=standby_region,
            standby_encryption_key=standby_encryption_key, peer_regions=peer_regions, witness_region=witness_region,
            global_table_name=global_table_name,
            domain_name=domain_name, hosted_zone=hosted_zone,
        ))
        self._encryption_key = key = key_for(self, settings.encryption_key, purpose="payment data", logs=True)
        store = Store.build(self, settings, key)
        settlement = Settlement.build(self, settings, key)
        self._table, self._queue, self._dead_letter_queue = store.table, settlement.queue, settlement.dead_letter_queue
        self._secret = provider_secret(self, key)
        self._event_bus = settings.event_bus or events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        defaults = function_defaults(self, settings, key, settlement)
        handlers = Handlers.build(self, settings, defaults, store=store, settlement=settlement, secret=self._secret,
                                  bus=self._event_bus)
        self._processor, self._event_handler = handlers.processor, handlers.event_handler
        self._rotation_function = rotate(self, self._secret, given=settings.rotation_function,
                                         adapter=settings.provider_adapter, defaults=defaults,
                                         days=settings.rotation_days)
        settlement.consume_with(self._event_handler, max_concurrency=settings.settlement_max_concurrency)
        gateway = Gateway.build(self, settings, key, self._processor)
        self._rest_api, self._access_log_group = gateway.rest_api, gateway.access_log_group
        acl = PaymentWebAcl(
            self, "Waf", stage_arn=self._rest_api.deployment_stage.stage_arn, rate_limit=settings.waf_rate_limit,
            logging=settings.waf_logging, managed_rule_groups=settings.waf_managed_rule_groups, key=key,
            log_retention=settings.log_retention, removal_policy=settings.removal_policy,
        )
        self._web_acl, self._waf_log_group = acl.web_acl, acl.log_group
        self._alarm_topic = topic_for(self, settings.alarm_topic, key)
        self._alarms = payment_alarms(
            self, api=self._rest_api, functions={"Processor": self._processor, "EventHandler": self._event_handler},
            queue=self._queue, dead_letter_queue=self._dead_letter_queue, table=self._table, index_name=MERCHANT_INDEX,
            topic=self._alarm_topic, latency_threshold=settings.latency_alarm_threshold,
            max_message_age=Duration.minutes(5),
        )
        if settings.standby_region:
            self._alarms.append(replication_alarm(self, table=self._table, region=settings.standby_region,
                                                  topic=self._alarm_topic))
        self._replica_regions = tuple(settings.replica_keys)
        self._global_table_name = name_of_global_table(self, settings)
        self._domain = self._serve_domain(settings) if settings.domain_name else None
        if store.backup_plan is not None:
            warn_if_imported_topic(self, settings.alarm_topic, "alarm_topic", ["events.amazonaws.com"])
            _, waiting = backup_failure_alerts(self, table=self._table, key=key, topic=self._alarm_topic)
            self._alarms.append(waiting)
        self._webhooks = self._deliver_webhooks(settings, defaults) if settings.webhook_endpoints else None
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
        if hasattr(grantee, "node"):  # the stage's routes are a wildcard, as every grant's are
            AcknowledgeGrantPolicies.apply(grantee)
        return grant

    def forward_events(self, bus: events.IEventBus, *, id: str = "ForwardEvents") -> events.Rule:
        """Put every payment event of this API on ``bus`` too: another region's bus, such as the primary's or the
        active-active owner's (``events.EventBus.from_event_bus_arn``), whose webhooks (``webhook_endpoints``,
        with their signing secrets) and audit trail then cover the payments taken here. EventBridge retries for
        24 hours while that region is unreachable, then keeps what it could not forward in a dead-letter queue,
        alarmed on ``alarm_topic``, for a redrive.

        :param bus: the other region's event bus, imported by its ARN.
        :param id: the rule's construct id (its queue and alarm are named after it).
        """
        errors = PropErrors("SecurePaymentApi.forward_events")
        if errors.check_implements(bus, "bus", "events.IEventBus", "event_bus_arn", required=True):
            errors.check(not same_region(self, bus), "bus", "is in this stack's region: forward events to another "
                         "region's bus (in this region, add a rule on event_bus instead)")
        errors.raise_if_any()
        rule, waiting = forward_events(self, id, source=self._event_bus, destination=bus,
                                       key=self._encryption_key, topic=self._alarm_topic)
        self._alarms.append(waiting)
        return rule

    def replica_table(self, scope: Construct, *, encryption_key: kms.IKey,
                      id: str = "PaymentsReplica") -> dynamodb.ITableV2:
        """The table's replica as a stack in ``standby_region`` (or one of ``peer_regions``) sees it, for the
        ``existing_table`` of the standby (``ResilienceTier.WARM_STANDBY``) or of a peer (``ACTIVE_ACTIVE``): by
        its name, which is known at synthesis.

        :param scope: a construct in a stack of that region, deployed after this one.
        :param encryption_key: the replica's key there (the key ``standby_encryption_key`` or ``peer_regions``
            names), so that the functions there are granted its use.
        :param id: the imported table's construct id in ``scope``.
        """
        errors = PropErrors("SecurePaymentApi.replica_table")
        here = Stack.of(scope).region
        regions = self._replica_regions
        errors.check(bool(regions), "resilience", "the table has replicas only with ResilienceTier.WARM_STANDBY or "
                     "ACTIVE_ACTIVE")
        errors.check(not regions or Token.is_unresolved(here) or here in regions,
                     "scope", f"is in {here}: the replicas are in {', '.join(regions)}")
        errors.check_implements(encryption_key, "encryption_key", "kms.IKey", "key_arn", required=True)
        errors.raise_if_any()
        return dynamodb.TableV2.from_table_attributes(
            scope, id, table_name=self._global_table_name, encryption_key=encryption_key,
            global_indexes=[MERCHANT_INDEX])

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

    @property
    def webhooks(self) -> Optional[PaymentWebhooks]:
        """The webhook delivery (queue, dead-letter queue, delivery function, per-merchant secrets), when
        ``webhook_endpoints`` is set; ``webhooks.grant_replay(role)`` lets an operator replay dead letters."""
        return self._webhooks

    @property
    def domain_name(self) -> Optional[apigw.DomainName]:
        """The API Gateway domain of ``domain_name``, when set; its record is ``domain_record``."""
        return self._domain.domain_name if self._domain else None

    @property
    def domain_record(self) -> Optional[route53.ARecord]:
        """The alias record of ``domain_name`` (with warm standby, this region's half of the failover pair; with
        active-active, this region's latency record)."""
        return self._domain.record if self._domain else None

    @property
    def health_check(self) -> Optional[route53.HealthCheck]:
        """The Route 53 health check of this region's record, which follows the 5XX-rate alarm: the warm-standby
        primary's, or each active-active region's."""
        return self._domain.health_check if self._domain else None

    # -- builders ----------------------------------------------------------------------------------
    def _serve_domain(self, settings: PaymentApiSettings) -> Domain:
        routing = Routing.SIMPLE
        if settings.resilience is ResilienceTier.WARM_STANDBY:
            routing = Routing.FAILOVER_PRIMARY if settings.standby_region else Routing.FAILOVER_SECONDARY
        elif settings.resilience is ResilienceTier.ACTIVE_ACTIVE:
            routing = Routing.LATENCY
        [server_errors] = [a for a in self._alarms if a.node.id == "Api5xxRate"]
        return Domain.build(self, name=settings.domain_name, zone=settings.hosted_zone, rest_api=self._rest_api,
                            routing=routing, health_alarm=server_errors)

    def _deliver_webhooks(self, settings: PaymentApiSettings, defaults: FunctionDefaults) -> PaymentWebhooks:
        allow_services(self._encryption_key, "events.amazonaws.com", scope=self)  # the rule fills encrypted queues
        webhooks = PaymentWebhooks(
            self, "Webhooks", endpoints=settings.webhook_endpoints, event_bus=self._event_bus,
            encryption_key=self._encryption_key, alarm_topic=self._alarm_topic, function_defaults=defaults,
            rotation_days=settings.webhook_rotation_days)
        self._alarms += webhooks.alarms
        return webhooks
