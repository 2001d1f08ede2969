"""Capture, void and refunds through the API handler, against moto; the races against a moto server."""

from __future__ import annotations

import functools
import json
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import pytest

from cdk_payments.runtime import api, events, lifecycle, providers, states
from cdk_payments.runtime.errors import validator
from cdk_payments.runtime.providers import Authorization

from .conftest import FakeContext, api_event, valid_body


def call(event):
    response = api.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def create(aws, key="order-0001-create", **overrides):
    status, body = call(api_event("POST", "/payments", body=valid_body(**overrides), headers={"Idempotency-Key": key}))
    assert status == 202, body
    return body["payment_id"]


def settle_queue(aws):
    """Run the event handler over what is queued (settles payments and unknown operations)."""
    messages = aws.messages()
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payments", "awsRegion": "us-east-1"}
               for m in messages]
    result = events.handler({"Records": records}, FakeContext())
    for m in messages:
        aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return result


def op(method, payment_id, action, body=None, key="lifecycle-key-0001", caller="merchant-42"):
    return call(api_event(method, f"/payments/{payment_id}/{action}", body=body,
                          headers={"Idempotency-Key": key} if key else {}, caller=caller))


def stored(aws, payment_id):
    return aws.table.get_item(Key={"payment_id": payment_id})["Item"]


def test_the_whole_lifecycle(aws, captured_events):
    # Authorize with manual capture; settlement holds it AUTHORIZED.
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    assert stored(aws, payment_id)["status"] == states.AUTHORIZED
    # Capture 1000 of 1250.
    status, body = op("POST", payment_id, "capture", {"amount": 1000}, key="capture-0001")
    assert status == 200 and body["status"] == "CAPTURED" and body["captured_amount"] == 1000
    # Two partial refunds, then an over-refund refused with nothing written.
    assert op("POST", payment_id, "refunds", {"amount": 300, "reason": "requested_by_customer"}, key="refund-0001")[0] == 200
    status, second = op("POST", payment_id, "refunds", {"amount": 500}, key="refund-0002")
    assert status == 200 and second["amount"] == 500 and second["status"] == "SUCCEEDED"
    before = stored(aws, payment_id)
    status, body = op("POST", payment_id, "refunds", {"amount": 201}, key="refund-0003")
    assert status == 422 and body["error"]["code"] == "amount_exceeds_refundable"
    assert stored(aws, payment_id) == before
    status, listing = op("GET", payment_id, "refunds", key=None)
    assert status == 200 and [r["amount"] for r in listing["refunds"]] == [300, 500]
    assert listing["refunded_amount"] == 800 and listing["captured_amount"] == 1000
    assert op("POST", payment_id, "refunds", {"amount": 200}, key="refund-0004")[1]["status"] == "SUCCEEDED"
    status, payment = call(api_event("GET", f"/payments/{payment_id}"))
    assert payment["status"] == "REFUNDED" and payment["refunded_amount"] == 1000
    # A void before capture, on another payment; then neither capture nor void applies.
    other = create(aws, key="order-0002-create", capture="manual")
    status, body = op("POST", other, "void", key="void-0001")
    assert status == 200 and body["status"] == "VOIDED"
    assert op("POST", other, "capture", key="capture-0002")[1]["error"]["code"] == "payment_not_capturable"
    settle_queue(aws)  # settlement leaves the voided payment alone
    assert stored(aws, other)["status"] == "VOIDED"
    types = [e["DetailType"] for e in captured_events]
    assert types.count("Payment Refunded") == 3
    assert {"Payment Authorized", "Payment Captured", "Payment Voided"} <= set(types)
    # Every event matches the JSON Schema the package publishes, each with its own stable id.
    validate = validator(json.loads((Path(events.__file__).parent / "payment_event.schema.json").read_text()))
    details = [json.loads(e["Detail"]) for e in captured_events]
    for detail in details:
        validate(detail)
    assert len({d["event_id"] for d in details}) == len(details)


def test_an_automatic_payment_is_refunded_once_processed(aws):
    payment_id = create(aws)
    status, body = op("POST", payment_id, "refunds", {"amount": 100})
    assert status == 409 and body["error"]["code"] == "payment_not_refundable"  # still PENDING
    settle_queue(aws)
    assert op("POST", payment_id, "capture", key="capture-0003")[1]["error"]["code"] == "payment_not_capturable"
    assert op("POST", payment_id, "void", key="void-0003")[1]["error"]["code"] == "payment_not_voidable"
    status, body = op("POST", payment_id, "refunds", {"amount": 1250})
    assert status == 200
    assert stored(aws, payment_id)["status"] == "REFUNDED"


