"""The processor and event handler on each provider outcome, with a scripted adapter under moto."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities import parameters

from cdk_payments.runtime import api, events, providers
from cdk_payments.runtime.providers import Authorization

from .conftest import FakeContext, api_event, said, valid_body
from .test_events import record_of, sqs_event

KEY = {"Idempotency-Key": "order-outcome-0001"}


class ScriptedProvider(providers.PaymentProvider):
    """Answers from the class-level scripts, in order; records what it was asked."""

    authorize_script: list = []
    status_script: list = []
    requests: list = []

    def authorize(self, request, credentials):
        self.requests.append(("authorize", request, dict(credentials)))
        answer = self.authorize_script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def status(self, request, credentials):
        self.requests.append(("status", request, dict(credentials)))
        return self.status_script.pop(0)

    def issue_credentials(self, current, *, idempotency_key):
        raise NotImplementedError

    def test_credentials(self, credentials):
        raise NotImplementedError

    def revoke_credentials(self, retired, *, current):
        raise NotImplementedError


@pytest.fixture
def scripted(aws, monkeypatch):
    monkeypatch.setenv("PROVIDER_MODULE", __name__)
    monkeypatch.setenv("PROVIDER_CLASS", "ScriptedProvider")
    providers.provider.cache_clear()
    ScriptedProvider.authorize_script, ScriptedProvider.status_script, ScriptedProvider.requests = [], [], []
    yield ScriptedProvider
    providers.provider.cache_clear()


def post(body=None):
    response = api.handler(api_event("POST", "/payments", body=body or valid_body(), headers=KEY), FakeContext())
    return response["statusCode"], json.loads(response["body"])


def idempotency_records(aws):
    return [i for i in aws.table.scan()["Items"] if "#" in i["payment_id"]]


def settle(payment_id):
    return events.handler(sqs_event(json.dumps({"payment_id": payment_id})), FakeContext())


def test_the_payment_id_is_the_idempotency_key_and_credentials_come_from_the_secret(scripted, aws):
    scripted.authorize_script = [Authorization.approve("ref-1")]
    status, body = post()
    assert status == 202 and body == {"payment_id": body["payment_id"], "status": "PENDING"}
    (call,) = scripted.requests
    assert call[1].payment_id == body["payment_id"] and call[1].merchant_id == "merchant-42"
    assert call[2] == {"api_key": "sk_test_123"}
    (payment,) = aws.payments()
    assert payment["provider_reference"] == "ref-1" and payment["authorized"] is True


def test_a_decline_is_recorded_failed_with_its_reason_and_announced_once(scripted, aws, captured_events):
    scripted.authorize_script = [Authorization.decline("insufficient_funds", "ref-2")]
    status, body = post()
    assert status == 202 and body["status"] == "FAILED" and body["decline_reason"] == "insufficient_funds"
    (payment,) = aws.payments()
    assert payment["status"] == "FAILED" and payment["decline_reason"] == "insufficient_funds"
    assert settle(body["payment_id"]) == {"batchItemFailures": []}
    assert settle(body["payment_id"]) == {"batchItemFailures": []}  # redelivery: no second event
    (event,) = captured_events
    assert event["DetailType"] == "Payment Failed"
    assert json.loads(event["Detail"])["decline_reason"] == "insufficient_funds"
    (payment,) = aws.payments()
    assert payment["status"] == "FAILED" and "announced" not in payment
    assert post() == (status, body)  # the decline is the key's answer


@pytest.mark.parametrize("failure", [Authorization.retryable("connection refused"), RuntimeError("adapter bug")],
                         ids=["retryable", "adapter-raised"])
def test_a_retryable_failure_writes_nothing_and_the_same_key_succeeds_later(scripted, aws, failure):
    scripted.authorize_script = [failure, Authorization.approve("ref-3")]
    status, body = post()
    if isinstance(failure, Exception):
        assert status == 500 and body["error"]["code"] == "internal_error"
    else:
        assert status == 503 and body["error"]["code"] == "provider_unavailable"
        assert "same Idempotency-Key" in body["error"]["message"]
    assert aws.payments() == [] and aws.messages() == [] and idempotency_records(aws) == []
    status, body = post()
    assert status == 202 and body["status"] == "PENDING"
    assert len(aws.payments()) == 1


def test_an_unknown_outcome_is_recorded_then_resolved_by_the_event_handler(scripted, aws, captured_events, logged):
    scripted.authorize_script = [Authorization.unknown("read timeout")]
    status, body = post()
    assert status == 202 and body["status"] == "UNKNOWN"
    (payment,) = aws.payments()
    assert payment["status"] == "UNKNOWN" and "provider_reference" not in payment
    assert len(aws.messages()) == 1
    assert post() == (status, body)  # replays do not authorize again
    assert [c[0] for c in scripted.requests] == ["authorize"]

    # The event handler runs in its own execution environment: it reads the provider's credentials
    # itself (with its own role), not from the processor's cache.
    parameters.clear_caches()
    # The provider cannot tell yet: the message fails and is redelivered; the payment stays UNKNOWN.
    scripted.status_script = [Authorization.unknown("still timing out"), Authorization.approve("ref-4")]
    assert settle(body["payment_id"]) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert aws.payments()[0]["status"] == "UNKNOWN" and captured_events == []
    [warning] = said(logged, "provider outcome still unknown")
    assert (warning["level"], warning["payment_id"], warning["detail"]) == (
        "WARNING", body["payment_id"], "still timing out")
    assert settle(body["payment_id"]) == {"batchItemFailures": []}
    (payment,) = aws.payments()
    assert payment["status"] == "PROCESSED" and payment["provider_reference"] == "ref-4"
    status_call = scripted.requests[-1]
    assert status_call[0] == "status" and status_call[1].payment_id == body["payment_id"]
    assert status_call[1].amount == 1250 and status_call[1].payment_method_token == "tok_visa_abcdef12"
    assert (status_call[1].currency, status_call[1].merchant_id) == (payment["currency"], "merchant-42")
    (event,) = captured_events
    assert event["DetailType"] == "Payment Processed" and json.loads(event["Detail"])["status"] == "PROCESSED"


def test_a_message_whose_outcome_is_still_unknown_fails_naming_its_payment(scripted, aws):
    scripted.authorize_script = [Authorization.unknown("read timeout")]
    _, body = post()
    scripted.status_script = [Authorization.unknown("still timing out")]
    with pytest.raises(events.OutcomeStillUnknown, match=f"^payment {body['payment_id']}: UNKNOWN$"):
        events.settle(record_of(json.dumps({"payment_id": body["payment_id"]})))


def test_an_unknown_outcome_resolved_as_declined_fails_the_payment(scripted, aws, captured_events):
    scripted.authorize_script = [Authorization.unknown("read timeout")]
    _, body = post()
    scripted.status_script = [Authorization.decline("do_not_honor", "ref-5")]
    assert settle(body["payment_id"]) == {"batchItemFailures": []}
    (payment,) = aws.payments()
    assert payment["status"] == "FAILED" and payment["decline_reason"] == "do_not_honor"
    assert payment["authorized"] is False
    assert json.loads(captured_events[0]["Detail"])["decline_reason"] == "do_not_honor"


@pytest.mark.parametrize("token,status,recorded", [
    ("tok_visa_abcdef12", 202, "PENDING"), ("tok_decline_card", 202, "FAILED"),
    ("tok_timeout_abcdef", 202, "UNKNOWN"), ("tok_unavailable_x", 503, None),
])
def test_the_default_sandbox_adapter_covers_every_outcome(aws, token, status, recorded):
    got, _ = post(valid_body(payment_method_token=token))
    assert got == status
    assert [p["status"] for p in aws.payments()] == ([recorded] if recorded else [])


def test_the_sandbox_resolves_its_unknown_outcomes(aws, captured_events):
    _, body = post(valid_body(payment_method_token="tok_timeout_abcdef"))
    assert settle(body["payment_id"]) == {"batchItemFailures": []}
    assert aws.payments()[0]["status"] == "PROCESSED"


def test_an_adapter_that_is_not_a_payment_provider_is_refused(aws, monkeypatch):
    monkeypatch.setenv("PROVIDER_MODULE", "json")
    monkeypatch.setenv("PROVIDER_CLASS", "JSONDecoder")
    providers.provider.cache_clear()
    with pytest.raises(TypeError, match="not a runtime.providers.PaymentProvider"):
        providers.provider()
    providers.provider.cache_clear()


# -- what the mutation run of api.py showed untested (docs/mutation.md) --------------------------------

def test_the_provider_is_asked_for_the_payment_as_the_merchant_sent_it(scripted, aws):
    scripted.authorize_script = [Authorization.approve("ref-2")]
    body = valid_body(amount=4321, currency="USD", payment_method_token="tok_visa_as_sent")
    status, answer = post(body)
    assert status == 202
    [(_, request, _)] = scripted.requests
    assert (request.payment_id, request.payment_method_token, request.amount, request.currency, request.merchant_id) == (
        answer["payment_id"], "tok_visa_as_sent", 4321, "USD", "merchant-42")


@pytest.mark.parametrize("answer, status, metric, message", [
    (Authorization.retryable("connection refused"), 503, "ProviderRetryable", "provider unavailable"),
    (Authorization.unknown("read timed out"), 202, "ProviderUnknown", "provider outcome unknown"),
])
def test_a_providers_trouble_is_counted_and_logged_for_the_operator(scripted, aws, capsys, logged, answer, status,
                                                                    metric, message):
    """Each provider outcome is a CloudWatch metric (a count), and a failure a warning naming the payment
    and the adapter's detail; a 503 tells the merchant what to do."""
    scripted.authorize_script = [answer]
    capsys.readouterr()
    got, body = post()
    assert got == status
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [blob] = [line for line in metrics if metric in line]
    assert {"Name": metric, "Unit": "Count"} in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] and blob[metric] == [1.0]
    [warning] = said(logged, message)
    assert warning["level"] == "WARNING" and warning["detail"] == answer.detail
    assert warning["payment_id"] == scripted.requests[0][1].payment_id
    if status == 503:
        assert body["error"] == {"code": "provider_unavailable",
                                 "message": "the payment provider is unavailable; retry with the same Idempotency-Key"}
