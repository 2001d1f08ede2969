"""Capture, void and refund below the API (runtime/operations.py), against moto with a recording
provider: what each outcome stores, answers, asks the provider and announces, and how a contended
transition retries."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from cdk_payments.runtime import clients, operations, providers
from cdk_payments.runtime.errors import ApiError
from cdk_payments.runtime.providers import Authorization

from .conftest import said
from .test_events import record_of

PAYMENT_ID = "6f1c0000-0000-4000-8000-0000000000aa"
OP = "op-0001"


class Recording(providers.PaymentProvider):
    """Answers every capture, void and refund with ``answer`` (or raises it); records the requests."""

    def __init__(self, answer):
        self.answer, self.requests = answer, []

    def _operation(self, request, credentials):
        self.requests.append((request, dict(credentials)))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    capture = void = refund = _operation
    authorize = status = issue_credentials = test_credentials = revoke_credentials = None  # type: ignore


@pytest.fixture
def provider(aws):
    adapter = Recording(Authorization.approve("ref-1"))
    with mock.patch.object(providers, "provider", return_value=adapter):
        yield adapter


def seed(aws, status="AUTHORIZED", capture="manual", **fields):
    item = {"payment_id": PAYMENT_ID, "merchant_id": "merchant-42", "amount": 1250, "currency": "EUR",
            "status": status, "capture": capture, "provider_reference": "auth-1", "authorized": True,
            "created_at": "2026-01-01T00:00:00+00:00", **fields}
    aws.table.put_item(Item=item)
    return item


def stored(aws):
    return aws.table.get_item(Key={"payment_id": PAYMENT_ID})["Item"]


def perform(operation, **kwargs):
    return operations.perform(operation, "merchant-42", PAYMENT_ID, OP, **kwargs)


def test_operation_ids_are_stable_per_request_and_distinct_otherwise():
    one = operations.operation_id("merchant-42", PAYMENT_ID, "refund", "key-1")
    assert one == operations.operation_id("merchant-42", PAYMENT_ID, "refund", "key-1")
    others = {operations.operation_id("merchant-43", PAYMENT_ID, "refund", "key-1"),
              operations.operation_id("merchant-42", PAYMENT_ID[:-1] + "b", "refund", "key-1"),
              operations.operation_id("merchant-42", PAYMENT_ID, "capture", "key-1"),
              operations.operation_id("merchant-42", PAYMENT_ID, "refund", "key-2")}
    assert len(others) == 4 and one not in others
    # Fixed for ever: the provider dedupes a retry in flight on it.
    assert one == "ba483399-c8dc-5733-924e-882ae679ce63"


def test_load_finds_only_the_callers_payment(aws):
    seed(aws)
    assert operations.load("merchant-42", PAYMENT_ID)["status"] == "AUTHORIZED"
    assert operations.load(None, PAYMENT_ID)["merchant_id"] == "merchant-42"  # the event handler's view
    for merchant, payment_id in (("merchant-43", PAYMENT_ID), ("merchant-42", PAYMENT_ID[:-1] + "b")):
        with pytest.raises(ApiError) as refused:
            operations.load(merchant, payment_id)
        assert (refused.value.status, refused.value.code) == (404, "payment_not_found")
    aws.table.put_item(Item={"payment_id": PAYMENT_ID, "merchant_id": "merchant-42"})  # an idempotency record
    with pytest.raises(ApiError, match="^no payment with this id$"):
        operations.load("merchant-42", PAYMENT_ID)


def test_an_approved_capture_is_stored_answered_and_announced(aws, provider, captured_events):
    seed(aws)
    status, answer = perform("capture", amount=1000)
    assert status == 200
    assert {k: answer[k] for k in ("payment_id", "status", "capture", "captured_amount", "capture_status",
                                   "refunded_amount")} == {
        "payment_id": PAYMENT_ID, "status": "CAPTURED", "capture": "manual", "captured_amount": 1000,
        "capture_status": "SUCCEEDED", "refunded_amount": 0}
    payment = stored(aws)
    assert payment["capture_id"] == OP and payment["capture_status"] == "SUCCEEDED"
    assert payment["capture_reference"] == "ref-1" and "capture_prior_status" not in payment
    assert payment["version"] == 2  # stored PENDING, then SUCCEEDED
    assert payment["updated_at"].endswith("+00:00")  # UTC, in created_at's format
    ((request, credentials),) = provider.requests
    assert request == providers.OperationRequest(
        operation_id=OP, payment_id=PAYMENT_ID, provider_reference="auth-1", amount=1000, currency="EUR",
        merchant_id="merchant-42", reason=None)
    assert credentials == {"api_key": "sk_test_123"}
    (event,) = captured_events
    detail = json.loads(event["Detail"])
    assert event["DetailType"] == "Payment Captured" and detail["status"] == "CAPTURED"
    assert {k: detail[k] for k in ("operation", "operation_id", "captured_amount", "refunded_amount")} == {
        "operation": "capture", "operation_id": OP, "captured_amount": 1000, "refunded_amount": 0}
    assert "refund_amount" not in detail


def test_an_approved_void_asks_for_the_authorized_amount(aws, provider, captured_events):
    seed(aws, status="PENDING")
    status, answer = perform("void")
    assert (status, answer["status"], answer["void_status"]) == (200, "VOIDED", "SUCCEEDED")
    payment = stored(aws)
    assert payment["void_id"] == OP and payment["void_reference"] == "ref-1" and "void_prior_status" not in payment
    assert provider.requests[0][0].amount == 1250
    assert [e["DetailType"] for e in captured_events] == ["Payment Voided"]


def test_an_approved_refund_answers_the_refund(aws, provider, captured_events):
    seed(aws, status="CAPTURED", captured_amount=1000)
    status, answer = perform("refund", amount=300, reason="requested_by_customer")
    assert status == 200
    assert {k: v for k, v in answer.items() if k != "created_at"} == {
        "refund_id": OP, "payment_id": PAYMENT_ID, "amount": 300, "currency": "EUR", "status": "SUCCEEDED",
        "reason": "requested_by_customer"}
    (refund,) = stored(aws)["refunds"]
    assert refund["provider_reference"] == "ref-1" and refund["created_at"] == answer["created_at"]
    assert stored(aws)["status"] == "PARTIALLY_REFUNDED"
    request = provider.requests[0][0]
    assert (request.amount, request.reason, request.operation_id) == (300, "requested_by_customer", OP)
    detail = json.loads(captured_events[0]["Detail"])
    assert captured_events[0]["DetailType"] == "Payment Refunded"
    assert (detail["refund_amount"], detail["refunded_amount"], detail["captured_amount"]) == (300, 300, 1000)


def test_a_refund_without_reason_stores_none_and_a_repeat_is_not_stored_twice(aws, provider):
    seed(aws, status="PROCESSED", capture="automatic")
    status, answer = perform("refund", amount=1250)
    assert status == 200 and "reason" not in answer and "reason" not in stored(aws)["refunds"][0]
    assert stored(aws)["status"] == "REFUNDED"
    payment = operations.transition("merchant-42", PAYMENT_ID,
                                    lambda p: operations._start("refund", p, OP, 1250, None))
    assert len(payment["refunds"]) == 1  # the same request's refund is not added again


@pytest.mark.parametrize("operation,kwargs,prior", [
    ("capture", {"amount": 1000}, {"status": "AUTHORIZED"}),
    ("void", {}, {"status": "PENDING"}),
    ("refund", {"amount": 300}, {"status": "CAPTURED", "captured_amount": 1000}),
])
def test_a_decline_undoes_the_transition(aws, provider, captured_events, operation, kwargs, prior):
    before = seed(aws, **prior)
    provider.answer = Authorization.decline("insufficient_funds")
    with pytest.raises(ApiError) as refused:
        perform(operation, **kwargs)
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        422, "provider_declined", f"the payment provider declined the {operation}: insufficient_funds")
    after = stored(aws)
    assert {k: v for k, v in after.items() if k not in ("version", "updated_at", "refunds")} == before
    assert after.get("refunds", []) == [] and captured_events == []


def test_a_decline_without_reason_and_a_retryable_answer(aws, provider):
    seed(aws)
    provider.answer = Authorization(providers.Outcome.DECLINED)
    with pytest.raises(ApiError, match="declined the capture: declined$"):
        perform("capture")
    provider.answer = Authorization.retryable("overloaded")
    with pytest.raises(ApiError) as refused:
        perform("capture")
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        503, "provider_unavailable", "the payment provider is unavailable; retry with the same Idempotency-Key")
    payment = stored(aws)
    assert payment["status"] == "AUTHORIZED" and "capture_id" not in payment and "captured_amount" not in payment


def test_an_unsupported_operation_or_a_failing_adapter_undoes_it(aws, provider):
    seed(aws)
    provider.answer = providers.UnsupportedOperation("Old does not implement capture")
    with pytest.raises(ApiError) as refused:
        perform("capture")
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        501, "operation_unsupported",
        "the payment provider's adapter does not support capture: Old does not implement capture")
    assert "capture_id" not in stored(aws)
    provider.answer = RuntimeError("connection reset")
    with pytest.raises(RuntimeError, match="connection reset"):
        perform("capture")
    payment = stored(aws)
    assert payment["status"] == "AUTHORIZED" and "capture_status" not in payment


@pytest.mark.parametrize("operation,kwargs,prior,field", [
    ("capture", {"amount": 1000}, {"status": "AUTHORIZED"}, "capture_status"),
    ("void", {}, {"status": "AUTHORIZED"}, "void_status"),
])
def test_an_unknown_outcome_is_queued_then_resolved(aws, provider, captured_events, operation, kwargs, prior, field):
    seed(aws, **prior)
    provider.answer = Authorization.unknown("timeout")
    status, answer = perform(operation, **kwargs)
    assert status == 202 and answer[field] == "PENDING"
    (message,) = aws.messages()
    body = json.loads(message["Body"])
    assert body == {"payment_id": PAYMENT_ID, "operation": operation, "operation_id": OP}
    with pytest.raises(operations.OutcomeUnknown, match=f"^{operation} {OP} of payment {PAYMENT_ID}: UNKNOWN$"):
        operations.resolve(body)
    provider.answer = Authorization.approve("ref-2")
    operations.resolve(body)
    assert stored(aws)[field] == "SUCCEEDED" and len(captured_events) == 1
    operations.resolve(body)  # settled already: the provider is not asked again
    assert len(provider.requests) == 3 and len(captured_events) == 1


def test_an_unknown_refund_resolved_as_declined_is_removed(aws, provider):
    seed(aws, status="CAPTURED", captured_amount=1000, refunds=[
        {"refund_id": "op-0000", "amount": 100, "status": "SUCCEEDED", "created_at": "2026-01-01T00:00:00+00:00"}])
    provider.answer = Authorization.unknown("timeout")
    status, answer = perform("refund", amount=900)
    assert (status, answer["refund_id"], answer["status"]) == (202, OP, "PENDING")
    assert stored(aws)["status"] == "REFUNDED"  # a pending refund holds its amount
    provider.answer = Authorization.decline("expired")
    operations.resolve(json.loads(aws.messages()[0]["Body"]))
    payment = stored(aws)
    assert [r["refund_id"] for r in payment["refunds"]] == ["op-0000"] and payment["status"] == "PARTIALLY_REFUNDED"


@pytest.mark.parametrize("operation,kwargs,field", [("capture", {"amount": 1000}, "capture_id"),
                                                   ("void", {}, "void_id")])
def test_an_unknown_capture_or_void_resolved_as_declined_is_undone(aws, provider, operation, kwargs, field):
    before = seed(aws)
    provider.answer = Authorization.unknown("timeout")
    assert perform(operation, **kwargs)[0] == 202 and stored(aws)[field] == OP
    provider.answer = Authorization.decline("expired")
    operations.resolve(json.loads(aws.messages()[0]["Body"]))
    assert {k: v for k, v in stored(aws).items() if k not in ("version", "updated_at")} == before


def test_the_providers_answer_is_logged_for_the_operator(aws, provider, logged):
    seed(aws)
    provider.answer = Authorization(providers.Outcome.APPROVED, "ref-7", detail="approved at the acquirer")
    perform("capture", amount=1000)
    [line] = said(logged, "provider answered")
    assert {k: line.get(k) for k in ("level", "payment_id", "operation", "outcome", "detail")} == {
        "level": "INFO", "payment_id": PAYMENT_ID, "operation": "capture", "outcome": "APPROVED",
        "detail": "approved at the acquirer"}


def test_a_transition_decides_again_when_the_payment_changed_and_gives_up_after_attempts(aws):
    seed(aws)
    table = clients.table()
    conflict = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "changed"}}, "UpdateItem")
    decisions = []

    def decide(payment):
        decisions.append(payment["status"])
        return {"status": "VOIDED"}

    with mock.patch.object(table, "update_item", side_effect=[conflict, conflict, {}]):
        result = operations.transition("merchant-42", PAYMENT_ID, decide)
    assert len(decisions) == 3 and result["status"] == "VOIDED" and result["version"] == 1
    decisions.clear()
    with mock.patch.object(table, "update_item", side_effect=conflict):
        with pytest.raises(ApiError) as refused:
            operations.transition("merchant-42", PAYMENT_ID, decide)
    assert (refused.value.status, refused.value.code, refused.value.message) == (409, "payment_busy", (
        "the payment is changing under many concurrent requests; retry with the same Idempotency-Key"))
    assert len(decisions) == operations.ATTEMPTS == 8
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "UpdateItem")
    with mock.patch.object(table, "update_item", side_effect=throttled):
        with pytest.raises(ClientError, match="ThrottlingException"):
            operations.transition("merchant-42", PAYMENT_ID, decide)


def test_a_transition_is_conditioned_on_the_status_and_version_it_read(aws):
    seed(aws)
    first = operations.transition("merchant-42", PAYMENT_ID, lambda p: {"status": "VOIDED", "void_id": "v"})
    assert first["version"] == 1 and stored(aws)["version"] == 1 and stored(aws)["void_id"] == "v"
    second = operations.transition("merchant-42", PAYMENT_ID, lambda p: {"void_id": None, "note": "x"})
    payment = stored(aws)
    assert second["version"] == payment["version"] == 2 and "void_id" not in payment and "void_id" not in second
    assert payment["note"] == "x" and payment["status"] == "VOIDED"
    assert operations.transition("merchant-42", PAYMENT_ID, lambda p: None) == payment  # nothing to change
    # A writer that changed the status (or version) in between makes the conditioned write fail.
    with mock.patch.object(operations, "load", side_effect=[{**payment, "status": "AUTHORIZED"}, payment]):
        third = operations.transition("merchant-42", PAYMENT_ID, lambda p: {"note": p["status"]})
    assert third["note"] == "VOIDED" and stored(aws)["version"] == 3
    with mock.patch.object(operations, "load", side_effect=[{**payment, "version": 7}, stored(aws)]):
        operations.transition("merchant-42", PAYMENT_ID, lambda p: {"note": str(p["version"])})
    assert stored(aws)["note"] == "3" and stored(aws)["version"] == 4


def test_public_payment_shows_only_public_fields_with_their_defaults():
    payment = {"payment_id": PAYMENT_ID, "merchant_id": "merchant-42", "amount": 900, "currency": "EUR",
               "status": "PROCESSED", "payment_method_token": "tok_visa_abcdef12", "request_hash": "h",
               "claim": "c", "version": 3, "refunds": [{"refund_id": "r", "amount": 100, "status": "SUCCEEDED"}]}
    assert operations.public_payment(payment) == {
        "payment_id": PAYMENT_ID, "merchant_id": "merchant-42", "amount": 900, "currency": "EUR",
        "status": "PROCESSED", "capture": "automatic", "captured_amount": 900, "refunded_amount": 100}
    assert operations.summary("refund", payment, "unknown-op")["status"] == "PROCESSED"  # no such refund


@pytest.mark.parametrize("operation,prior,done", [
    ("capture", {"status": "CAPTURED", "captured_amount": 1000, "capture_id": OP, "capture_status": "SUCCEEDED"},
     "capture_status"),
    ("void", {"status": "VOIDED", "void_id": OP, "void_status": "SUCCEEDED"}, "void_status"),
])
def test_a_late_decline_never_undoes_a_settled_or_another_operation(aws, operation, prior, done):
    seed(aws, **prior)
    before = stored(aws)
    operations.settle(operation, "merchant-42", PAYMENT_ID, OP, Authorization.decline("late"))
    assert stored(aws) == before  # settled already: the decline changes nothing
    pending = {**prior, done: "PENDING", f"{operation}_prior_status": "AUTHORIZED"}
    seed(aws, **pending)
    before = stored(aws)
    operations.settle(operation, "merchant-42", PAYMENT_ID, "op-other", Authorization.decline("late"))
    assert stored(aws) == before  # another request's operation is not this one's to undo


def test_approving_one_pending_refund_leaves_the_others_pending(aws, captured_events):
    refund = {"amount": 100, "status": "PENDING", "created_at": "2026-01-01T00:00:00+00:00"}
    seed(aws, status="PARTIALLY_REFUNDED", captured_amount=1000,
         refunds=[{**refund, "refund_id": "op-a"}, {**refund, "refund_id": OP}])
    answer = operations.settle("refund", "merchant-42", PAYMENT_ID, OP, Authorization.approve("ref-b"))
    assert (answer["refund_id"], answer["status"]) == (OP, "SUCCEEDED")
    assert [(r["refund_id"], r["status"]) for r in stored(aws)["refunds"]] == [("op-a", "PENDING"), (OP, "SUCCEEDED")]
    operations.settle("refund", "merchant-42", PAYMENT_ID, OP, Authorization.approve("ref-b"))  # again: nothing
    assert [r["status"] for r in stored(aws)["refunds"]] == ["PENDING", "SUCCEEDED"] and len(captured_events) == 1


@pytest.mark.parametrize("operation,stored_first", [
    ("capture", {"status": "CAPTURED", "captured_amount": 1250, "capture_id": OP, "capture_status": "PENDING",
                 "capture_prior_status": "AUTHORIZED"}),
    ("void", {"status": "VOIDED", "void_id": OP, "void_status": "PENDING", "void_prior_status": "AUTHORIZED"}),
])
def test_a_retry_after_its_transition_was_stored_asks_the_provider_again(aws, provider, operation, stored_first):
    # The function stopped after storing the transition: the retry (same key, same operation id)
    # finds its own PENDING operation and completes it instead of being refused by its own state.
    seed(aws, **stored_first)
    status, answer = perform(operation)
    assert status == 200 and answer[f"{operation}_status"] == "SUCCEEDED"
    assert [r.operation_id for r, _ in provider.requests] == [OP]


@pytest.mark.parametrize("body", [{"payment_id": PAYMENT_ID, "operation": "steal", "operation_id": OP},
                                  {"payment_id": PAYMENT_ID, "operation": "capture"},
                                  {"payment_id": PAYMENT_ID, "operation": "capture", "operation_id": 7}])
def test_the_event_handler_refuses_a_message_naming_no_known_operation(aws, provider, body):
    from cdk_payments.runtime import events

    seed(aws)
    with pytest.raises(events.PoisonMessage, match="^message m0 names no known operation$"):
        events.settle(record_of(json.dumps(body)))
    assert provider.requests == []


def test_the_event_handler_settles_queued_operations_or_says_why_not(aws, provider, logged):
    from cdk_payments.runtime import events

    body = {"payment_id": PAYMENT_ID, "operation": "capture", "operation_id": OP}
    with pytest.raises(events.PoisonMessage, match="^message m0: payment_not_found$"):
        events.settle(record_of(json.dumps(body)))  # the payment is gone: nothing to retry
    seed(aws)
    provider.answer = Authorization.unknown("timeout")
    assert perform("capture", amount=1000)[0] == 202
    with pytest.raises(events.OutcomeStillUnknown, match=f"^capture {OP} of payment {PAYMENT_ID}: UNKNOWN$"):
        events.settle(record_of(json.dumps(body)))
    [warning] = said(logged, "provider outcome still unknown")
    assert (warning["level"], warning["payment_id"]) == ("WARNING", PAYMENT_ID)
    provider.answer = Authorization.approve("ref-3")
    events.settle(record_of(json.dumps(body)))
    assert stored(aws)["capture_status"] == "SUCCEEDED"
