from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match

from cdk_payments import CostOptimizedVpc, PaymentApiAuthorization, Profile, SecurePaymentApi
from cdk_payments.payment_api.routes import ROUTES
from cdk_payments.payment_api.settings import SCHEMA_FILE

from ..harness import synth


@pytest.fixture(scope="module")
def dev():
    holder = {}

    def build(stack):
        network = CostOptimizedVpc(stack, "Network")
        holder["api"] = SecurePaymentApi(stack, "Payments", vpc=network.vpc, vpc_subnets=network.workload_subnets)
        # A caller of the reads only, to check that grant_invoke is scoped to this API, stage and methods.
        holder["api"].grant_invoke(iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal()), methods=["get"])

    return synth(build), holder["api"]


@pytest.fixture(scope="module")
def prod():
    return synth(lambda stack: SecurePaymentApi(stack, "Payments", profile=Profile.PROD))


def functions(result):
    return {
        name: fn for name, fn in result.resources("AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler", "").startswith("runtime.")
    }


def test_snapshot(dev, template_snapshot):
    assert dev[0] == template_snapshot


def test_prod_snapshot(prod, template_snapshot):
    assert prod == template_snapshot


def test_nag_clean_in_both_profiles(dev, prod):
    assert [str(f) for f in dev[0].findings + prod.findings] == []


def test_functions_arm64_newest_python_with_owned_logs_and_powertools_layer(dev):
    result, _ = dev
    fns = functions(result)
    assert len(fns) == 3
    for fn in fns.values():
        props = fn["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.14"
        assert props["MemorySize"] == 512
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert "LogGroup" in props["LoggingConfig"]
        assert "DeadLetterConfig" in props and "VpcConfig" in props and "KmsKeyArn" in props
        (layer,) = props["Layers"]
        parameter = result.json["Parameters"][layer["Ref"]]
        assert parameter["Default"].startswith("/aws/service/powertools/python/arm64/python3.14/")
    handlers = sorted(fn["Properties"]["Handler"] for fn in fns.values())
    assert handlers == ["runtime.api.handler", "runtime.events.handler", "runtime.rotation.handler"]


def test_no_aws_managed_policies_on_function_roles(dev):
    result, _ = dev
    roles = [fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions(result).values()]
    for role in roles:
        assert "ManagedPolicyArns" not in result.json["Resources"][role]["Properties"]


def test_log_groups_encrypted_with_retention(dev):
    result, _ = dev
    groups = result.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 6  # flow logs, 2 functions, access, execution, WAF
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 30
        assert "KmsKeyId" in group["Properties"]
    names = [json.dumps(g["Properties"].get("LogGroupName", "")) for g in groups.values()]
    assert any("aws-waf-logs-" in n for n in names)
    assert any("API-Gateway-Execution-Logs_" in n for n in names)


def test_table_on_demand_with_merchant_index_pitr_ttl_and_cmk(dev):
    result, _ = dev
    result.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "payment_id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [Match.object_like({
                "IndexName": "by-merchant",
                "KeySchema": [{"AttributeName": "merchant_id", "KeyType": "HASH"},
                              {"AttributeName": "created_at", "KeyType": "RANGE"}],
            })],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "DeletionProtectionEnabled": False,
        },
    )


def test_queue_with_dlq_encrypted_and_ssl_only(dev):
    result, _ = dev
    queues = result.resources("AWS::SQS::Queue")
    assert len(queues) == 2
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert main["Properties"]["VisibilityTimeout"] == 180
    assert all("KmsMasterKeyId" in q["Properties"] for q in queues.values())
    assert len(result.resources("AWS::SQS::QueuePolicy")) == 2
    result.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 10},
    )


