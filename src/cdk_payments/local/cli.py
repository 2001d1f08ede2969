"""`cdk-payments local PATH`: deploy a cloud assembly into the local emulator, then smoke-test it.

Every stack of ``PATH`` (a ``cdk.out`` directory) is created in a moto server on 127.0.0.1, as
`cdk deploy --all` would; each deployed REST API gets a gateway on 127.0.0.1 and `cdk-payments smoke`
runs against it. With ``--keep-running`` the emulator and gateways stay up until Ctrl-C.
Nothing reaches AWS: every AWS call goes to the emulator, with fake credentials.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Optional, Sequence

EXTRA_HINT = "cdk-payments local needs moto: pip install 'cdk-payments[local]'"
# AWS configuration that must not leak into the emulator (a real profile, a real endpoint).
_UNSET = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdk-payments local", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a cloud assembly (cdk.out) directory")
    parser.add_argument("--stack", action="append", help="smoke-test only this stack (repeatable)")
    parser.add_argument("--keep-running", action="store_true",
                        help="keep the emulator and the API gateway up after the smoke test (Ctrl-C stops)")
    parser.add_argument("--no-smoke", action="store_true", help="deploy only")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = parser().parse_args(argv)
    if not (options.path / "manifest.json").is_file():
        print(f"{options.path} is not a cloud assembly (no manifest.json): run `cdk synth` first", file=sys.stderr)
        return 2
    try:
        import moto  # noqa: F401
    except ImportError:
        print(EXTRA_HINT, file=sys.stderr)
        return 2
    from .emulator import FAKE_CREDENTIALS

    for name in _UNSET:
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    for noisy in ("werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto", category=UserWarning)
    with tempfile.TemporaryDirectory(prefix="cdk-payments-local-") as workdir:
        return LocalRun(options, Path(workdir)).run()


class LocalRun:
    def __init__(self, options: argparse.Namespace, workdir: Path) -> None:
        from .emulator import Emulator

        self.options, self.started = options, time.monotonic()
        self.emulator = Emulator(workdir)
        self.gateways: list = []  # (gateway, stack name)

    def run(self) -> int:
        self.emulator.start()
        try:
            deployments = self.deploy_all()
            if deployments is None:
                return 1
            code = 0 if self.options.no_smoke else self.smoke_all(deployments)
            if self.options.keep_running:
                self.wait()
            return code
        finally:
            for gateway, _ in self.gateways:
                gateway.stop()
            self.emulator.stop()

    def deploy_all(self) -> Optional[list]:
        from .deploy import deploy, stacks_in_order

        self._print(f"emulator listening on {self.emulator.endpoint}")
        deployments = []
        for name, region in stacks_in_order(self.options.path):
            try:
                deployment = deploy(self.emulator, self.options.path, name, region=region)
            except Exception as error:  # what the emulator cannot do (Docker image assets, a moto gap)
                self._print(f"FAIL stack {name}: the emulator could not create it: {type(error).__name__}: {error}")
                return None
            if deployment.status != "CREATE_COMPLETE":
                self._print(f"FAIL stack {name}: {deployment.status}")
                return None
            self._print(f"ok   stack {name} created in {region}: {len(deployment.physical)} resources "
                        f"({len(deployment.skipped)} the emulator does not model)")
            deployments.append(deployment)
        return deployments

    def smoke_all(self, deployments: list) -> int:
        import boto3

        from ..smoke import Smoke, SmokeOptions
        from .gateway import Gateway

        session = boto3.Session(region_name=deployments[0].region)  # the fake credentials set above
        code, smoked = 0, 0
        for deployment in deployments:
            if self.options.stack and deployment.stack_name not in self.options.stack:
                continue
            for api in deployment.logical_ids("AWS::ApiGateway::RestApi"):
                stages = [deployment.properties(s)["StageName"] for s in deployment.logical_ids("AWS::ApiGateway::Stage")
                          if deployment.properties(s).get("RestApiId") == {"Ref": api}]
                gateway = Gateway(self.emulator, deployment.physical[api], (stages or ["prod"])[0],
                                  deployment.region).start()
                self.gateways.append((gateway, deployment.stack_name))
                self._print(f"ok   API {deployment.stack_name}/{api} served at {gateway.url}")
                print(f"\ncdk-payments smoke --stack {deployment.stack_name} (against the emulator)", flush=True)
                result = Smoke(SmokeOptions(stack=deployment.stack_name, region=deployment.region,
                                            endpoint_url=self.emulator.endpoint, api_url=gateway.url,
                                            process_timeout=30, audit_timeout=10, poll_interval=0.2),
                               session=session).run()
                code, smoked = code or result, smoked + 1
        if smoked == 0:
            self._print("no stack with a REST API to smoke-test")
        return code

    def wait(self) -> None:
        print("\nThe emulator and the API gateways stay up until Ctrl-C.", flush=True)
        print(f"  AWS endpoint: {self.emulator.endpoint} (fake credentials: AWS_ACCESS_KEY_ID=testing "
              "AWS_SECRET_ACCESS_KEY=testing)")
        for gateway, stack in self.gateways:
            print(f"  {stack} API: {gateway.url}")
            role = self._output(stack, "DemoMerchantRoleArn")
            if role is None:
                continue
            sts = self.emulator.client("sts", gateway.region)
            credentials = sts.assume_role(RoleArn=role, RoleSessionName="curl")["Credentials"]
            print(f"  as the demo merchant (a session of {role}):\n"
                  f"    curl --aws-sigv4 'aws:amz:{gateway.region}:execute-api' "
                  f"--user '{credentials['AccessKeyId']}:{credentials['SecretAccessKey']}' "
                  f"-H 'x-amz-security-token: {credentials['SessionToken']}' '{gateway.url}payments?limit=5'")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

    def _output(self, stack: str, key: str) -> Optional[str]:
        described = self.emulator.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return next((o["OutputValue"] for o in described.get("Outputs", []) if o["OutputKey"] == key), None)

    def _print(self, line: str) -> None:
        print(f"[{time.monotonic() - self.started:6.2f}s] {line}", flush=True)