def test_a_stored_0_1_payment_is_refundable(aws):
    """Items written before 0.2 have no capture, version, captured_amount or refunds."""
    payment_id = "6f1c0000-0000-4000-8000-000000000001"
    aws.table.put_item(Item={"payment_id": payment_id, "merchant_id": "merchant-42", "amount": 900,
                             "currency": "EUR", "status": "PROCESSED", "authorized": True,
                             "payment_method_token": "tok_visa_abcdef12", "created_at": "2025-01-01T00:00:00+00:00"})
    assert op("POST", payment_id, "refunds", {"amount": 900})[0] == 200
    assert stored(aws, payment_id)["status"] == "REFUNDED"


def test_idempotent_replay_and_key_reuse(aws):
    payment_id = create(aws)
    settle_queue(aws)
    first = op("POST", payment_id, "refunds", {"amount": 100})
    assert op("POST", payment_id, "refunds", {"amount": 100}) == first
    assert len(stored(aws, payment_id)["refunds"]) == 1
    status, body = op("POST", payment_id, "refunds", {"amount": 200})
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("action", ["capture", "void", "refunds"])
def test_another_merchants_payment_is_not_found_and_unchanged(aws, action):
    payment_id = create(aws, capture="manual")
    before = stored(aws, payment_id)
    status, body = op("POST", payment_id, action, {"amount": 10} if action == "refunds" else None, caller="merchant-43")
    assert status == 404 and body["error"]["code"] == "payment_not_found"
    assert op("GET", payment_id, "refunds", key=None, caller="merchant-43")[0] == 404
    assert stored(aws, payment_id) == before


@pytest.mark.parametrize(("action", "body", "headers", "code"), [
    ("refunds", {"amount": 0}, None, "invalid_request"),
    ("refunds", {"amount": "12"}, None, "invalid_request"),
    ("refunds", {}, None, "invalid_request"),
    ("refunds", {"amount": 10, "reason": "4111 1111 1111 1111"}, None, "card_data_rejected"),
    ("capture", {"amount": 10, "card": "4111111111111111"}, None, "card_data_rejected"),
    ("capture", {"amount": 1251}, None, "amount_exceeds_authorized"),
    ("void", {"extra": 1}, None, "invalid_request"),
    ("capture", None, {}, "missing_idempotency_key"),
])
def test_bad_requests_write_nothing(aws, action, body, headers, code):
    payment_id = create(aws, capture="manual")
    before = stored(aws, payment_id)
    event = api_event("POST", f"/payments/{payment_id}/{action}", body=body,
                      headers=headers if headers is not None else {"Idempotency-Key": "bad-request-01"})
    status, answer = call(event)
    assert 400 <= status < 500 and answer["error"]["code"] == code
    assert stored(aws, payment_id) == before


@pytest.mark.parametrize(("answer", "status", "code"), [
    (Authorization.decline("insufficient_funds"), 422, "provider_declined"),
    (Authorization.retryable("overloaded"), 503, "provider_unavailable"),
])
def test_a_provider_refusal_leaves_the_payment_as_it_was(aws, answer, status, code):
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    before = stored(aws, payment_id)
    with mock.patch.object(providers.SandboxProvider if hasattr(providers, "SandboxProvider") else
                           type(providers.provider()), "capture", return_value=answer):
        got, body = op("POST", payment_id, "capture")
    assert (got, body["error"]["code"]) == (status, code)
    after = stored(aws, payment_id)
    assert after["status"] == before["status"] == "AUTHORIZED"
    assert "captured_amount" not in after and "capture_id" not in after
    # The retry with the same key starts afresh (no answer was stored) and succeeds.
    assert op("POST", payment_id, "capture")[0] == 200


def test_an_unknown_capture_is_settled_by_the_event_handler(aws, captured_events):
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    adapter = type(providers.provider())
    with mock.patch.object(adapter, "capture", return_value=Authorization.unknown("timeout")):
        status, body = op("POST", payment_id, "capture")
    assert status == 202 and body["capture_status"] == "PENDING"
    assert op("POST", payment_id, "void", key="void-0009")[1]["error"]["code"] == "payment_not_voidable"
    with mock.patch.object(adapter, "capture", return_value=Authorization.unknown("still")):
        result = settle_queue(aws)
    assert result["batchItemFailures"]  # redelivered while the provider cannot tell
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(
        {"payment_id": payment_id, "operation": "capture", "operation_id": stored(aws, payment_id)["capture_id"]}))
    assert settle_queue(aws)["batchItemFailures"] == []
    assert stored(aws, payment_id)["capture_status"] == "SUCCEEDED"
    assert [e["DetailType"] for e in captured_events].count("Payment Captured") == 1


