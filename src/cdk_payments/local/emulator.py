"""moto in server mode on this machine, with a local Lambda executor, and a CDK-style deploy into it.

What `cdk deploy` does, done against the emulator: publish the file assets the cloud assembly lists to
the bootstrap bucket, seed the bootstrap version parameter, create the stack with CloudFormation.

moto runs Lambda code in Docker, which these machines do not have; :class:`Emulator` replaces that
one step with a local executor: a Python function's code is downloaded from where the deployed
function says it lives (the bootstrap bucket), unzipped, and its handler string is imported from it
in an execution environment of its own with the deployed environment, boto3 pointed at the emulator,
kept warm between invocations as Lambda keeps one. The CDK custom
resource that strips the VPC's default security group (Node.js, AWS SDK v3) is answered instead: the
executor does what the handler does, through the emulator's EC2 API, and answers CloudFormation.
"""

from __future__ import annotations

import copy
import io
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

from .lambda_runner import RECORDER, SETUP

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
QUALIFIER = "hnb659fds"  # the CDK bootstrap's default qualifier
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{QUALIFIER}/version"
BOOTSTRAP_VERSION = "30"
TEMPLATE_BODY_LIMIT = 51_200  # bytes; larger templates must be passed by TemplateURL
RUNNER = Path(__file__).with_name("lambda_runner.py")
# Fake credentials for the emulator only: set by the rehearsal, never read from the machine.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


@dataclass
class Invocation:
    function_name: str
    handler: str
    event: Any
    result: Any
    error: dict[str, Any] | None
    logs: str