def test_api_routes_validation_logging_tracing_throttling(dev):
    result, _ = dev
    methods = result.resources("AWS::ApiGateway::Method")
    verbs = sorted(m["Properties"]["HttpMethod"] for m in methods.values())
    # GET /payments/{payment_id}, GET /payments, GET .../refunds; POST /payments, .../capture, void, refunds
    assert verbs == ["GET"] * 3 + ["POST"] * 4
    assert all(m["Properties"]["AuthorizationType"] == "AWS_IAM" for m in methods.values())
    post = next(m for m in methods.values() if "CreatePaymentRequest" in json.dumps(m["Properties"]))
    assert post["Properties"]["RequestParameters"] == {"method.request.header.Idempotency-Key": True}
    assert "RequestValidatorId" in post["Properties"]
    result.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"Format": Match.string_like_regexp("requestId")}),
            "MethodSettings": [Match.object_like({
                "LoggingLevel": "ERROR", "DataTraceEnabled": False, "ThrottlingRateLimit": 50,
                "ThrottlingBurstLimit": 100,
            })],
        },
    )
    (model,) = [m for n, m in result.resources("AWS::ApiGateway::Model").items() if "CreatePaymentRequest" in n]
    assert model["Properties"]["Schema"] == json.loads(SCHEMA_FILE.read_text())
    responses = result.resources("AWS::ApiGateway::GatewayResponse")
    assert len(responses) == 6
    for response in responses.values():
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        assert template.startswith('{"error":{"code":')
        # every gateway answer names its request, as the handler's do
        assert response["Properties"]["ResponseParameters"]["gatewayresponse.header.X-Request-Id"] == (
            "context.requestId")
    retry = {r["Properties"]["ResponseType"]: r["Properties"]["ResponseParameters"].get(
        "gatewayresponse.header.Retry-After") for r in responses.values()}
    assert retry == {"BAD_REQUEST_BODY": None, "BAD_REQUEST_PARAMETERS": None, "WAF_FILTERED": None,
                     "THROTTLED": "'1'", "DEFAULT_4XX": None, "DEFAULT_5XX": "'1'"}


def _waf_rules(result):
    acl = next(iter(result.resources("AWS::WAFv2::WebACL").values()))["Properties"]
    return {r["Name"]: r for r in acl["Rules"]}


def test_waf_rules_and_redacted_logging(dev, prod):
    result, _ = dev
    rules = _waf_rules(result)
    # The stage lets 50 requests a second through: WAF blocks one address only beyond that, over 5 minutes.
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"] == {"AggregateKeyType": "IP", "Limit": 15000}
    # Dev keeps rate limiting, XSS (in the common rule set) and SQLi at the edge with 3 rules ($8/month).
    assert list(rules) == ["RateLimitPerIp", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"]
    assert [r["Priority"] for r in rules.values()] == [0, 1, 2]
    skips = [acl.get("Metadata", {}).get("checkov", {}).get("skip", [])
             for r in (result, prod) for acl in r.resources("AWS::WAFv2::WebACL").values()]
    assert [[s["id"] for s in skip] for skip in skips] == [["CKV_AWS_192"], []]  # Known Bad Inputs: prod has it
    assert set(_waf_rules(prod)) == {"RateLimitPerIp", "AWSManagedRulesCommonRuleSet",
                                     "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
                                     "AWSManagedRulesAmazonIpReputationList"}
    result.template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    result.template.has_resource_properties(
        "AWS::WAFv2::LoggingConfiguration",
        {"RedactedFields": [{"SingleHeader": {"Name": "authorization"}}, {"SingleHeader": {"Name": "x-api-key"}},
                            {"SingleHeader": {"Name": "x-amz-security-token"}}]},
    )


def test_secret_read_by_processor_and_event_handler_and_rotated_by_default(dev):
    result, api = dev
    reads = sorted(
        name for name, policy in result.resources("AWS::IAM::Policy").items()
        if "secretsmanager:GetSecretValue" in json.dumps(policy["Properties"]["PolicyDocument"])
    )
    assert [name.split("Role")[0] for name in reads] == ["PaymentsEventHandler", "PaymentsProcessor",
                                                         "PaymentsSecretRotation"]
    writes = [name for name, policy in result.resources("AWS::IAM::Policy").items()
              if "secretsmanager:PutSecretValue" in json.dumps(policy["Properties"]["PolicyDocument"])]
    assert len(writes) == 1 and "SecretRotation" in writes[0]
    result.template.has_resource_properties(
        "AWS::SecretsManager::Secret", {"KmsKeyId": Match.any_value(), "GenerateSecretString": Match.any_value()}
    )
    rotation_fn = next(n for n, fn in functions(result).items() if fn["Properties"]["Handler"] == "runtime.rotation.handler")
    result.template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "RotationLambdaARN": {"Fn::GetAtt": [rotation_fn, "Arn"]}, "RotateImmediatelyOnUpdate": False,
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
    })
    secret = next(iter(result.resources("AWS::SecretsManager::Secret")))
    # Secrets Manager may invoke it for this secret only, and the function runs in the VPC like the others.
    result.template.has_resource_properties("AWS::Lambda::Permission", {
        "Principal": "secretsmanager.amazonaws.com", "SourceArn": {"Ref": secret},
        "FunctionName": {"Fn::GetAtt": [rotation_fn, "Arn"]},
    })
    assert "VpcConfig" in functions(result)[rotation_fn]["Properties"]
    assert api.rotation_function is not None


