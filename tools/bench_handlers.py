"""What a request costs the Lambda handlers with the AWS SDK in the loop: CPU, AWS round trips, latency.

    python tools/bench_handlers.py [--requests 200] [--rounds 5] [--tracing] [--json]
                                   [--baseline REF] [--runtime DIR] [--profile SCENARIO]

Drives the real handlers (``runtime.api.handler``, ``runtime.events.handler``), imported as Lambda
imports them (the function asset's root on sys.path), with API Gateway REST events from a mapped
merchant (IAM mode), the Powertools logger and metrics on, and **real boto3 clients**: every AWS
call is serialized, signed (SigV4) and its answer parsed, as in Lambda. AWS answers at botocore's
HTTP layer: a ``before-send`` hook returns the response at once, from a small in-memory DynamoDB
(PutItem with its condition, GetItem, UpdateItem, DeleteItem, Query), SQS, Secrets Manager, KMS and
EventBridge. Nothing leaves the process; the hook's own work (a JSON parse of the request) is
counted with the rest, a few µs per call.

Per route:

* ``cpu_ms``: the median over --rounds of the process CPU time of --requests calls, per call, after a
  warm-up (the first call of an execution environment creates clients and caches; see
  tools/bench_cold_start.py);
* ``aws_calls``: AWS calls per request; ``round_trips``: how many of them are *sequential*, measured,
  not counted: the hook then waits ``--latency-ms`` per call and the request's extra wall time is
  divided by it (calls that run in parallel overlap);
* ``model_ms``: round_trips x --latency-ms + cpu_ms, what the caller waits for and Lambda bills (the
  provider's own latency aside). The default 5 ms per call is a typical in-region DynamoDB/SQS
  round trip from Lambda; the CPU figure is this machine's.

``--baseline REF`` measures the runtime of git REF (e.g. ``main``, extracted to a temporary directory
with ``git archive``) and this tree's in one run, each in a fresh interpreter, and reports both.
``--runtime DIR`` measures the runtime package under DIR (a directory holding ``runtime/``).
``--tracing`` runs as in a function with active tracing (X-Ray on; an emitter that serializes and
drops each document stands in for the UDP send). ``--profile`` prints one scenario's cProfile top.
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
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
ASSET_ROOT = ROOT / "src" / "cdk_payments"
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
# What the event handler reads for each record of its scenario: an approved, PENDING payment.
SETTLING = {"merchant_id": {"S": MERCHANT}, "amount": {"N": "1250"}, "currency": {"S": "EUR"},
            "status": {"S": "PENDING"}, "authorized": {"BOOL": True}, "payment_method_token": {"S": "tok_visa_abcdef12"},
            "provider_reference": {"S": "ref-1"}, "created_at": {"S": "2026-01-01T00:00:00+00:00"}}
# How long each AWS call takes while round trips are counted: long enough that parallel calls overlap.
PROBE_LATENCY = 0.05
ASSIGNMENT = re.compile(r"(#\w+)\s*=\s*(:\w+)")


# -- AWS, answered at botocore's HTTP layer ---------------------------------------------------------
class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any):
        yield self.body


class Aws:
    """The ``before-send`` hook: answers each signed request from memory, counting the calls."""

    def __init__(self) -> None:
        from botocore.awsrequest import AWSResponse

        self._response = AWSResponse
        self.items: dict[str, dict] = {}
        self.calls = 0
        self.latency = 0.0
        self.intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def sequential(self, call: Callable[[], None], latency: float) -> int:
        """How many of ``call``'s AWS calls are sequential: each call now takes ``latency`` seconds, and
        calls whose intervals overlap (sent in parallel) count as one round trip."""
        self.intervals, self.latency = [], latency
        try:
            call()
        finally:
            self.latency = 0.0
        trips, end = 0, float("-inf")
        for start, stop in sorted(self.intervals):
            if start >= end:
                trips += 1
            end = max(end, stop)
        return trips

    def __call__(self, request: Any, **_: Any) -> Any:
        self.calls += 1
        if self.latency:
            start = time.perf_counter()
            time.sleep(self.latency)
            with self._lock:
                self.intervals.append((start, time.perf_counter()))
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        body = json.loads(request.body or b"{}")
        status, answer = getattr(self, operation)(body)
        return self._response(request.url, status, {"Content-Type": "application/x-amz-json-1.0"},
                              Raw(json.dumps(answer).encode()))

    # DynamoDB: enough of it for the handlers (conditions: "the item must not exist", else none).
    def PutItem(self, body: dict) -> tuple[int, dict]:
        key = body["Item"]["payment_id"]["S"]
        if "ConditionExpression" in body and key in self.items:
            error = {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                     "message": "The conditional request failed"}
            if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                error["Item"] = self.items[key]
            return 400, error
        self.items[key] = body["Item"]
        return 200, {}

    def GetItem(self, body: dict) -> tuple[int, dict]:
        key = body["Key"]["payment_id"]["S"]
        if key.startswith("settle-"):  # the event handler's scenario: always a fresh PENDING payment
            return 200, {"Item": {**SETTLING, "payment_id": {"S": key}}}
        return 200, {"Item": self.items[key]} if key in self.items else {}

    def UpdateItem(self, body: dict) -> tuple[int, dict]:
        key = body["Key"]["payment_id"]["S"]
        if key in self.items:
            names, values = body.get("ExpressionAttributeNames", {}), body.get("ExpressionAttributeValues", {})
            set_part, _, remove = body["UpdateExpression"].partition(" REMOVE ")
            for name, value in ASSIGNMENT.findall(set_part):
                self.items[key][names[name]] = values[value]
            for name in filter(None, (n.strip() for n in remove.split(","))):
                self.items[key].pop(names.get(name, name), None)
        return 200, {}

    def DeleteItem(self, body: dict) -> tuple[int, dict]:
        self.items.pop(body["Key"]["payment_id"]["S"], None)
        return 200, {}

    def Query(self, body: dict) -> tuple[int, dict]:
        summary = ("payment_id", "merchant_id", "amount", "currency", "status", "created_at")
        page = [{k: v for k, v in item.items() if k in summary} for item in self.items.values()
                if "#" not in item["payment_id"]["S"]][:20]
        return 200, {"Items": page, "Count": len(page), "ScannedCount": len(page)}

    def SendMessage(self, body: dict) -> tuple[int, dict]:
        return 200, {"MessageId": "00000000-0000-4000-8000-000000000001", "MD5OfMessageBody": "0" * 32}

    def PutEvents(self, body: dict) -> tuple[int, dict]:
        return 200, {"FailedEntryCount": 0, "Entries": [{"EventId": "1"} for _ in body["Entries"]]}

    def GetSecretValue(self, body: dict) -> tuple[int, dict]:
        return 200, {"ARN": body["SecretId"], "Name": "provider", "VersionId": "v1",
                     "SecretString": json.dumps({"api_key": "sk_bench_123"}), "CreatedDate": 1767225600}


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


def load(runtime_root: Path, tracing: bool) -> tuple[Any, Any, Aws]:
    """The handler modules as Lambda imports them, every AWS client answered by the hook."""
    os.environ.update(ENVIRONMENT)
    for name in ("LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID", "POWERTOOLS_TRACE_DISABLED", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)  # outside Lambda Powertools' Tracer is off, as in the tests
    if tracing:
        os.environ.update({"LAMBDA_TASK_ROOT": str(runtime_root), "_X_AMZN_TRACE_ID": TRACE_HEADER})
    sys.path.insert(0, str(runtime_root))
    import boto3

    aws = Aws()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION._session.register("before-send", aws)  # every client copies the session's hooks
    from runtime import api, events

    if tracing:
        from aws_xray_sdk.core import xray_recorder

        xray_recorder.configure(emitter=DroppingEmitter())
    return api, events, aws


def scenarios(api: Any, events: Any, aws: Aws) -> dict[str, Callable[[], None]]:
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

    settled = itertools.count()

    def settle(batch: int) -> Callable[[], None]:
        def run() -> None:
            answer = events.handler(sqs_event([f"settle-{next(settled)}" for _ in range(batch)]), context)
            if answer["batchItemFailures"]:
                raise SystemExit(f"records failed: {answer}")
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


def measure(call: Callable[[], None], aws: Aws, requests: int, rounds: int, latency_ms: float) -> dict[str, float]:
    for _ in range(max(20, requests // 10)):
        call()
    cpu, wall = [], []
    calls_before = aws.calls
    for _ in range(rounds):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            call()
        cpu.append((time.process_time() - start_cpu) / requests * 1000)
        wall.append((time.perf_counter() - start_wall) / requests * 1000)
    calls = (aws.calls - calls_before) / (rounds * requests)
    round_trips = min(aws.sequential(call, PROBE_LATENCY) for _ in range(3))
    return {"cpu_ms": statistics.median(cpu), "wall_ms": statistics.median(wall), "cpu_ms_min": min(cpu),
            "aws_calls": round(calls, 2), "round_trips": round_trips,
            "model_ms": round(round_trips * latency_ms + statistics.median(cpu), 2)}


def run_here(args: argparse.Namespace) -> dict:
    with quiet():
        api, events, aws = load(Path(args.runtime or ASSET_ROOT), args.tracing)
        cases = scenarios(api, events, aws)
    if args.profile:
        if args.profile not in cases:
            raise SystemExit(f"--profile: one of {', '.join(cases)}")
        profile = cProfile.Profile()
        with quiet():
            measure(cases[args.profile], aws, 20, 1, args.latency_ms)
            profile.enable()
            for _ in range(args.requests):
                cases[args.profile]()
            profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
        raise SystemExit(0)
    results = {}
    for name, call in cases.items():
        with quiet():
            results[name] = measure(call, aws, args.requests, args.rounds, args.latency_ms)
    return {"unit": "ms per request", "requests": args.requests, "rounds": args.rounds, "tracing": args.tracing,
            "latency_ms_per_call": args.latency_ms, "results": results}


def extract(ref: str, into: Path) -> Path:
    """git REF's runtime package, as a directory holding runtime/."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src/cdk_payments/runtime"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src" / "cdk_payments"


