"""`cdk-payments smoke --stack NAME`: prove that a deployed payment stack works, step by step.

It reads the stack's outputs, signs as a merchant role (the demo role by default), creates a payment
with a fresh idempotency key, replays it (same answer, nothing new), waits until the event handler
has processed it, lists it, reads it back as a second merchant (which must get 404), and checks that
its audit record landed under the audit prefix. Each step prints its elapsed time; the first failure
stops the run with the AWS error in plain words.

Exit codes: 0 every step passed; 1 a check failed (the API or AWS answered something unexpected);
2 the stack cannot be smoke-tested as it is (no such stack, a missing output, no credentials).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .client import ApiError, PaymentNotFoundError, PaymentsClient, PaymentsError

# Where the event handler leaves a payment, and which of those means it went through. (One place:
# the lifecycle work may rename statuses.)
TERMINAL_STATUSES = frozenset({"PROCESSED", "FAILED"})
SUCCEEDED_STATUSES = frozenset({"PROCESSED"})
# The outputs each step reads (the example's CfnOutput keys).
API_URL, DEMO_ROLE, SECOND_ROLE = "ApiUrl", "DemoMerchantRoleArn", "SecondMerchantRoleArn"
AUDIT_BUCKET, AUDIT_PREFIX = "AuditBucketName", "AuditEventsPrefix"
SMOKE_DESCRIPTION = "cdk-payments smoke test"
SMOKE_TOKEN = "tok_smoke_test"  # the sandbox adapter approves any token


class SmokeFailure(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class SmokeOptions:
    stack: str
    region: Optional[str] = None
    endpoint_url: Optional[str] = None  # AWS endpoint (the local emulator's)
    api_url: Optional[str] = None  # instead of the ApiUrl output (the local gateway's)
    role_arn: Optional[str] = None  # instead of the DemoMerchantRoleArn output
    second_role_arn: Optional[str] = None  # instead of the SecondMerchantRoleArn output
    process_timeout: float = 60.0
    audit_timeout: float = 900.0  # Firehose buffers up to 900 s before it writes to S3
    poll_interval: float = 1.0


class Smoke:
    """The steps, in order; each returns a one-line result or raises :class:`SmokeFailure`."""

    def __init__(self, options: SmokeOptions, *, session: Optional[boto3.Session] = None,
                 out: Optional[TextIO] = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.options, self.out, self.clock = options, out or sys.stdout, clock
        self.session = session or boto3.Session(region_name=options.region)
        self.region = options.region or self.session.region_name or "us-east-1"
        self.run_id = uuid.uuid4().hex[:12]
        self.outputs: dict[str, str] = {}
        self.payment: Any = None
        self.client: Optional[PaymentsClient] = None
        self.amount = random.randint(100, 99_999)  # one per run: the list check recognises a duplicate
        self._started = clock()

    def run(self) -> int:
        steps = [("stack outputs read", self.read_outputs), ("signed in as the merchant role", self.sign_in),
                 ("payment accepted", self.create), ("replay answered the same, nothing new", self.replay),
                 ("payment processed", self.wait_processed), ("payment listed", self.listed),
                 ("second merchant gets 404", self.isolated), ("audit record written", self.audited)]
        for name, step in steps:
            try:
                detail = step()
            except SmokeFailure as failure:
                self._print("FAIL", name, str(failure))
                return failure.exit_code
            except ApiError as error:
                self._print("FAIL", name, f"the API answered {error.status} {error.code}: {error.message}")
                return 1
            except PaymentsError as error:
                self._print("FAIL", name, str(error))
                return 1
            except (ClientError, BotoCoreError) as error:
                self._print("FAIL", name, plain_aws_error(error))
                return 2 if _is_configuration(error) else 1
            self._print("ok", name, detail)
        self._print("ok", "smoke test passed", f"payment {self.payment.payment_id}")
        return 0

    # -- the steps ---------------------------------------------------------------------------------
    def read_outputs(self) -> str:
        cloudformation = self.session.client("cloudformation", region_name=self.region,
                                             endpoint_url=self.options.endpoint_url)
        stack = cloudformation.describe_stacks(StackName=self.options.stack)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        return f"{self.options.stack} ({stack['StackStatus']}): {', '.join(sorted(self.outputs)) or 'no outputs'}"

    def sign_in(self) -> str:
        role = self.options.role_arn or self.output(DEMO_ROLE)
        self.client = self._client(role)
        return f"{role} at {self.client.api_url}"

    def create(self) -> str:
        self.key = f"smoke-{self.run_id}"
        self.payment = self.client.create_payment(**self._body(), idempotency_key=self.key)
        return f"{self.payment.payment_id} {self.payment.status} (Idempotency-Key {self.key})"

    def replay(self) -> str:
        again = self.client.create_payment(**self._body(), idempotency_key=self.key)
        if (again.payment_id, again.status) != (self.payment.payment_id, self.payment.status):
            raise SmokeFailure(f"the replay answered {again.payment_id} {again.status}, the first call "
                               f"{self.payment.payment_id} {self.payment.status}: the key did not deduplicate")
        return f"{again.payment_id} {again.status}"

    def wait_processed(self) -> str:
        payment = self._poll(lambda: self.client.get_payment(self.payment.payment_id),
                             lambda p: p.status in TERMINAL_STATUSES, self.options.process_timeout,
                             lambda p: f"still {p.status} after {self.options.process_timeout:.0f} s: is the event "
                                       "handler consuming the queue (its DLQ, its logs)?")
        if payment.status not in SUCCEEDED_STATUSES:
            raise SmokeFailure(f"the payment ended {payment.status}"
                               + (f" ({payment.decline_reason})" if payment.decline_reason else ""))
        self.payment_created_at = payment.created_at
        return payment.status

    def listed(self) -> str:
        def mine() -> list:
            return [p for p in self.client.list_payments(created_from=self.payment_created_at)
                    if p.amount == self.amount and p.currency == "EUR"]

        found = self._poll(mine, lambda ps: any(p.payment_id == self.payment.payment_id for p in ps),
                           self.options.process_timeout, lambda ps: "not in GET /payments (the by-merchant index)")
        if len(found) != 1:
            raise SmokeFailure(f"{len(found)} payments of this run are listed ({[p.payment_id for p in found]}): "
                               "the replay created a second payment")
        return f"{found[0].payment_id} {found[0].status} in GET /payments"

    def isolated(self) -> str:
        role = self.options.second_role_arn or self.output(SECOND_ROLE)
        try:
            seen = self._client(role).get_payment(self.payment.payment_id)
        except PaymentNotFoundError:
            return f"{role}: 404 payment_not_found"
        raise SmokeFailure(f"the second merchant ({role}) read the payment: 200 {seen.status}; expected 404 "
                           "(tenants are not isolated)")

    def audited(self) -> str:
        bucket, prefix = self.output(AUDIT_BUCKET), self.output(AUDIT_PREFIX)
        s3 = self.session.client("s3", region_name=self.region, endpoint_url=self.options.endpoint_url)
        payment_id = self.payment.payment_id.encode()
        read: set[str] = set()

        def records() -> list[str]:
            found = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    if item["Key"] not in read:
                        read.add(item["Key"])
                        if payment_id in s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read():
                            found.append(item["Key"])
            return found

        keys = self._poll(records, bool, self.options.audit_timeout,
                          lambda _: f"no record of the payment under s3://{bucket}/{prefix}")
        return f"s3://{bucket}/{keys[0]}"

    # -- helpers -----------------------------------------------------------------------------------
    def output(self, key: str) -> str:
        if not self.outputs.get(key):
            raise SmokeFailure(f"the stack {self.options.stack} has no output {key} (outputs: "
                               f"{', '.join(sorted(self.outputs)) or 'none'}); deploy a stack that outputs it, "
                               "or pass it as an option", exit_code=2)
        return self.outputs[key]

    def _client(self, role_arn: str) -> PaymentsClient:
        return PaymentsClient(self.options.api_url or self.output(API_URL), session=self.session, region=self.region,
                              role_arn=role_arn, role_session_name=f"cdk-payments-smoke-{self.run_id}",
                              sts_endpoint_url=self.options.endpoint_url)

    def _body(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": "EUR", "payment_method_token": SMOKE_TOKEN,
                "description": SMOKE_DESCRIPTION, "metadata": {"smoke_test": "true", "smoke_run": self.run_id}}

    def _poll(self, read: Callable[[], Any], done: Callable[[Any], bool], timeout: float,
              why: Callable[[Any], str]) -> Any:
        deadline = self.clock() + timeout
        while True:
            value = read()
            if done(value):
                return value
            if self.clock() >= deadline:
                raise SmokeFailure(why(value))
            time.sleep(self.options.poll_interval)

    def _print(self, mark: str, step: str, detail: str) -> None:
        print(f"[{self.clock() - self._started:6.2f}s] {mark:4} {step}: {detail}", file=self.out, flush=True)


def plain_aws_error(error: Exception) -> str:
    """An AWS error as a sentence: what was refused, and why, without a traceback."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", "")
        operation = error.operation_name
        hint = {"AccessDenied": "the credentials in use are not allowed to do this",
                "ValidationError": "no such stack in this account and region, or a malformed request",
                "ExpiredToken": "the credentials have expired: sign in again"}.get(code, "")
        return f"AWS refused {operation}: {code}: {message}" + (f" ({hint})" if hint else "")
    return f"{type(error).__name__}: {error}"


def _is_configuration(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error.operation_name == "DescribeStacks"
    return True  # no credentials, no region, no endpoint: nothing was tested yet


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdk-payments smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    parser.add_argument("--endpoint-url", help="an AWS endpoint other than AWS's (the local emulator's)")
    parser.add_argument("--api-url", help=f"call this URL instead of the {API_URL} output")
    parser.add_argument("--role-arn", help=f"sign as this role instead of the {DEMO_ROLE} output")
    parser.add_argument("--second-role-arn", help=f"the other merchant's role instead of the {SECOND_ROLE} output")
    parser.add_argument("--process-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long the payment may take to be processed and listed (default 60)")
    parser.add_argument("--audit-timeout", type=float, default=900.0, metavar="SECONDS",
                        help="how long the audit record may take (default 900: Firehose's longest buffer)")
    return parser


def main(argv: Optional[Sequence[str]] = None, *, session: Optional[boto3.Session] = None) -> int:
    options = parser().parse_args(argv)
    return Smoke(SmokeOptions(**vars(options)), session=session).run()