def test_event_handler_least_privilege(dev):
    result, _ = dev
    policy = next(p for n, p in result.resources("AWS::IAM::Policy").items() if "EventHandler" in n)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = json.dumps(statements)
    assert "events:PutEvents" in actions and "dynamodb:UpdateItem" in actions
    assert "dynamodb:DeleteItem" not in actions and "dynamodb:Scan" not in actions
    assert "secretsmanager:GetSecretValue" in actions and "secretsmanager:PutSecretValue" not in actions
    # It may send only to the dead-letter queue (failed asynchronous invocations), never to the queue.
    sends = [s["Resource"] for s in statements if "sqs:SendMessage" in json.dumps(s["Action"])]
    assert sends == [{"Fn::GetAtt": [next(n for n in result.resources("AWS::SQS::Queue") if "DeadLetter" in n), "Arn"]}]


def test_lifecycle_routes_are_validated_as_the_route_table_says(dev):
    result, _ = dev
    methods = result.resources("AWS::ApiGateway::Method")
    models = result.resources("AWS::ApiGateway::Model")
    for route in ROUTES:
        if route.built_in_construct:
            continue
        (method,) = [m["Properties"] for m in methods.values() if m["Properties"]["HttpMethod"] == route.method
                     and m["Properties"]["ResourceId"]["Ref"].endswith(_resource_suffix(result, route.path))]
        assert method["RequestParameters"].get("method.request.header.Idempotency-Key", False) is route.idempotency_key
        assert method["RequestParameters"]["method.request.path.payment_id"] is True
        assert "RequestValidatorId" in method
        if route.schema:
            (model,) = [m for n, m in models.items() if route.model in n]
            assert model["Properties"]["Schema"] == json.loads((SCHEMA_FILE.parent / route.schema).read_text())


def _resource_suffix(result, path):
    """The logical id of the API Gateway resource whose path part is the last of ``path``."""
    (name,) = [n for n, r in result.resources("AWS::ApiGateway::Resource").items()
               if r["Properties"]["PathPart"] == path.rsplit("/", 1)[-1]]
    return name


def test_processor_may_put_lifecycle_events_on_the_bus(dev):
    """Capture, void and refund put their events from the processor: without the grant they would fail."""
    result, _ = dev
    policy = next(p for n, p in result.resources("AWS::IAM::Policy").items() if "Processor" in n)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (put,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "event-bus/default" in json.dumps(put["Resource"])
    assert processor_environment(result, "Payments")["EVENT_BUS_NAME"] == "default"


def test_alarms_go_to_topic_through_sns_actions(dev):
    result, api = dev
    alarms = result.resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(api.alarms) == 9
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] and alarm["Properties"]["OKActions"]
    names = " ".join(alarms)
    for expected in ("Api5xxRate", "ApiLatencyP99", "ProcessorErrors", "EventHandlerThrottles", "DeadLetters",
                     "OldestMessageAge", "TableThrottles"):
        assert expected in names
    result.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_attributes_are_exposed(dev):
    _, api = dev
    for attribute in ("rest_api", "table", "queue", "dead_letter_queue", "processor", "event_handler", "web_acl",
                      "secret", "rotation_function", "alarms", "alarm_topic", "encryption_key", "access_log_group", "event_bus"):
        assert getattr(api, attribute) is not None


