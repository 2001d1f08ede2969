"""`cdk-payments local` on the example's cloud assembly, and its gateway in front of the real handlers.

The gateway refuses what API Gateway's IAM authorization refuses (no signature, a wrong signature, a
role without execute-api:Invoke, a route the API does not have), and passes the rest to the deployed
processor function with the caller's role session as its identity.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from cdk_payments.client import PaymentNotFoundError, PaymentsClient, RequestRefusedError
from cdk_payments.local.deploy import deploy
from cdk_payments.local.emulator import FAKE_CREDENTIALS, Emulator
from cdk_payments.local.gateway import Gateway

pytestmark = pytest.mark.slow
STACK = "PaymentPlatform-dev"


@pytest.fixture(scope="module")
def assembly(example_assemblies):
    return example_assemblies.get("dev")


def test_cdk_payments_local_deploys_the_example_and_smoke_tests_it(assembly):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "local", str(assembly)], env=env,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert re.search(rf"ok +stack {STACK} created in us-east-1: \d+ resources", out), out + result.stderr
    assert re.search(r"ok +API .* served at http://127\.0\.0\.1:\d+/v1/", out), out
    steps = re.findall(r"^\[\s*[\d.]+s\] (ok|FAIL) +([^:]+):", out.split("cdk-payments smoke")[1], re.M)
    assert steps[:7] == [("ok", s) for s in (
        "stack outputs read", "signed in as the merchant role", "payment accepted",
        "replay answered the same, nothing new", "payment processed", "payment listed", "second merchant gets 404")], out
    assert result.returncode == 0 and steps[7:] == [("ok", "audit record written"), ("ok", "smoke test passed")], out


def test_cdk_payments_local_refuses_what_is_not_an_assembly(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "local", str(tmp_path)], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "is not a cloud assembly (no manifest.json)" in result.stderr


def test_cdk_payments_local_names_a_stack_the_emulator_cannot_create(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"App": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "App.template.json"}}}}))
    (tmp_path / "App.template.json").write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))
    (tmp_path / "App.assets.json").write_text(json.dumps({"version": "36.0.0", "files": {},
                                                           "dockerImages": {"image": {}}}))
    result = subprocess.run([sys.executable, "-m", "cdk_payments.cost", "local", str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL stack App: the emulator could not create it: NotImplementedError: App has Docker image assets" \
        in result.stdout


@pytest.fixture(scope="module")
def served(example_assemblies, tmp_path_factory):
    """The example's dev stack in the emulator, its API behind the gateway."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        emulator = Emulator(tmp_path_factory.mktemp("emulator"))
        emulator.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                deployment = deploy(emulator, example_assemblies.get("dev"), STACK)
            api = deployment.one("AWS::ApiGateway::RestApi", "PaymentsApi")
            gateway = Gateway(emulator, deployment.physical[api], "v1", deployment.region).start()
            outputs = {o["OutputKey"]: o["OutputValue"] for o in deployment.client("cloudformation").describe_stacks(
                StackName=STACK)["Stacks"][0]["Outputs"]}
            yield emulator, gateway, outputs
            gateway.stop()
        finally:
            emulator.stop()


def client(served, role_arn):
    emulator, gateway, _ = served
    return PaymentsClient(gateway.url, session=boto3.Session(region_name="us-east-1"), role_arn=role_arn,
                          sts_endpoint_url=emulator.endpoint, max_attempts=1)


def test_the_client_pays_and_reads_through_the_gateway_and_the_handlers(served):
    demo = client(served, served[2]["DemoMerchantRoleArn"])
    created = demo.create_payment(amount=4200, currency="EUR", payment_method_token="tok_gateway_test",
                                  metadata={"order": "A-1"})
    payment = demo.get_payment(created.payment_id)
    assert (payment.merchant_id, payment.amount, payment.metadata) == ("demo-merchant", 4200, {"order": "A-1"})
    assert payment.status == "PROCESSED"  # the queue's event source mapping ran the event handler
    assert created.payment_id in [p.payment_id for p in demo.list_payments(page_size=1)]
    with pytest.raises(PaymentNotFoundError):
        client(served, served[2]["SecondMerchantRoleArn"]).get_payment(created.payment_id)


def _raw(gateway, method, path, *, headers=None, body=None):
    request = urllib.request.Request(f"{gateway.url}{path}", method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_unsigned_request_is_refused(served):
    status, body = _raw(served[1], "GET", "payments")
    assert (status, body["error"]["code"], body["error"]["message"]) == (403, "request_refused",
                                                                        "Missing Authentication Token")


def test_a_route_the_api_does_not_have_is_refused(served):
    with pytest.raises(RequestRefusedError, match="Missing Authentication Token"):
        client(served, served[2]["DemoMerchantRoleArn"]).request("DELETE", "payments")


def test_a_tampered_request_is_refused(served):
    emulator, gateway, outputs = served
    credentials = boto3.Session().client("sts", endpoint_url=emulator.endpoint).assume_role(
        RoleArn=outputs["DemoMerchantRoleArn"], RoleSessionName="tamper")["Credentials"]
    signed = AWSRequest(method="GET", url=f"{gateway.url}payments?limit=1")
    SigV4Auth(boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"]).get_credentials(),
              "execute-api", "us-east-1").add_auth(signed)
    assert _raw(gateway, "GET", "payments?limit=1", headers=dict(signed.headers))[0] == 200
    status, body = _raw(gateway, "GET", "payments?limit=2", headers=dict(signed.headers))
    assert status == 403 and "signature we calculated does not match" in body["error"]["message"]


def test_a_role_without_execute_api_invoke_is_refused(served):
    emulator = served[0]
    iam = emulator.client("iam")
    role = iam.create_role(RoleName="NoInvoke", AssumeRolePolicyDocument=json.dumps({"Statement": []}))["Role"]["Arn"]
    with pytest.raises(RequestRefusedError, match=r"assumed-role/NoInvoke/.* is not authorized to perform: "
                                                  r"execute-api:Invoke on resource: arn:aws:execute-api:.*/v1/GET/payments"):
        client(served, role).list_payments_page()
