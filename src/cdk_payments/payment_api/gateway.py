"""The REST API: its stage, logs, error responses, the 0.1 routes and the route table's, usage plans
and API keys, and the region's API Gateway logging role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._nag import acknowledge, acknowledge_log_retention, guard, wildcard_resource_finding
from .._names import top_level_unique_id
from ..choices import PaymentApiAuthorization
from .identity import IDENTITY_HEADER
from .routes import add_routes, never_cached
from .settings import SCHEMA_FILE, PaymentApiSettings

STAGE = "v1"
ERROR_TEMPLATE = '{"error":{"code":"%s","message":%s}}'
# Gateway responses get variable substitution only (no VTL): $context.error.messageString is the
# message already quoted and escaped as a JSON string; anything else is a static JSON string.
MESSAGE_STRING = "$context.error.messageString"
# Every answer names its request (the same id as the access log's and the handler's X-Request-Id);
# throttling and 5xx answers say when to retry (RFC 9110 Retry-After: seconds, a quoted literal).
REQUEST_ID_HEADER = {"X-Request-Id": "context.requestId"}
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class Gateway:
    rest_api: apigw.RestApi
    access_log_group: logs.LogGroup

    @classmethod
    def build(cls, scope: Construct, settings: PaymentApiSettings, key: kms.IKey,
              processor: lambda_.Function) -> "Gateway":
        retention, removal = settings.log_retention, settings.removal_policy
        # A generated name, as in 0.1.0: naming it now would replace the group (and its logs) on upgrade,
        # and the region's logging role may write to every log group of the account here anyway.
        access_logs = logs.LogGroup(scope, "AccessLogs", retention=retention, encryption_key=key,
                                    removal_policy=removal)
        acknowledge_log_retention(access_logs, retention)
        api = _create_api(scope, settings, access_logs, processor)
        if settings.configure_api_gateway_account:
            # The stage enables logging, which fails until the region has the role: order them.
            api.deployment_stage.node.add_dependency(_configure_account_logging(scope, api))
        # Own the execution log group API Gateway would otherwise create unencrypted and kept forever;
        # before the stage, so that API Gateway never creates it first (the deploy would then fail).
        execution_logs = logs.LogGroup(
            scope, "ExecutionLogs", log_group_name=f"API-Gateway-Execution-Logs_{api.rest_api_id}/{STAGE}",
            retention=retention, encryption_key=key, removal_policy=removal,
        )
        api.deployment_stage.node.add_dependency(execution_logs)
        acknowledge_log_retention(execution_logs, retention)
        return cls(api, access_logs)


def _create_api(scope: Construct, settings: PaymentApiSettings, access_logs: logs.LogGroup,
                processor: lambda_.Function) -> apigw.RestApi:
    auth, cache, cors = settings.authorization, settings.cache_size_gb, settings.cors_allowed_origins
    rate, burst = settings.throttling_rate_limit, settings.throttling_burst_limit
    method_options = apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM)
    if auth is PaymentApiAuthorization.COGNITO:
        authorizer = apigw.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[settings.user_pool])
        method_options = apigw.MethodOptions(authorizer=authorizer,
                                             authorization_type=apigw.AuthorizationType.COGNITO)
    elif auth is PaymentApiAuthorization.API_KEY:
        method_options = apigw.MethodOptions(api_key_required=True)
    api = apigw.RestApi(
        scope,
        "Api",
        # The name is the ApiName dimension of every API metric: unique per stack, so two copies of
        # a stack in one region never add up in each other's alarms and dashboards.
        rest_api_name=f"{Aws.STACK_NAME}-{top_level_unique_id(scope)}",
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
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
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
    integration = apigw.LambdaIntegration(processor)
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
        "GET", apigw.LambdaIntegration(processor,
                                       cache_key_parameters=["method.request.path.payment_id", *identity])
        if cache else integration,
        request_validator=api.add_request_validator("ParameterValidator", validate_request_parameters=True),
        request_parameters={"method.request.path.payment_id": True, **{p: False for p in identity}},
    )
    listing = payments.add_method("GET", integration)  # the handler validates its query string
    _acknowledge_api(api, [post, get, listing, *add_routes(api, integration)], auth, cache)
    keys = {}
    for merchant in settings.merchants:
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
        processor.add_environment("MERCHANT_API_KEYS", Stack.of(scope).to_json_string(keys))
    return api

def _acknowledge_api(api: apigw.RestApi, methods: list[apigw.Method], auth: PaymentApiAuthorization,
                     cache: Optional[str]) -> None:
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

def _configure_account_logging(scope: Construct, api: apigw.RestApi) -> apigw.CfnAccount:
    # The region-wide role API Gateway writes execution AND access logs with: the actions of the
    # AWS-managed AmazonAPIGatewayPushToCloudWatchLogs (DescribeLogGroups included, which access
    # logging needs), on this account's log groups in this region, since every REST API here uses it.
    log_groups = Stack.of(scope).format_arn(service="logs", resource="log-group", resource_name="*",
                                           arn_format=ArnFormat.COLON_RESOURCE_NAME)
    # Inline, so that the policy is part of the role and is retained with it.
    role = iam.Role(
        scope, "ApiGatewayLoggingRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="API Gateway CloudWatch logging role for this region (retained; shared by every REST API)",
        inline_policies={"PushToCloudWatchLogs": iam.PolicyDocument(statements=[iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
                     "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
            resources=[log_groups],
        )])},
    )
    account = apigw.CfnAccount(scope, "Account", cloud_watch_role_arn=role.role_arn)
    # After the API, as CDK's own _configureCloudWatchRole orders it: in parallel with a new API and role,
    # the first deploy can fail (the role not yet usable by API Gateway).
    account.node.add_dependency(api.node.default_child)
    # Destroying this stack must not leave the region pointing at a deleted role (CDK's default too).
    for resource in (role, account):
        resource.apply_removal_policy(RemovalPolicy.RETAIN)
    acknowledge(
        role,
        "API Gateway uses one CloudWatch role per account and region for the execution and access logs "
        "of every REST API there, ours and other apps'; it gets the actions of the AWS-managed "
        "AmazonAPIGatewayPushToCloudWatchLogs on this account's log groups in this region only, inline "
        "so that the policy is retained with the role.",
        wildcard_resource_finding(role, log_groups),  # literal region and account in a placed stack
        "PCI.DSS.321-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
    )
    return account