def test_prod_profile_backup_deletion_protection_no_reserved_concurrency(prod):
    prod.template.has_resource_properties("AWS::DynamoDB::Table", {"DeletionProtectionEnabled": True})
    prod.template.resource_count_is("AWS::Backup::BackupPlan", 1)
    for fn in functions(prod).values():
        assert "ReservedConcurrentExecutions" not in fn["Properties"]  # opt-in in every profile
        assert "VpcConfig" not in fn["Properties"]
    prod.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_failed_backup_and_copy_jobs_of_the_table_reach_the_alarm_topic(dev, prod):
    dev_result, _ = dev
    assert not [r for r in dev_result.resources("AWS::Events::Rule").values()
                if r["Properties"]["EventPattern"].get("source") == ["aws.backup"]]  # no plan in dev
    (rule,) = [r for r in prod.resources("AWS::Events::Rule").values()
               if r["Properties"]["EventPattern"].get("source") == ["aws.backup"]]
    table = next(iter(prod.resources("AWS::DynamoDB::Table")))
    topic = next(iter(prod.resources("AWS::SNS::Topic")))
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Backup Job State Change", "Copy Job State Change"]
    assert pattern["detail"] == {"state": ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"],
                                 "resourceArn": [{"Fn::GetAtt": [table, "Arn"]}]}
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": topic}
    undelivered = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert undelivered.startswith("PaymentsUndeliveredBackupAlerts")
    # EventBridge may publish to the encrypted topic: the topic's policy and its key's policy both say so.
    policies = [s for p in prod.resources("AWS::SNS::TopicPolicy").values()
                if {"Ref": topic} in p["Properties"]["Topics"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} and s["Action"] == "sns:Publish"
               for s in policies), policies
    key = next(iter(prod.resources("AWS::KMS::Key").values()))
    assert any("events.amazonaws.com" in json.dumps(s["Principal"]) and "kms:GenerateDataKey*" in s["Action"]
               for s in key["Properties"]["KeyPolicy"]["Statement"])
    # What SNS refuses waits in the queue, and an alarm says so.
    prod.template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [undelivered, "QueueName"]}}],
        "AlarmActions": [{"Ref": topic}]})


def test_existing_table_topic_and_rotation():
    def build(stack):
        table = dynamodb.Table.from_table_name(stack, "Existing", "payments")
        topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:111122223333:ops")
        rotation = lambda_.Function.from_function_arn(
            stack, "Rotation", "arn:aws:lambda:us-east-1:111122223333:function:rotate"
        )
        SecurePaymentApi(stack, "Payments", existing_table=table, alarm_topic=topic, rotation_function=rotation,
                         rotation_days=7)

    result = synth(build, nag=False)
    result.template.resource_count_is("AWS::DynamoDB::Table", 0)
    result.template.resource_count_is("AWS::SNS::Topic", 0)
    result.template.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule", {"RotationRules": {"ScheduleExpression": "rate(7 days)"}}
    )