def test_an_adapter_without_lifecycle_methods_answers_unsupported(aws):
    class Old(providers.PaymentProvider):
        authorize = status = issue_credentials = test_credentials = revoke_credentials = None  # type: ignore

    payment_id = create(aws, capture="manual")
    with mock.patch.object(providers, "provider", return_value=Old()):
        status, body = op("POST", payment_id, "capture")
    assert status == 501 and body["error"]["code"] == "operation_unsupported"
    assert "capture_id" not in stored(aws, payment_id)


def test_every_route_of_the_construct_is_served(aws):
    from cdk_payments.payment_api.routes import ROUTES

    served = {(r.method, r.path) for r in api.app._static_routes + api.app._dynamic_routes}
    table = {(route.method, route.path.replace("{", "<").replace("}", ">")) for route in ROUTES}
    assert table == served
    assert {(m, p) for m, p, _ in lifecycle.ROUTES} <= {(route.method, route.path) for route in ROUTES}


# -- races, against a moto server --------------------------------------------------------------------------
# Each racer is a forked process, as each Lambda execution environment is: the resolver's current
# request is a module global, so two requests in threads of one process would read each other's event.
_FORK = multiprocessing.get_context("fork")


def _racer(barrier, results, index, fn):
    from .conftest import _clear_caches

    _clear_caches()  # this execution environment's own clients
    barrier.wait()
    results.put((index, fn()))


def _race(*calls):
    barrier, results = _FORK.Barrier(len(calls)), _FORK.Queue()
    processes = [_FORK.Process(target=_racer, args=(barrier, results, i, fn)) for i, fn in enumerate(calls)]
    for process in processes:
        process.start()
    answers = dict(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=10)
    return [answers[i] for i in range(len(calls))]


def _settled_payment(aws, capture):
    payment_id = create(aws, capture=capture)
    settle_queue(aws)
    return payment_id


def test_two_refunds_that_together_exceed_the_capture_race_and_exactly_one_wins(aws_server):
    for attempt in range(3):
        payment_id = create(aws_server, key=f"order-race-{attempt}")
        settle_queue(aws_server)
        results = _race(*(functools.partial(op, "POST", payment_id, "refunds", {"amount": 700},
                                            key=f"race-refund-{attempt}-{k}") for k in range(2)))
        assert sorted(status for status, _ in results) == [200, 422], (attempt, results)
        assert states.refunded_amount(stored(aws_server, payment_id)) == 700


def test_refunds_that_fit_all_succeed_concurrently(aws_server):
    payment_id = create(aws_server)
    settle_queue(aws_server)
    results = _race(*(lambda k=k: op("POST", payment_id, "refunds", {"amount": 250}, key=f"fit-refund-{k}")
                      for k in range(6)))
    statuses = sorted(status for status, _ in results)
    assert statuses[:5] == [200] * 5 and statuses[5] in (409, 422), results  # 409 once REFUNDED
    payment = stored(aws_server, payment_id)
    assert payment["status"] == "REFUNDED" and states.refunded_amount(payment) == 1250


def test_a_capture_and_a_void_race_and_exactly_one_wins(aws_server):
    for attempt in range(3):
        payment_id = create(aws_server, key=f"order-cv-{attempt}", capture="manual")
        results = _race(functools.partial(op, "POST", payment_id, "capture", key=f"cv-capture-{attempt}"),
                        functools.partial(op, "POST", payment_id, "void", key=f"cv-void-{attempt}"))
        codes = sorted(status for status, _ in results)
        assert codes == [200, 409], results
        assert stored(aws_server, payment_id)["status"] in ("CAPTURED", "VOIDED")


# -- what the mutation run of lifecycle.py showed untested (docs/mutation.md) --------------------------

def answer(event):
    """The handler's whole answer: status, headers and body."""
    response = api.handler(event, FakeContext())
    return response["statusCode"], response["multiValueHeaders"], json.loads(response["body"])


@pytest.mark.parametrize(("method", "action"), [("POST", "capture"), ("POST", "void"), ("POST", "refunds"),
                                                ("GET", "refunds")])
def test_a_malformed_payment_id_is_not_found_as_on_get(aws, method, action):
    """Refused as GET /payments/{id} refuses it, before the idempotency layer writes anything."""
    expected = call(api_event("GET", "/payments/not-a-payment-id"))
    assert expected[0] == 404
    body = {"amount": 10} if action == "refunds" and method == "POST" else None
    assert op(method, "not-a-payment-id", action, body, key="malformed-0001" if method == "POST" else None) == expected
    assert aws.table.scan()["Items"] == []


