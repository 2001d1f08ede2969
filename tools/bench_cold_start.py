"""Cold start: each Lambda handler module's import time in a fresh interpreter, and where it goes.

    python tools/bench_cold_start.py [--runs 7] [--top 8] [--environment local|lambda|both] [--json]

Target: importing a handler module costs at most 1.2x a bare ``import boto3`` measured in the same run
(every handler needs boto3, so that is the floor); ``ratio_to_boto3`` reports it per module, from CPU
times (steadier than wall times on a shared machine).

Each module is imported as Lambda imports it: by its name under the function asset's root
(src/cdk_payments, the package dir that holds runtime/), in a fresh ``python -X importtime``. The
figure is the module's cumulative import time, the median of --runs interpreters. Two environments:

* ``local``: outside Lambda, where Powertools' Tracer is off (as in the tests and the issue's figure);
* ``lambda``: LAMBDA_TASK_ROOT set and POWERTOOLS_TRACE_DISABLED unset, as in a function with active
  tracing (the construct's default): Powertools turns the Tracer on and the X-Ray SDK patches every
  library it supports that it can import. ``requests`` (installed here for the dev tools, not in
  the Lambda runtime or the Powertools layer) is hidden, or patching it would add about 25 ms.

Under load (this machine is shared) wall times grow; the import's CPU time is reported beside them.
The breakdown lists the handler module's direct imports by cumulative time (of the median run), then
the cumulative time of a few heavy packages wherever they were first imported.

What the first caller waits for is more than the import: the first request also creates the boto3
clients (endpoint rules and service models loaded from disk) and fills the caches. ``first request``
is the import plus the first call of the handler (a POST /payments for the API, a one-record batch
for the event handler) in a fresh interpreter, with real boto3 clients whose HTTP send answers at
once in-process (no network): the process's CPU time (this machine is shared; CPU time is steadier
than wall time under load), median of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSET_ROOT = ROOT / "src" / "cdk_payments"
MODULES = ("runtime.api", "runtime.events", "runtime.rotation")
COMMON = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "payments",
          "POWERTOOLS_METRICS_NAMESPACE": "CdkPayments", "TABLE_NAME": "payments"}
ENVIRONMENTS = {
    "local": {},
    "lambda": {"LAMBDA_TASK_ROOT": str(ASSET_ROOT), "AWS_LAMBDA_FUNCTION_NAME": "payments-api",
               "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14"},
}
# Importable here but not in Lambda's Python runtime with the Powertools layer.
NOT_IN_LAMBDA = {"local": (), "lambda": ("requests",)}
# Variables of this shell that would change what is imported or how.
DROPPED = ("PYTHONPATH", "LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_DEBUG", "_X_AMZN_TRACE_ID")
# Run in a fresh interpreter: import the handler, then time its first call against canned AWS answers.
FIRST_REQUEST = r"""
import json, sys, time
start = time.process_time()
import botocore.httpsession
from botocore.awsrequest import AWSResponse

PAYMENT = {"payment_id": {"S": "5f0e7d2c-0000-4000-8000-000000000001"}, "merchant_id": {"S": "merchant-42"},
           "amount": {"N": "1250"}, "currency": {"S": "EUR"}, "status": {"S": "PENDING"},
           "authorized": {"BOOL": True}, "payment_method_token": {"S": "tok_visa_abcdef12"}}
ANSWERS = {
    "secretsmanager.GetSecretValue": {"ARN": "arn", "Name": "provider", "VersionId": "v1",
                                      "SecretString": json.dumps({"api_key": "sk_bench"})},
    "DynamoDB_20120810.GetItem": {"Item": PAYMENT},
    "AmazonSQS.SendMessage": {"MessageId": "m-1", "MD5OfMessageBody": "0" * 32},
    "AWSEvents.PutEvents": {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]},
}


class Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body


def send(self, request):
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    body = json.dumps(ANSWERS.get(target, {})).encode()
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, Raw(body))


botocore.httpsession.URLLib3Session.send = send
import MODULE as handler_module


class Context:
    function_name = "payments"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:payments"
    aws_request_id = "first"

    def get_remaining_time_in_millis(self):
        return 10000


