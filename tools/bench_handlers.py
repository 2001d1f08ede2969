"""CPU per request of the Lambda handlers, AWS I/O excluded (target: at most 1 ms per POST and GET).

    python tools/bench_handlers.py [--requests 300] [--rounds 7] [--tracing] [--json] [--profile SCENARIO]

Drives the real handlers (``runtime.api.handler``, ``runtime.events.handler``), imported as Lambda
imports them (src/cdk_payments on sys.path), with API Gateway REST events whose request context
authenticates a mapped merchant (IAM mode, as test/runtime/conftest.py builds them), the Powertools
logger, metrics and idempotency all on, and AWS clients that answer at once: in-memory fakes put in
the place of runtime.clients' clients, the idempotency layer's DynamoDB client and the secret
provider's Secrets Manager client. Nothing leaves the process.

Each figure is the median over --rounds of the process CPU time of --requests calls, per call, after
a warm-up (the first call of an execution environment creates clients and caches; see
tools/bench_cold_start.py for that). Output on stdout (the handlers' log lines and metrics) is
discarded while timing. ``--profile`` prints the cProfile top entries of one scenario.

By default tracing is off (outside Lambda, as in the tests). ``--tracing`` runs as in a function with
active tracing (the construct's default): LAMBDA_TASK_ROOT and a sampled X-Ray trace header set, so
Powertools' Tracer records its subsegments through the X-Ray SDK, which serializes each one for the
daemon; an emitter that drops the serialized document stands in for the UDP send.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import itertools
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "123456789012", "us-east-1"
MERCHANT = "merchant-42"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/payments/Merchant42Caller"
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "payments", "POWERTOOLS_METRICS_NAMESPACE": "CdkPayments",
    "TABLE_NAME": "payments", "QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/payments",
    "EVENT_BUS_NAME": "payments", "PROVIDER_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:provider",
    "CURSOR_KEY_ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000",
    "AUTH_MODE": "iam", "MERCHANT_ROLES": json.dumps({MERCHANT: ROLE_ARN}),
}


# -- AWS clients that answer at once ------------------------------------------------------------
class FakeTable:
    """The payments table as runtime.clients.table() returns it (a boto3 Table resource)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, Item: dict[str, Any], **_: Any) -> dict:
        self.items[Item["payment_id"]] = Item
        return {}

    def get_item(self, Key: dict[str, str], **_: Any) -> dict:
        item = self.items.get(Key["payment_id"])
        return {"Item": dict(item)} if item else {}

    def update_item(self, **_: Any) -> dict:
        return {}

    def delete_item(self, **_: Any) -> dict:
        return {}

    def query(self, **_: Any) -> dict:
        summary = ("payment_id", "merchant_id", "amount", "currency", "status", "created_at")
        return {"Items": [{k: v for k, v in item.items() if k in summary} for item in list(self.items.values())[:20]]}


class FakeDynamoDB:
    """The low-level DynamoDB client of Powertools' idempotency layer, conditional put included."""

    def __init__(self) -> None:
        from botocore.exceptions import ClientError

        self._conflict = ClientError
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, Item: dict[str, Any], **_: Any) -> dict:
        key = Item["payment_id"]["S"]
        if key in self.items:  # the record exists and has not expired: Powertools reads it from the error
            raise self._conflict({"Error": {"Code": "ConditionalCheckFailedException"}, "Item": self.items[key]},
                                 "PutItem")
        self.items[key] = Item
        return {}

    def update_item(self, Key: dict, ExpressionAttributeNames: dict, ExpressionAttributeValues: dict, **_: Any) -> dict:
        item = self.items[Key["payment_id"]["S"]]
        for placeholder, name in ExpressionAttributeNames.items():
            item[name] = ExpressionAttributeValues[":" + placeholder[1:]]
        return {}

    def delete_item(self, Key: dict, **_: Any) -> dict:
        self.items.pop(Key["payment_id"]["S"], None)
        return {}

    def get_item(self, Key: dict, **_: Any) -> dict:
        item = self.items.get(Key["payment_id"]["S"])
        return {"Item": item} if item else {}