class Emulator:
    """A moto server on 127.0.0.1 with an ephemeral port, started and stopped by the rehearsal."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.invocations: list[Invocation] = []
        self._code_dirs: dict[tuple[str, str], Path] = {}
        self._server = None
        self._restore_patches: Callable[[], None] = lambda: None
        self._original_invoke: Callable | None = None
        # Called with (function name, event) before each invocation: lets a check see the state a
        # function is invoked in (the table when the queue hands a message over).
        self.before_invoke: Callable[[str, Any], None] | None = None
        # Called with each finished invocation (a check can let a held step go on).
        self.after_invoke: Callable[[Invocation], None] | None = None
        self._session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        self._clients: dict[tuple[str, str], Any] = {}
        self._custom_resource_requests: list[tuple[Any, dict[str, Any]]] = []
        # Warm execution environments, idle, per function, code and environment variables.
        self._environments: dict[tuple[str, ...], list[ExecutionEnvironment]] = {}
        self._environments_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # The one step of moto that needs Docker: running a function's code.
        self._original_invoke = LambdaFunction._invoke_lambda
        emulator = self

        def invoke(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return emulator._invoke(function, event)

        LambdaFunction._invoke_lambda = invoke
        restore_targets, restore_batches = deliver_to_firehose_targets(), honour_partial_batch_responses()
        self._restore_patches = lambda: (restore_targets(), restore_batches())
        # moto asks Docker's socket where it runs, to build custom resources' ResponseURL (and prints a
        # warning when there is no Docker); the executor answers on this endpoint whatever the host says.
        import moto.settings

        original_host = moto.settings.moto_server_host
        moto.settings.moto_server_host = lambda: "http://127.0.0.1"
        restore_rules = self._restore_patches

        def restore() -> None:
            restore_rules()
            moto.settings.moto_server_host = original_host

        self._restore_patches = restore

    def stop(self) -> None:
        from moto.awslambda.models import LambdaFunction

        # Patches last: a message handed back to its queue is still delivered to a function (moto's own
        # delivery would ask Docker to run it).
        if self._server is not None:
            redeliveries_done()
            urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))
            self._server.stop()
            self._stop_environments()
        if self._original_invoke is not None:
            LambdaFunction._invoke_lambda = self._original_invoke
            self._restore_patches()

    def reset(self) -> None:
        """Forget every resource (between two deploys of the same stack)."""
        redeliveries_done()
        self._stop_environments()
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))
        self.invocations.clear()
        self._code_dirs.clear()

    def client(self, service: str, region: str = REGION) -> Any:
        if (service, region) not in self._clients:  # one per service: creating a boto3 client costs ~0.1 s
            self._clients[(service, region)] = self._session.client(
                service, endpoint_url=self.endpoint, region_name=region, config=Config(retries={"max_attempts": 1}))
        return self._clients[(service, region)]

    # -- deploy ------------------------------------------------------------------------------------
    def bootstrap(self, region: str = REGION) -> None:
        """What `cdk bootstrap` leaves behind that a deploy reads: the assets bucket and the version."""
        s3, bucket = self.client("s3", region), bootstrap_bucket(region)
        if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=bucket, **location)
        self.client("ssm", region).put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String",
                                      Overwrite=True)

    def publish_powertools_layer(self, parameter: str, layer_name: str, region: str = REGION) -> str:
        """What AWS provides in every region: the Powertools layer and the public parameter naming it.

        CloudFormation resolves an ``AWS::SSM::Parameter::Value`` template parameter at CreateStack; moto
        answers 500 (AttributeError in parse_ssm_parameter) when the path does not exist, and it does not
        ship AWS's Powertools parameters. The parameter is under /aws/service/, which PutParameter refuses
        (as AWS does: reserved), so it is written into moto's SSM backend, which runs in this process. It
        names a layer published in the emulator's account, so that the ARN the functions' Layers resolve
        to exists: a stand-in (moto's CloudFormation drops Layers; the executor runs the host's
        Powertools, the version the handlers are tested with). Returns the layer version ARN.
        """
        from moto.core.utils import utcnow
        from moto.ssm.models import Parameter, ssm_backends

        lambda_ = self.client("lambda", region)
        versions = lambda_.list_layer_versions(LayerName=layer_name)["LayerVersions"]
        arn = versions[0]["LayerVersionArn"] if versions else lambda_.publish_layer_version(
            LayerName=layer_name, Description="rehearsal stand-in: the executor runs the host's Powertools",
            Content={"ZipFile": _zip_files({"python/.rehearsal-stand-in": b""})},
            CompatibleRuntimes=["python3.14"], CompatibleArchitectures=["arm64"])["LayerVersionArn"]
        parameters = ssm_backends[ACCOUNT][region]._parameters
        if parameter not in parameters:
            parameters[parameter].append(Parameter(
                account_id=ACCOUNT, name=parameter, value=arn, parameter_type="String", description=None,
                allowed_pattern=None, keyid=None, last_modified_date=utcnow(), version=1, data_type="text"))
        assert self.client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"] == arn
        return arn

    def publish_assets(self, assembly: Path, stack_name: str, region: str = REGION) -> dict[str, str]:
        """Upload every file asset of the stack's asset manifest; returns object key -> asset path."""
        manifest = json.loads((assembly / f"{stack_name}.assets.json").read_text())
        if manifest.get("dockerImages"):
            raise NotImplementedError(f"{stack_name} has Docker image assets, which this emulator cannot build")
        s3 = self.client("s3", region)
        published = {}
        for asset in manifest["files"].values():
            source = assembly / asset["source"]["path"]
            body = _zip_directory(source) if asset["source"]["packaging"] == "zip" and source.is_dir() else source.read_bytes()
            for destination in asset["destinations"].values():
                bucket = _substitute(destination["bucketName"], region)
                assert bucket == bootstrap_bucket(region), bucket
                key = _substitute(destination["objectKey"], region)
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                published[key] = asset["source"]["path"]
        return published

    def create_stack(self, stack_name: str, template: dict[str, Any], region: str = REGION,
                     timeout: float = 30) -> dict[str, Any]:
        """Create the stack as the CDK CLI would; large templates go through TemplateURL."""
        # moto tries every template as YAML first (pure-Python PyYAML: most of a second for this one)
        # and falls back to JSON when that fails; tab indentation is JSON that YAML refuses at once.
        body = json.dumps(template, indent="\t")
        cloudformation = self.client("cloudformation", region)
        args: dict[str, Any] = {"StackName": stack_name,
                                "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]}
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            key = f"{stack_name}.rehearsal.template.json"
            # The rewritten template (see gaps.py), beside the assets, as the CLI uploads its own.
            self.client("s3", region).put_object(Bucket=bootstrap_bucket(region), Key=key, Body=body.encode())
            args["TemplateURL"] = f"https://{bootstrap_bucket(region)}.s3.{region}.amazonaws.com/{key}"
        else:
            args["TemplateBody"] = body
        cloudformation.create_stack(**args)
        deadline = time.monotonic() + timeout
        while True:
            # Custom resources are answered once CreateStack has returned: moto creates the other
            # resources while the request runs, and an answer during it races with that.
            while self._custom_resource_requests:
                self._answer_custom_resource(*self._custom_resource_requests.pop(0))
            stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
                return stack
            time.sleep(0.1)

    # -- the local executor ------------------------------------------------------------------------
    def _invoke(self, function: Any, event: Any) -> tuple[str, bool, str]:
        if self.before_invoke is not None:
            self.before_invoke(function.function_name, event)
        if function.run_time.startswith("python"):
            return self._run_python(function, event)
        if isinstance(event, dict) and event.get("ResourceType") == "Custom::VpcRestrictDefaultSG":
            self._custom_resource_requests.append((function, event))
            return json.dumps(None), False, ""
        raise NotImplementedError(f"no local executor for {function.function_name} ({function.run_time})")

    def code_dir(self, bucket: str, key: str, region: str = REGION) -> Path:
        """The function's deployed code: downloaded from the bucket it was created from, unzipped."""
        if (bucket, key) not in self._code_dirs:
            body = self.client("s3", region).get_object(Bucket=bucket, Key=key)["Body"].read()
            target = Path(tempfile.mkdtemp(prefix="code-", dir=self.workdir))
            zipfile.ZipFile(io.BytesIO(body)).extractall(target)
            self._code_dirs[(bucket, key)] = target
        return self._code_dirs[(bucket, key)]

    def _run_python(self, function: Any, event: Any) -> tuple[str, bool, str]:
        code = self.code_dir(function.code["S3Bucket"], function.code["S3Key"], function.region)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.workdir),
            # The project's tests name their AWS call recorder and their runner setup here.
            **{k: v for k, v in os.environ.items() if k in (RECORDER, SETUP)},
            **FAKE_CREDENTIALS,
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "_HANDLER": function.handler,
            # The X-Ray daemon does not run here; the Powertools layer is the host's Powertools.
            "POWERTOOLS_TRACE_DISABLED": "true",
            **{name: str(value) for name, value in function.environment_vars.items()},
        }
        args = [sys.executable, str(RUNNER), str(code), function.handler, str(self.workdir / "aws-calls.jsonl"),
                function.function_name]
        key = (*args, *sorted(env.items()))
        with self._environments_lock:  # a warm environment of the function, or a new one (a cold start)
            idle = self._environments.setdefault(key, [])
            environment = idle.pop() if idle else ExecutionEnvironment(args, env, code, self.workdir)
        result_file = Path(tempfile.mkstemp(prefix="result-", dir=self.workdir)[1])
        log_file = Path(tempfile.mkstemp(prefix="log-", dir=self.workdir)[1])
        answered = environment.invoke(event, result_file, log_file, timeout=60)
        logs = log_file.read_text()
        if answered:
            with self._environments_lock:
                self._environments[key].append(environment)
        else:  # it crashed or timed out: Lambda discards the environment
            logs += environment.stop()
        outcome = json.loads(result_file.read_text()) if answered and result_file.stat().st_size else {
            "errorType": "RunnerCrashed", "errorMessage": logs[-2000:]}
        error = None if "result" in outcome else outcome
        invocation = Invocation(function.function_name, function.handler, event, outcome.get("result"), error, logs)
        self.invocations.append(invocation)
        if self.after_invoke is not None:
            self.after_invoke(invocation)
        return json.dumps(outcome.get("result") if error is None else error), error is not None, logs

    def _stop_environments(self) -> None:
        with self._environments_lock:
            environments = [e for idle in self._environments.values() for e in idle]
            self._environments.clear()
        for environment in environments:
            environment.stop()

    def _answer_custom_resource(self, function: Any, event: dict[str, Any]) -> None:
        """Do what CDK's RestrictDefaultSG handler does on Create, then answer CloudFormation."""
        group_id, region = event["ResourceProperties"]["DefaultSecurityGroupId"], event["StackId"].split(":")[3]
        ec2 = self.client("ec2", region)
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        if group["IpPermissions"]:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=group["IpPermissions"])
        if group["IpPermissionsEgress"]:
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=group["IpPermissionsEgress"])
        response = {"Status": "SUCCESS", "PhysicalResourceId": group_id, "StackId": event["StackId"],
                    "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"], "Data": {}}
        url = urllib.parse.urlsplit(event["ResponseURL"] if "://" in event["ResponseURL"]
                                    else f"http://{event['ResponseURL']}")
        # moto reads the stack's region from the request's credential scope (else it looks in us-east-1).
        scope = f"AWS4-HMAC-SHA256 Credential=emulator/20260101/{region}/cloudformation/aws4_request"
        request = urllib.request.Request(f"{self.endpoint}{url.path}?{url.query}", method="PUT",
                                         data=json.dumps(response).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": scope})
        urllib.request.urlopen(request).read()
        self.invocations.append(Invocation(function.function_name, function.handler, event, response, None, ""))


class ExecutionEnvironment:
    """One execution environment of a function (lambda_runner.py), kept between invocations as
    Lambda keeps a warm one: the interpreter, the imports and whatever the handler caches."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, workdir: Path) -> None:
        self._stderr = Path(tempfile.mkstemp(prefix="environment-", dir=workdir)[1])
        with self._stderr.open("w") as stderr:
            self._process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                             text=True, env=env, cwd=cwd)

    def invoke(self, event: Any, result_file: Path, log_file: Path, *, timeout: float) -> bool:
        """Whether the handler ran and answered within ``timeout`` seconds."""
        request = {"event": event, "result_file": str(result_file), "log_file": str(log_file)}
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except OSError:  # the process is gone
            return False
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        return bool(ready) and self._process.stdout.readline() == "done\n"

    def stop(self) -> str:
        """Stop the process; what it printed outside its invocations (an import-time crash)."""
        self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            stream.close()
        return self._stderr.read_text()


def deliver_to_firehose_targets() -> Callable[[], None]:
    """Let EventBridge rules deliver to Firehose delivery streams and Lambda functions, which moto 5.2's
    rules refuse (NotImplementedError: the event handler's PutEvents would fail, and S3's events to the
    audit copier would be dropped). A function is invoked at once, as Lambda's asynchronous invocation
    would soon after. Returns the undo."""
    from moto.awslambda.models import lambda_backends
    from moto.events.models import EventTemplateParser, Rule
    from moto.firehose.models import firehose_backends
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets

    def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
        ours = [t for t in rule.targets if parse_arn(t["Arn"]).service in ("firehose", "lambda")]
        others = [t for t in rule.targets if t not in ours]
        if others:  # moto's own delivery, of a copy of the rule with the other targets (the rule stays as it is)
            shallow = copy.copy(rule)
            shallow.targets = others
            original(shallow, event, transform_input)
        if not ours or not rule.event_pattern.matches_event(event):
            return
        for target in ours:
            arn = parse_arn(target["Arn"])
            transformer = target.get("InputTransformer", {}) if transform_input else {}
            # Without a template, the event as it is (S3's events lack the ingestion time the parser reads).
            record = EventTemplateParser.parse(input_template=transformer["InputTemplate"], input_paths_map=transformer.get(
                "InputPathsMap", {}), event=event) if transformer.get("InputTemplate") else event
            data = record if isinstance(record, str) else json.dumps(record)
            if arn.service == "firehose":
                firehose_backends[arn.account][arn.region].put_record(arn.resource_id, {"Data": data.encode()})
            else:
                lambda_backends[arn.account][arn.region].invoke(
                    arn.resource_id, None, data, {"x-amz-invocation-type": "Event"}, {})

    Rule.send_to_targets = send_to_targets

    def restore() -> None:
        Rule.send_to_targets = original

    return restore


# How long a message its function reported failed may stay invisible and still be delivered again
# here: the event handler's short retry (2 s) and a webhook's first backoff (5 s), not a queue's
# visibility timeout of minutes.
REDELIVERY_WAIT_SECONDS = 7
_redeliveries: list[tuple[str, threading.Thread]] = []  # (queue ARN, its poller)
_REDELIVERIES_LOCK = threading.Lock()


def honour_partial_batch_responses() -> Callable[[], None]:
    """Let the queues' event source mappings keep the messages a function reports failed. moto 5.2
    invokes the function as a message is sent and deletes the message unless the invocation raised: it
    ignores a partial batch response (ReportBatchItemFailures), so a message the event handler handed
    back would be lost. Here, as in Lambda, a reported (or raised) message stays in the queue with the
    visibility the function left it; a poller of its own (a thread: SendMessage does not wait for it)
    receives it again when that lapses within REDELIVERY_WAIT_SECONDS (its receive count up, to the
    DLQ after maxReceiveCount) and invokes the function again. Returns the undo."""
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends
    from moto.utilities.arns import parse_arn

    original = LambdaBackend.send_sqs_batch

    def send_sqs_batch(backend: Any, function_arn: str, messages: list[Any], queue_arn: str) -> bool:
        arn = parse_arn(queue_arn)
        queue = sqs_backends[arn.account][arn.region].get_queue(arn.resource_id)
        mapping = queue.lambda_event_source_mappings.get(function_arn)
        partial = "ReportBatchItemFailures" in ((mapping and mapping.function_response_types) or [])
        failed = [m for m in messages if _failed(backend, function_arn, m, queue_arn, partial)]
        for message in failed:
            poller = threading.Thread(target=_redeliver, args=(backend, function_arn, queue, message.id, queue_arn,
                                                               partial), daemon=True)
            with _REDELIVERIES_LOCK:
                _redeliveries.append((queue_arn, poller))
            poller.start()
        messages[:] = [m for m in messages if m not in failed]  # moto deletes the messages it handed over
        return True

    LambdaBackend.send_sqs_batch = send_sqs_batch

    def restore() -> None:
        LambdaBackend.send_sqs_batch = original

    return restore


def redeliveries_done(queue_arn: str | None = None, timeout: float = 30.0) -> None:
    """Wait until every message handed back so far (to ``queue_arn``, default any queue) was
    delivered again or given up on."""
    deadline = time.monotonic() + timeout
    with _REDELIVERIES_LOCK:
        waiting = [poller for arn, poller in _redeliveries if queue_arn in (None, arn)]
    for poller in waiting:
        poller.join(max(0.0, deadline - time.monotonic()))
    with _REDELIVERIES_LOCK:
        _redeliveries[:] = [(arn, poller) for arn, poller in _redeliveries if poller.is_alive()]


def _redeliver(backend: Any, function_arn: str, queue: Any, message_id: str, queue_arn: str, partial: bool) -> None:
    try:
        while (received := _receive_again(queue, message_id)) is not None:
            if not _failed(backend, function_arn, received, queue_arn, partial):
                queue.delete_message(received.receipt_handle)
                return
    except Exception:  # noqa: BLE001 (the function or queue is gone: the emulator was reset meanwhile)
        return


def _failed(backend: Any, function_arn: str, message: Any, queue_arn: str, partial: bool) -> bool:
    """Invoke the function with one received message; whether Lambda would leave it in the queue."""
    record = {"messageId": message.id, "receiptHandle": message.receipt_handle, "body": message.body,
              "attributes": {"ApproximateReceiveCount": str(message.approximate_receive_count),
                             "SentTimestamp": str(message.sent_timestamp)},
              "messageAttributes": {}, "md5OfBody": message.body_md5, "eventSource": "aws:sqs",
              "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3]}
    response_headers: dict[str, Any] = {}
    result = backend.invoke(function_arn, None, json.dumps({"Records": [record]}), {}, response_headers)
    if "x-amz-function-error" in response_headers:
        return True
    answer = json.loads(result) if partial and result else None
    return isinstance(answer, dict) and any(
        failure.get("itemIdentifier") == message.id for failure in answer.get("batchItemFailures") or [])


def _receive_again(queue: Any, message_id: str) -> Any:
    """The message received again once it is visible, as the mapping's poller would; None when it is
    gone, went to the DLQ, or stays invisible longer than the rehearsal waits."""
    import copy

    deadline = time.monotonic() + REDELIVERY_WAIT_SECONDS
    while time.monotonic() < deadline:
        message = next((m for m in queue._messages if m.id == message_id), None)
        if message is None:
            return None
        if message.visible:
            limit = (queue.redrive_policy or {}).get("maxReceiveCount")
            if queue.dead_letter_queue is not None and limit and message.approximate_receive_count >= limit:
                queue._messages.remove(message)
                queue.dead_letter_queue.add_message(message)
                return None
            message.mark_received(visibility_timeout=queue.visibility_timeout)
            queue.pending_messages.add(message)
            return copy.deepcopy(message)
        time.sleep(0.1)
    return None


def bootstrap_bucket(region: str) -> str:
    return f"cdk-{QUALIFIER}-assets-{ACCOUNT}-{region}"


def _substitute(value: str, region: str = REGION) -> str:
    return value.replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", region).replace(
        "${AWS::Partition}", "aws")


def _zip_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()
