"""SecurePaymentApi(webhook_endpoints=...): the deployed webhook delivery (PaymentWebhooks)."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match

from cdk_payments import CostOptimizedVpc, SecurePaymentApi
from cdk_payments.payment_api.webhooks import MAX_RECEIVE_COUNT

from ..harness import synth

ENDPOINTS = {"merchant-1": "https://hooks.shop.example/payments", "merchant-2": "https://b.example/hooks"}


@pytest.fixture(scope="module")
def built():
    holder = {}

    def build(stack):
        api = SecurePaymentApi(stack, "Payments", vpc=CostOptimizedVpc(stack, "Network").vpc,
                               webhook_endpoints=ENDPOINTS)
        api.webhooks.grant_replay(iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal()))
        holder["api"] = api

    return synth(build), holder["api"]


def test_snapshot(built, template_snapshot):
    assert built[0] == template_snapshot


def test_nag_clean(built):
    assert [str(f) for f in built[0].findings] == []


def test_without_endpoints_there_is_no_webhook_resource():
    result = synth(lambda stack: SecurePaymentApi(stack, "Payments"), nag=False)
    assert not [r for r in result.json["Resources"] if "Webhooks" in r]


def resource(result, type_, fragment):
    (found,) = [(i, r) for i, r in result.resources(type_).items() if fragment in i]
    return found


def policy_of(result, role_fragment):
    _, policy = resource(result, "AWS::IAM::Policy", role_fragment + "DefaultPolicy")
    return policy["Properties"]["PolicyDocument"]["Statement"]


def actions(statements, resource_fragment):
    return {a for s in statements if resource_fragment in str(s["Resource"])
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_the_rule_routes_configured_merchants_payment_events_to_the_encrypted_queue(built):
    result, _ = built
    queue_id, queue = resource(result, "AWS::SQS::Queue", "WebhooksQueue")
    dlq_id, dlq = resource(result, "AWS::SQS::Queue", "WebhooksDeadLetterQueue")
    _, rule = resource(result, "AWS::Events::Rule", "WebhooksRule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["cdk-payments"], "detail-type": [{"prefix": "Payment "}],
        "detail": {"merchant_id": sorted(ENDPOINTS)}}
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    props = queue["Properties"]
    assert "KmsMasterKeyId" in props and "KmsMasterKeyId" in dlq["Properties"]
    # 3 days of backoff plus the longest step (11 h) fit in 4 days; the DLQ keeps 14 for replay.
    assert props["MessageRetentionPeriod"] == 4 * 86400 and dlq["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                                      "maxReceiveCount": MAX_RECEIVE_COUNT}
    _, key = resource(result, "AWS::KMS::Key", "PaymentsKey")
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
               for s in statements)


def test_each_merchant_has_a_rotated_secret_holding_its_https_endpoint(built):
    result, _ = built
    secrets = {i: r for i, r in result.resources("AWS::SecretsManager::Secret").items() if "Webhooks" in i}
    assert len(secrets) == 2
    templates = sorted(r["Properties"]["GenerateSecretString"]["SecretStringTemplate"] for r in secrets.values())
    assert templates == [f'{{"url": "{url}"}}' for url in sorted(ENDPOINTS.values())]
    for secret in secrets.values():
        assert "KmsKeyId" in secret["Properties"] and "Name" not in secret["Properties"]  # no physical name
    schedules = [r for i, r in result.resources("AWS::SecretsManager::RotationSchedule").items() if "Webhooks" in i]
    assert len(schedules) == 2
    assert {s["Properties"]["RotationRules"]["ScheduleExpression"] for s in schedules} == {"rate(90 days)"}
    _, permission = resource(result, "AWS::Lambda::Permission", "WebhooksSecretRotation")
    assert permission["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    assert permission["Properties"]["SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_the_delivery_function_runs_outside_the_vpc_with_exactly_its_calls(built):
    result, _ = built
    _, function = resource(result, "AWS::Lambda::Function", "WebhooksDeliveryFunction")
    props = function["Properties"]
    assert props["Handler"] == "runtime.webhooks.handler" and "VpcConfig" not in props
    variables = props["Environment"]["Variables"]
    assert set(variables) >= {"WEBHOOK_QUEUE_URL", "WEBHOOK_DLQ_URL", "WEBHOOK_SECRETS"}
    assert "merchant-1" in str(variables["WEBHOOK_SECRETS"])
    statements = policy_of(result, "WebhooksDeliveryRole")
    assert actions(statements, "WebhooksQueue") >= {"sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                    "sqs:ChangeMessageVisibility"}
    assert "sqs:SendMessage" in actions(statements, "WebhooksDeadLetterQueue")
    assert actions(statements, "WebhooksSecretmerchant1") == {"secretsmanager:GetSecretValue",
                                                              "secretsmanager:DescribeSecret"}
    (mapping,) = [m for i, m in result.resources("AWS::Lambda::EventSourceMapping").items() if "Webhooks" in i]
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_dead_letters_and_delivery_errors_alarm_to_the_topic(built):
    result, api = built
    for fragment in ("WebhookDeadLetters", "WebhookDeliveryErrors"):
        _, alarm = resource(result, "AWS::CloudWatch::Alarm", fragment)
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": Match.string_like_regexp("AlarmTopic")}] or \
            "AlarmTopic" in str(alarm["Properties"]["AlarmActions"])
    assert set(api.webhooks.alarms) <= set(api.alarms)


def test_grant_replay_allows_the_message_move_task(built):
    result, api = built
    statements = policy_of(result, "Operator")
    assert {"sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= \
        actions(statements, "WebhooksDeadLetterQueue")
    assert "sqs:SendMessage" in actions(statements, "WebhooksQueue")
    # Named destination: SQS returns a message to a source queue only when its own redrive moved it there.
    command = result.stack.resolve(api.webhooks.replay_command)
    assert "start-message-move-task" in str(command) and "--destination-arn" in str(command)


@pytest.mark.parametrize(("endpoints", "message"), [
    ({"merchant-1": "http://hooks.shop.example/p"}, "an https:// URL"),
    ({"merchant-1": "https://10.0.0.5/p"}, "private, loopback, link-local or reserved"),
    ({"merchant-1": "https://169.254.169.254/latest"}, "private, loopback, link-local or reserved"),
    ({"bad id!": "https://hooks.shop.example/p"}, "merchant ids are 1 to 64"),
    (["https://hooks.shop.example/p"], "expected a mapping"),
])
def test_bad_endpoints_are_refused_at_construction(endpoints, message):
    with pytest.raises(ValueError, match="webhook_endpoints") as error:
        synth(lambda stack: SecurePaymentApi(stack, "Payments", webhook_endpoints=endpoints), nag=False)
    assert message in str(error.value)