class FakeAws:
    """SQS, EventBridge, Secrets Manager and KMS, each answering at once."""

    def send_message(self, **_: Any) -> dict:
        return {"MessageId": "00000000-0000-4000-8000-000000000001"}

    def put_events(self, Entries: list, **_: Any) -> dict:
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"} for _ in Entries]}

    def get_secret_value(self, **_: Any) -> dict:
        return {"SecretString": json.dumps({"api_key": "sk_bench_123"}), "VersionId": "v1"}

    def encrypt(self, Plaintext: bytes, **_: Any) -> dict:
        return {"CiphertextBlob": Plaintext[::-1]}

    def decrypt(self, CiphertextBlob: bytes, **_: Any) -> dict:
        return {"Plaintext": CiphertextBlob[::-1]}


# -- events --------------------------------------------------------------------------------------
class Context:
    function_name = "payments-api"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments-api"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def api_event(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event from a caller authenticated with SigV4 as merchant-42's role."""
    payment_id = path.rsplit("/", 1)[-1] if path.count("/") == 2 else None
    return {
        "resource": "/payments/{payment_id}" if payment_id else "/payments",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.example.com", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"payment_id": payment_id} if payment_id else None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()), "stage": "prod", "httpMethod": method, "resourcePath": "/payments",
            "path": f"/prod{path}", "accountId": ACCOUNT,
            "identity": {"userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Merchant42Caller/checkout-7",
                         "user": "AROAEXAMPLE:checkout-7", "sourceIp": "192.0.2.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


BODY = {"amount": 1250, "currency": "EUR", "payment_method_token": "tok_visa_abcdef12",
        "description": "Order 1001", "metadata": {"order": "1001"}}


def sqs_event(payment_ids: list[str]) -> dict[str, Any]:
    return {"Records": [
        {"messageId": str(uuid.uuid4()), "receiptHandle": "handle", "body": json.dumps({"payment_id": payment_id}),
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000", "SenderId": "AIDAEXAMPLE",
                        "ApproximateFirstReceiveTimestamp": "1767225600001"},
         "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
         "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:payments", "awsRegion": REGION}
        for payment_id in payment_ids]}


# -- the harness ---------------------------------------------------------------------------------
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


class DroppingEmitter:
    """X-Ray's emitter without the UDP send: each entity is serialized, as for the daemon, and dropped."""

    def send_entity(self, entity: Any) -> None:
        entity.serialize()

    def set_daemon_address(self, address: Any) -> None:
        pass


def load(tracing: bool) -> tuple[Any, Any, FakeTable]:
    """The handler modules as Lambda imports them, with every AWS client replaced by a fake."""
    os.environ.update(ENVIRONMENT)
    for name in ("LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID", "POWERTOOLS_TRACE_DISABLED"):
        os.environ.pop(name, None)  # outside Lambda Powertools' Tracer is off, as in the tests
    if tracing:
        os.environ.update({"LAMBDA_TASK_ROOT": str(ROOT / "src" / "cdk_payments"), "_X_AMZN_TRACE_ID": TRACE_HEADER})
    sys.path.insert(0, str(ROOT / "src" / "cdk_payments"))
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
    from runtime import api, clients, events

    if tracing:
        from aws_xray_sdk.core import xray_recorder

        xray_recorder.configure(emitter=DroppingEmitter())
    table, dynamodb, aws = FakeTable(), FakeDynamoDB(), FakeAws()
    for name in ("sqs", "events", "secretsmanager", "kms"):
        setattr(clients, name, lambda aws=aws: aws)
    clients.table, clients.dynamodb = (lambda: table), (lambda: dynamodb)
    DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=aws)
    persistence, _ = api._idempotency()
    persistence.client = dynamodb  # in case the layer made its own client (as it did before it took ours)
    return api, events, table