def test_cognito_and_api_key_authorization():
    def build(stack):
        pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_abc")
        SecurePaymentApi(stack, "ByCognito", authorization=PaymentApiAuthorization.COGNITO, user_pool=pool)
        SecurePaymentApi(stack, "ByKey", authorization=PaymentApiAuthorization.API_KEY, merchants=["m-1", "m-2"],
                         cors_allowed_origins=["https://shop.example"], configure_api_gateway_account=False)

    result = synth(build)
    assert [str(f) for f in result.findings] == []
    result.template.resource_count_is("AWS::ApiGateway::Authorizer", 1)
    result.template.resource_count_is("AWS::ApiGateway::UsagePlan", 2)
    result.template.resource_count_is("AWS::ApiGateway::ApiKey", 2)
    result.template.resource_count_is("AWS::ApiGateway::Account", 1)
    options = [m for m in result.resources("AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] == "OPTIONS"]
    assert options  # CORS preflight only where asked


def test_function_asset_is_the_runtime_package_only(dev):
    result, _ = dev
    (asset,) = [p for p in result.outdir.glob("asset.*") if (p / "runtime").is_dir()]
    shipped = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert shipped == sorted([
        "runtime/__init__.py", "runtime/api.py", "runtime/audit_copy.py", "runtime/clients.py", "runtime/events.py", "runtime/observability.py",
        "runtime/pan.py", "runtime/payment_request.schema.json", "runtime/rotation.py", "runtime/errors.py",
        "runtime/listing.py", "runtime/merchants.py", "runtime/intake.py", "runtime/bus.py", "runtime/lifecycle.py",
        "runtime/operations.py", "runtime/states.py", "runtime/webhooks.py", "runtime/webhook_rotation.py", "runtime/capture_request.schema.json",
        "runtime/void_request.schema.json", "runtime/refund_request.schema.json", "runtime/payment_event.schema.json",
        "runtime/providers/__init__.py", "runtime/providers/base.py", "runtime/providers/http.py",
        "runtime/providers/sandbox.py",
    ])


# -- merchant identity in each authorization mode, and the cache that must not cross merchants ---------

@pytest.fixture(scope="module")
def prod_by_mode():
    """Prod profile (0.5 GB cache) with API keys and with Cognito, beside IAM with two merchant roles."""
    holder = {}

    def build(stack):
        pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_abc")
        SecurePaymentApi(stack, "ByKey", profile=Profile.PROD, authorization=PaymentApiAuthorization.API_KEY,
                         merchants=["m-1", "m-2"], configure_api_gateway_account=False)
        SecurePaymentApi(stack, "ByCognito", profile=Profile.PROD, authorization=PaymentApiAuthorization.COGNITO,
                         user_pool=pool, configure_api_gateway_account=False)
        holder["roles"] = {"m-1": iam.Role(stack, "CallerOne", assumed_by=iam.AccountRootPrincipal()),
                           "m-2": iam.Role.from_role_arn(stack, "CallerTwo", "arn:aws:iam::111122223333:role/x/Two")}
        SecurePaymentApi(stack, "ByRole", profile=Profile.PROD, merchant_roles=holder["roles"])

    return synth(build), holder


def of(result, type_, prefix):
    return {name: r for name, r in result.resources(type_).items() if name.startswith(prefix)}


def processor_environment(result, prefix):
    (fn,) = [f for n, f in functions(result).items() if n.startswith(prefix) and "Processor" in n]
    return fn["Properties"]["Environment"]["Variables"]


def test_nag_clean_in_every_mode(prod_by_mode):
    assert [str(f) for f in prod_by_mode[0].findings] == []


@pytest.mark.parametrize("prefix,header", [("ByKey", "X-Api-Key"), ("ByCognito", "Authorization")])
def test_prod_cache_keys_reads_on_the_callers_credential(prod_by_mode, prefix, header):
    result, _ = prod_by_mode
    (stage,) = of(result, "AWS::ApiGateway::Stage", prefix).values()
    assert stage["Properties"]["CacheClusterEnabled"] is True and stage["Properties"]["CacheClusterSize"] == "0.5"
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["Properties"]["MethodSettings"]}
    assert settings[("*", "/*")]["CachingEnabled"] is True and settings[("*", "/*")]["CacheDataEncrypted"] is True
    # Never cached: the intake and the list.
    assert settings[("POST", "/~1payments")]["CachingEnabled"] is False
    assert settings[("GET", "/~1payments")]["CachingEnabled"] is False
    # A payment's refunds: its cache key would name no credential, so never cached.
    assert settings[("GET", "/~1payments~1{payment_id}~1refunds")]["CachingEnabled"] is False
    methods = of(result, "AWS::ApiGateway::Method", prefix)
    (by_id,) = [m["Properties"] for m in methods.values() if "CacheKeyParameters" in json.dumps(m["Properties"])]
    identity = f"method.request.header.{header}"
    assert by_id["Integration"]["CacheKeyParameters"] == ["method.request.path.payment_id", identity]
    assert by_id["RequestParameters"] == {"method.request.path.payment_id": True, identity: False}


def test_iam_reads_are_never_cached(prod, prod_by_mode):
    for result, prefix in ((prod, "Payments"), (prod_by_mode[0], "ByRole")):
        (stage,) = of(result, "AWS::ApiGateway::Stage", prefix).values()
        assert stage["Properties"]["CacheClusterEnabled"] is False
        assert all(s.get("CachingEnabled") is False for s in stage["Properties"]["MethodSettings"])
        for method in of(result, "AWS::ApiGateway::Method", prefix).values():
            assert "CacheKeyParameters" not in method["Properties"]["Integration"]


def test_api_key_ids_map_to_merchants_in_the_processor_environment(prod_by_mode):
    result, _ = prod_by_mode
    environment = processor_environment(result, "ByKey")
    assert environment["AUTH_MODE"] == "api-key"
    rendered = json.dumps(environment["MERCHANT_API_KEYS"])
    keys = of(result, "AWS::ApiGateway::ApiKey", "ByKey")
    assert len(keys) == 2 and all({"Ref": name} in environment["MERCHANT_API_KEYS"]["Fn::Join"][1] for name in keys)
    assert '\\"m-1\\":\\"' in rendered and '\\"m-2\\":\\"' in rendered
    # A key is bound to the stage through its merchant's usage plan only.
    assert all("StageKeys" not in k["Properties"] for k in keys.values())
    assert len(of(result, "AWS::ApiGateway::UsagePlanKey", "ByKey")) == 2


def test_cognito_and_iam_modes_in_the_processor_environment(prod_by_mode):
    result, holder = prod_by_mode
    assert processor_environment(result, "ByCognito")["AUTH_MODE"] == "cognito"
    assert "MERCHANT_ROLES" not in processor_environment(result, "ByCognito")
    environment = processor_environment(result, "ByRole")
    assert environment["AUTH_MODE"] == "iam"
    rendered = json.dumps(environment["MERCHANT_ROLES"])
    assert "arn:aws:iam::111122223333:role/x/Two" in rendered and "CallerOne" in rendered
    assert "MERCHANT_API_KEYS" not in environment


def test_iam_without_merchant_roles_warns_that_every_request_is_refused(dev, prod_by_mode):
    def warnings(stack):
        return [m.data for c in stack.node.find_all() for m in c.node.metadata if m.type == "aws:cdk:warning"]

    assert any("no merchant_roles" in str(w) for w in warnings(dev[0].stack))
    assert not any("no merchant_roles" in str(w) for w in warnings(prod_by_mode[0].stack))


def test_processor_lists_through_the_merchant_index_only(dev):
    result, _ = dev
    policy = next(p for n, p in result.resources("AWS::IAM::Policy").items() if "Processor" in n)
    (query,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "dynamodb:Query" in s["Action"]]
    assert query["Action"] == "dynamodb:Query"
    assert query["Resource"]["Fn::Join"][1][1] == "/index/by-merchant"
    assert "dynamodb:Scan" not in json.dumps(policy)
    assert processor_environment(result, "Payments")["CURSOR_KEY_ARN"] == {"Fn::GetAtt": ["PaymentsKeyB60DCB49",
                                                                                           "Arn"]}


def test_readme_lists_every_error_code_the_api_can_return(dev):
    result, _ = dev
    root = Path(__file__).resolve().parents[2]
    runtime = "\n".join(p.read_text() for p in (root / "src/cdk_payments/runtime").rglob("*.py"))
    codes = set(re.findall(r'(?:ApiError|_error)\(\s*\d{3},\s*"([a-z_]+)"', runtime))
    for response in result.resources("AWS::ApiGateway::GatewayResponse").values():
        # $context.error.messageString is substituted as a quoted JSON string.
        body = response["Properties"]["ResponseTemplates"]["application/json"]
        template = json.loads(body.replace("$context.error.messageString", '"message"'))
        codes.add(template["error"]["code"])
    assert {"merchant_not_mapped", "merchant_mismatch", "invalid_cursor", "not_found", "forbidden"} <= codes
    readme = (root / "docs" / "api.md").read_text()
    table = readme[readme.index("| status | `error.code` | when |"):]
    table = table[:table.index("\n\n")]
    assert sorted(c for c in codes if f"`{c}`" not in table) == []


def test_processor_may_make_every_call_of_the_write_path(dev):
    # test/runtime/test_intake.py records the calls POST makes and checks them against this tuple.
    from cdk_payments.payment_api.handlers import PROCESSOR_TABLE_ACTIONS

    result, _ = dev
    policy = next(p for n, p in result.resources("AWS::IAM::Policy").items() if "Processor" in n)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    on_table = [s for s in statements if "PaymentsTable" in json.dumps(s["Resource"])]
    granted = {a for s in on_table for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert set(PROCESSOR_TABLE_ACTIONS) <= granted
    assert "sqs:SendMessage" in json.dumps(statements)
    # The table's customer-managed key: each write and read of an item uses it.
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"} <= {
        a for s in statements if isinstance(s["Action"], list) for a in s["Action"]}


def test_grant_invoke_allows_exactly_this_apis_stage_and_methods(dev):
    result, api = dev
    [policy] = [p for name, p in result.resources("AWS::IAM::Policy").items() if name.startswith("Reader")]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    parts = statement["Resource"]["Fn::Join"][1]
    api_id, stage = ({"Ref": k} for k in (next(iter(result.resources("AWS::ApiGateway::RestApi"))),
                                         next(iter(result.resources("AWS::ApiGateway::Stage")))))
    assert parts[-4:] == [api_id, "/", stage, "/GET/*"]  # this API, its deployed stage, GET on every path
    assert ":execute-api:" in parts


def test_grant_invoke_refuses_unknown_methods(dev):
    with pytest.raises(ValueError, match="methods: expected one of"):
        dev[1].invoke_arns(methods=["FETCH"])


def test_api_gateway_account_waits_for_the_api(dev):
    """As CDK's _configureCloudWatchRole: the account setting starts after the API, never beside it."""
    result, _ = dev
    [account] = result.resources("AWS::ApiGateway::Account").values()
    [api] = result.resources("AWS::ApiGateway::RestApi")
    assert api in account["DependsOn"]


def test_table_throttle_alarm_fills_each_sparse_metric_and_watches_the_index(dev):
    result, _ = dev
    [alarm] = [a for name, a in result.resources("AWS::CloudWatch::Alarm").items() if "TableThrottles" in name]
    queries = alarm["Properties"]["Metrics"]
    [expression] = [q["Expression"] for q in queries if "Expression" in q]
    metrics = {q["Id"]: q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q}
    assert len(metrics) == 4 and all(f"FILL({name}, 0)" in expression for name in metrics)
    indexed = [m for m in metrics.values() if {"Name": "GlobalSecondaryIndexName", "Value": "by-merchant"}
               in m["Dimensions"]]
    assert sorted(m["MetricName"] for m in indexed) == ["ReadThrottleEvents", "WriteThrottleEvents"]


def test_backup_plan_is_named_after_its_stack_not_a_literal(prod):
    [plan] = prod.resources("AWS::Backup::BackupPlan").values()
    name = plan["Properties"]["BackupPlan"]["BackupPlanName"]
    assert name != "BackupPlan" and name.startswith("TestStack") and len(name) <= 50