imported = time.process_time()
if "MODULE" == "runtime.api":
    event = {"resource": "/payments", "path": "/payments", "httpMethod": "POST",
             "headers": {"Content-Type": "application/json", "Idempotency-Key": "order-first-0001"},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": None, "isBase64Encoded": False,
             "body": json.dumps({"amount": 1250, "currency": "EUR", "payment_method_token": "tok_visa_abcdef12"}),
             "requestContext": {"requestId": "r-1", "stage": "prod", "httpMethod": "POST", "path": "/prod/payments",
                                "resourcePath": "/payments", "identity": {
                                    "userArn": "arn:aws:sts::123456789012:assumed-role/Merchant42Caller/checkout-7"}}}
    expected = 202
else:
    event = {"Records": [{"messageId": "m-1", "receiptHandle": "h", "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
                          "body": json.dumps({"payment_id": PAYMENT["payment_id"]["S"]}), "attributes": {},
                          "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payments",
                          "awsRegion": "us-east-1"}]}
    expected = None
answer = handler_module.handler(event, Context())
done = time.process_time()
if expected and answer["statusCode"] != expected or not expected and answer["batchItemFailures"]:
    sys.exit(f"unexpected answer: {answer}")
sys.stderr.write(f"FIRST {imported - start} {done - imported}\n")
"""
FIRST_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AUTH_MODE": "iam",
                     "MERCHANT_ROLES": '{"merchant-42": "arn:aws:iam::123456789012:role/Merchant42Caller"}',
                     "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/payments",
                     "EVENT_BUS_NAME": "payments", "POWERTOOLS_METRICS_NAMESPACE": "CdkPayments",
                     "PROVIDER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:provider"}
FIRST_MODULES = ("runtime.api", "runtime.events")
# Where the time goes, whichever module imports them first (cumulative, nested ones included).
PACKAGES = ("boto3", "s3transfer", "botocore.session", "aws_lambda_powertools", "aws_lambda_powertools.event_handler",
            "aws_lambda_powertools.utilities.idempotency", "aws_lambda_powertools.utilities.batch", "asyncio",
            "fastjsonschema", "aws_xray_sdk.core", "aws_xray_sdk.ext.botocore")
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _hide(environment: str) -> str:
    """Code that makes the packages Lambda does not have fail to import (None in sys.modules)."""
    hidden = NOT_IN_LAMBDA[environment]
    return f"import sys; sys.modules.update(dict.fromkeys({hidden!r}))\n" if hidden else ""


def import_once(module: str, environment: str) -> tuple[float, list[tuple[int, int, int, str]]]:
    """The import's CPU ms, and (self µs, cumulative µs, depth, name) for every module a fresh
    interpreter imported."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(COMMON)
    env.update(ENVIRONMENTS[environment])
    code = (_hide(environment) + "import time as _time; _cpu = _time.process_time()\n"
            + f"import {module}\nimport sys; sys.stderr.write(f'CPU {{_time.process_time() - _cpu}}\\n')")
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ASSET_ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"import {module} failed ({environment}):\n{run.stderr[-2000:]}")
    rows, cpu = [], 0.0
    for line in run.stderr.splitlines():
        match = LINE.match(line)
        if match:
            rows.append((int(match[1]), int(match[2]), (len(match[3]) - 1) // 2, match[4]))
        elif line.startswith("CPU "):
            cpu = float(line.split()[1]) * 1000
    return cpu, rows


def first_request(module: str, environment: str) -> float:
    """CPU milliseconds from the start of the import to the end of the handler's first call."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update({**COMMON, **FIRST_ENVIRONMENT, **ENVIRONMENTS[environment]})
    script = _hide(environment) + FIRST_REQUEST.replace("MODULE", module)
    run = subprocess.run([sys.executable, "-c", script], cwd=ASSET_ROOT, env=env, capture_output=True, text=True,
                         check=False)
    timing = next((line.split() for line in run.stderr.splitlines() if line.startswith("FIRST ")), None)
    if run.returncode != 0 or timing is None:
        raise SystemExit(f"first request of {module} failed ({environment}):\n{run.stderr[-3000:]}")
    return (float(timing[1]) + float(timing[2])) * 1000


def measure(module: str, environment: str, runs: int, top: int) -> dict:
    cpus, samples = zip(*(import_once(module, environment) for _ in range(runs)), strict=True)
    totals = [next(cumulative for _, cumulative, depth, name in rows if name == module and depth == 0)
              for rows in samples]
    median = statistics.median(totals)
    rows = samples[min(range(runs), key=lambda i: abs(totals[i] - median))]
    index = max(i for i, row in enumerate(rows) if row[3] == module and row[2] == 0)
    start = index
    while start > 0 and rows[start - 1][2] > 0:
        start -= 1
    children = sorted((row for row in rows[start:index] if row[2] == 1), key=lambda row: -row[1])
    firsts = [first_request(module, environment) for _ in range(runs)] if module in FIRST_MODULES else []
    cumulative_of = {name: cumulative for _, cumulative, _, name in rows}
    return {
        "import_ms": round(median / 1000, 1),
        "first_request_ms": round(statistics.median(firsts), 1) if firsts else None,
        "min_ms": round(min(totals) / 1000, 1),
        "import_cpu_ms": round(statistics.median(cpus), 1),
        "runs": runs,
        "xray_imported": any(name.startswith("aws_xray_sdk.core") for _, _, _, name in rows),
        "breakdown": [{"module": name, "cumulative_ms": round(cumulative / 1000, 1)}
                      for _, cumulative, _, name in children[:top]],
        "packages": {name: round(cumulative_of[name] / 1000, 1) for name in PACKAGES if name in cumulative_of},
    }


def _ms(value: float | None) -> str:
    return f"{value:6.1f}" if value is not None else f"{'-':>6}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per module and environment")
    parser.add_argument("--top", type=int, default=8, help="direct imports listed per module")
    parser.add_argument("--environment", choices=[*ENVIRONMENTS, "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    environments = list(ENVIRONMENTS) if args.environment == "both" else [args.environment]
    results = {env: {module: measure(module, env, args.runs, args.top) for module in MODULES} for env in environments}
    floor = {env: measure("boto3", env, args.runs, args.top) for env in environments}
    for env in environments:
        for module in MODULES:
            # CPU time, steadier than wall time on a shared machine; both imports measured alike.
            results[env][module]["ratio_to_boto3"] = round(
                results[env][module]["import_cpu_ms"] / floor[env]["import_cpu_ms"], 2)
    if args.json:
        print(json.dumps({"unit": "ms", "results": results,
                          "boto3_ms": {env: floor[env]["import_ms"] for env in environments},
                          "boto3_cpu_ms": {env: floor[env]["import_cpu_ms"] for env in environments}}, indent=2))
        return 0
    print(f"import: ms to import the module (-X importtime, median and min of {args.runs}); cpu: its CPU ms; "
          "first: CPU ms to import it and serve its first request")
    print(f"{'':18}" + "".join(f"  {env:-^29}" for env in environments))
    print(f"{'module':18}" + f"  {'import':>6}  {'min':>6}  {'cpu':>5}  {'first':>6}" * len(environments)
          + "  x boto3  X-Ray imported")
    for module in MODULES:
        cells = "".join(f"  {results[env][module]['import_ms']:6.1f}  {results[env][module]['min_ms']:6.1f}"
                        f"  {results[env][module]['import_cpu_ms']:5.1f}  {_ms(results[env][module]['first_request_ms'])}"
                        for env in environments)
        xray = ", ".join(env for env in environments if results[env][module]["xray_imported"]) or "no"
        ratios = "/".join(f"{results[env][module]['ratio_to_boto3']:.2f}" for env in environments)
        print(f"{module:18}{cells}  {ratios:>7}  {xray}")
    print("import boto3: " + ", ".join(f"{floor[env]['import_ms']:.1f} ms, CPU {floor[env]['import_cpu_ms']:.1f} ms "
                                       f"({env})" for env in environments) + "; x boto3 compares CPU times")
    for env in environments:
        for module in MODULES:
            print(f"\n{module} ({env}): direct imports by cumulative time (median run)")
            for row in results[env][module]["breakdown"]:
                print(f"  {row['cumulative_ms']:7.1f} ms  {row['module']}")
            packages = results[env][module]["packages"]
            print("  of which: " + ", ".join(f"{name} {ms:.1f}" for name, ms in packages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