def run_child(args: argparse.Namespace, runtime: Path) -> dict:
    command = [sys.executable, __file__, "--json", "--runtime", str(runtime), "--requests", str(args.requests),
               "--rounds", str(args.rounds), "--latency-ms", str(args.latency_ms)] + (["--tracing"] if args.tracing else [])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"benchmark of {runtime} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def table(title: str, figures: dict) -> str:
    results = figures["results"]
    width = max(map(len, results))
    lines = [title, f"{'scenario':{width}}  {'CPU ms':>7}  {'min':>6}  {'calls':>5}  {'seq':>4}  {'model ms':>8}"]
    for name, f in results.items():
        lines.append(f"{name:{width}}  {f['cpu_ms']:7.3f}  {f['cpu_ms_min']:6.3f}  {f['aws_calls']:5.1f}  "
                     f"{f['round_trips']:4.1f}  {f['model_ms']:8.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=5.0, help="per AWS call, for the latency model")
    parser.add_argument("--tracing", action="store_true", help="as in Lambda with active tracing (X-Ray on)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--runtime", help="a directory holding the runtime/ package to measure")
    parser.add_argument("--baseline", metavar="REF", help="also measure git REF's runtime, in the same run")
    parser.add_argument("--profile", metavar="SCENARIO", help="print the cProfile top entries of one scenario")
    args = parser.parse_args()
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            baseline = run_child(args, extract(args.baseline, Path(tmp)))
            current = run_child(args, ASSET_ROOT)
        combined = {"baseline_ref": args.baseline, "baseline": baseline, "current": current}
        if args.json:
            print(json.dumps(combined, indent=2))
        else:
            print(f"tracing {'on (X-Ray)' if args.tracing else 'off'}; median of {args.rounds} rounds of "
                  f"{args.requests} requests; model = sequential round trips x {args.latency_ms} ms + CPU")
            print(table(f"\n{args.baseline}:", baseline))
            print(table("\nthis tree:", current))
        return 0
    figures = run_here(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(table(f"tracing {'on (X-Ray)' if args.tracing else 'off'}; median of {args.rounds} rounds of "
                    f"{args.requests} requests; model = sequential round trips x {args.latency_ms} ms + CPU", figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