def test_answers_are_json_with_a_metric_per_operation(aws, capsys):
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    capsys.readouterr()
    status, headers, body = answer(api_event("POST", f"/payments/{payment_id}/capture", body={"amount": 1000},
                                             headers={"Idempotency-Key": "metric-capture-1"}))
    assert status == 200 and body["status"] == "CAPTURED" and body["payment_id"] == payment_id
    assert headers["Content-Type"] == ["application/json"]
    # One CloudWatch metric (embedded metric format on stdout) per operation done: PaymentCapture, a count of 1.
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [blob] = [b for b in blobs if "PaymentCapture" in b]
    [definition] = blob["_aws"]["CloudWatchMetrics"]
    assert {"Name": "PaymentCapture", "Unit": "Count"} in definition["Metrics"] and blob["PaymentCapture"] == [1.0]


def test_a_refunds_reason_is_kept_and_listed(aws):
    payment_id = create(aws)
    settle_queue(aws)
    status, refund = op("POST", payment_id, "refunds", {"amount": 100, "reason": "duplicate"}, key="reason-0001")
    assert status == 200 and refund["reason"] == "duplicate"
    assert op("GET", payment_id, "refunds", key=None)[1]["refunds"][0]["reason"] == "duplicate"


def test_one_idempotency_key_on_two_operations_reaches_the_provider_as_two(aws):
    """The key names a request of one operation: a capture and a refund sent with the same key are two
    operations, each with its own id, which is the provider's idempotency key."""
    payment_id = create(aws, capture="manual")
    settle_queue(aws)
    assert op("POST", payment_id, "capture", {"amount": 1000}, key="shared-key-0001")[1]["status"] == "CAPTURED"
    status, refund = op("POST", payment_id, "refunds", {"amount": 100}, key="shared-key-0001")
    assert status == 200 and refund["status"] == "SUCCEEDED"
    payment = stored(aws, payment_id)
    assert payment["capture_id"] != payment["refunds"][0]["refund_id"] == refund["refund_id"]


def test_a_reused_key_is_refused_naming_the_key_and_the_body(aws):
    payment_id = create(aws)
    settle_queue(aws)
    op("POST", payment_id, "refunds", {"amount": 100}, key="reused-0001")
    status, body = op("POST", payment_id, "refunds", {"amount": 200}, key="reused-0001")
    assert status == 422 and body["error"] == {
        "code": "idempotency_key_reused", "message": "this Idempotency-Key was used with a different body"}


def test_the_same_key_while_the_first_request_runs_is_refused_in_progress(aws):
    """A retry that arrives while the first request with its key is still running gets 409 and changes
    nothing; the first then completes. The in-progress record expires with the first invocation (the
    Lambda context's remaining time), not with the idempotency TTL, so a retry after a crash is served."""
    payment_id = create(aws)
    settle_queue(aws)
    during = {}
    perform = lifecycle.operations.perform

    def perform_and_retry(*args, **kwargs):
        # The test's own reads from another thread: the IAM judge attributes a call to the handler on its stack.
        with ThreadPoolExecutor(1) as outside:
            [record] = [i for i in outside.submit(aws.table.scan).result()["Items"] if i.get("status") == "INPROGRESS"]
            during["expires_in_ms"] = int(record["in_progress_expiration"]) - int(time.time() * 1000)
            during["retry"] = op("POST", payment_id, "refunds", {"amount": 100}, key="in-progress-0001")
            during["payment"] = outside.submit(stored, aws, payment_id).result()
        return perform(*args, **kwargs)

    before = stored(aws, payment_id)
    with mock.patch.object(lifecycle.operations, "perform", side_effect=perform_and_retry):
        status, refund = op("POST", payment_id, "refunds", {"amount": 100}, key="in-progress-0001")
    assert during["retry"] == (409, {"error": {"code": "request_in_progress",
                                               "message": "a request with this Idempotency-Key is in progress"}})
    assert during["payment"] == before
    assert 0 < during["expires_in_ms"] <= FakeContext().get_remaining_time_in_millis()
    assert status == 200 and refund["status"] == "SUCCEEDED" and len(stored(aws, payment_id)["refunds"]) == 1


def test_one_idempotency_key_on_two_payments_reaches_the_provider_as_two_refunds(aws):
    """A merchant may reuse its key scheme across payments (refund-1 of each order): each refund has its
    own id, the provider's idempotency key, or the provider would take the second for the first."""
    first, second = create(aws, key="order-0003-create"), create(aws, key="order-0004-create")
    settle_queue(aws)
    refunds = [op("POST", p, "refunds", {"amount": 100}, key="refund-each-1")[1] for p in (first, second)]
    assert [r["status"] for r in refunds] == ["SUCCEEDED"] * 2
    assert refunds[0]["refund_id"] != refunds[1]["refund_id"]