def scenarios(api: Any, events: Any, table: FakeTable) -> dict[str, Callable[[], None]]:
    context = Context()

    def expect(response: dict, status: int) -> dict:
        if response["statusCode"] != status:
            raise SystemExit(f"unexpected answer {response['statusCode']}: {response['body']}")
        return json.loads(response["body"])

    keys = itertools.count()

    def post() -> None:
        headers = {"Idempotency-Key": f"order-{next(keys):08d}"}  # a fresh key: a new payment
        expect(api.handler(api_event("POST", "/payments", BODY, headers), context), 202)

    replay_event = api_event("POST", "/payments", BODY, {"Idempotency-Key": "order-replayed-0001"})
    created = expect(api.handler(replay_event, context), 202)

    def replay() -> None:
        expect(api.handler(replay_event, context), 202)

    get_event = api_event("GET", f"/payments/{created['payment_id']}")

    def get() -> None:
        expect(api.handler(get_event, context), 200)

    list_event = api_event("GET", "/payments")

    def list_() -> None:
        expect(api.handler(list_event, context), 200)

    def settle(batch: int) -> Callable[[], None]:
        def run() -> None:
            ids = []
            for _ in range(batch):
                payment_id = str(uuid.uuid4())
                table.items[payment_id] = {**table.items[created["payment_id"]], "payment_id": payment_id,
                                           "status": "PENDING"}
                ids.append(payment_id)
            answer = events.handler(sqs_event(ids), context)
            if answer["batchItemFailures"]:
                raise SystemExit(f"records failed: {answer}")
            for payment_id in ids:
                del table.items[payment_id]
        return run

    return {
        "POST /payments": post,
        "POST /payments (replay)": replay,
        "GET /payments/{id}": get,
        "GET /payments": list_,
        "SQS batch of 1 record": settle(1),
        "SQS batch of 10 records": settle(10),
    }


@contextlib.contextmanager
def quiet():
    """Discard what the handlers print (log lines, EMF metrics) at the file descriptor."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def measure(call: Callable[[], None], requests: int, rounds: int) -> dict[str, float]:
    for _ in range(max(20, requests // 10)):
        call()
    cpu, wall = [], []
    for _ in range(rounds):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            call()
        cpu.append((time.process_time() - start_cpu) / requests * 1000)
        wall.append((time.perf_counter() - start_wall) / requests * 1000)
    return {"cpu_ms": statistics.median(cpu), "wall_ms": statistics.median(wall), "cpu_ms_min": min(cpu)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tracing", action="store_true", help="as in Lambda with active tracing (X-Ray on)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--profile", metavar="SCENARIO", help="print the cProfile top entries of one scenario")
    args = parser.parse_args()
    with quiet():
        api, events, table = load(args.tracing)
        cases = scenarios(api, events, table)
    if args.profile:
        if args.profile not in cases:
            parser.error(f"--profile: one of {', '.join(cases)}")
        profile = cProfile.Profile()
        with quiet():
            measure(cases[args.profile], 20, 1)
            profile.enable()
            measure(cases[args.profile], args.requests, 1)
            profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
        return 0
    results = {}
    for name, call in cases.items():
        with quiet():
            results[name] = measure(call, args.requests, args.rounds)
    if args.json:
        print(json.dumps({"unit": "ms per call", "requests": args.requests, "rounds": args.rounds,
                          "tracing": args.tracing, "results": results}, indent=2))
        return 0
    width = max(map(len, results))
    print(f"tracing {'on (X-Ray)' if args.tracing else 'off'}; median of {args.rounds} rounds of {args.requests} calls")
    print(f"{'scenario':{width}}  {'CPU ms':>7}  {'min':>6}  {'wall ms':>7}")
    for name, figures in results.items():
        print(f"{name:{width}}  {figures['cpu_ms']:7.3f}  {figures['cpu_ms_min']:6.3f}  {figures['wall_ms']:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
