from __future__ import annotations

import json

import pytest

from cdk_payments import AlertChannel, AlertTopics, PaymentDashboards, Profile, SecurePaymentApi

from .harness import synth


@pytest.fixture(scope="module")
def alerts():
    holder = {}

    def build(stack):
        holder["alerts"] = topics = AlertTopics(
            stack, "Alerts",
            emails={AlertChannel.SECURITY: ["security@example.com"], AlertChannel.COST: ["finance@example.com"]},
            https_endpoints={AlertChannel.OPERATIONS: ["https://events.pagerduty.example/integration"]},
        )
        api = SecurePaymentApi(stack, "Payments", alarm_topic=topics.operations_topic)
        holder["dashboards"] = PaymentDashboards(stack, "Dashboards", payment_api=api, finding_rules=["rule-a"],
                                                 profile=Profile.PROD)
        holder["combined"] = PaymentDashboards(stack, "DevDashboards", payment_api=api)

    return synth(build), holder


def test_snapshot(alerts, template_snapshot):
    assert alerts[0] == template_snapshot


def test_nag_clean(alerts):
    assert [str(f) for f in alerts[0].findings] == []


def test_three_encrypted_topics_publishable_only_by_their_services(alerts):
    result, holder = alerts
    topics = result.resources("AWS::SNS::Topic")
    assert len(topics) == 3
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics.values())
    publishers = {}
    for policy in result.resources("AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "AllowPublishingServices":
                (topic,) = policy["Properties"]["Topics"]
                publishers[topic["Ref"]] = sorted(statement["Principal"]["Service"])
                assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
            else:  # enforce_ssl
                assert statement["Effect"] == "Deny"
    assert sorted(publishers.values()) == sorted([
        ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "costalerts.amazonaws.com"],
        ["cloudwatch.amazonaws.com", "events.amazonaws.com"],
        ["cloudwatch.amazonaws.com", "events.amazonaws.com"],
    ])


def test_subscriptions_with_dead_letter_queue(alerts):
    result, _ = alerts
    subscriptions = result.resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Protocol"] for s in subscriptions.values()) == ["email", "email", "https"]
    assert all("RedrivePolicy" in s["Properties"] for s in subscriptions.values())


def test_alarms_use_the_operations_topic(alerts):
    result, holder = alerts
    operations = result.stack.resolve(holder["alerts"].operations_topic.topic_arn)
    for alarm in result.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [operations]


def test_three_dashboards_in_prod_one_combined_in_dev(alerts):
    result, holder = alerts
    assert len(holder["dashboards"].dashboards) == 3
    (combined,) = holder["combined"].dashboards
    assert holder["combined"].operations is holder["combined"].cost is combined
    dashboards = result.resources("AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 4
    bodies = json.dumps([d["Properties"]["DashboardBody"] for d in dashboards.values()]).replace("\\", "")
    for expected in ("SuccessfulRequestLatency", '"Operation","GetItem"', "AWS/WAFV2", "BlockedRequests",
                     "EstimatedCharges", "ApproximateAgeOfOldestMessage", "p99", "TriggeredRules", "rule-a"):
        assert expected in bodies, expected


def test_bad_props():
    with pytest.raises(ValueError, match="emails: expected a list of email addresses"):
        synth(lambda s: AlertTopics(s, "A", emails={AlertChannel.COST: "finance@example.com"}), nag=False)
    with pytest.raises(ValueError, match="https_endpoints"):
        synth(lambda s: AlertTopics(s, "A", https_endpoints={AlertChannel.COST: ["http://insecure"]}), nag=False)
    with pytest.raises(ValueError, match="payment_api: must be a SecurePaymentApi"):
        synth(lambda s: PaymentDashboards(s, "D", payment_api="nope"), nag=False)
