"""A deployed Lambda function's execution environment on the host:
``python lambda_runner.py CODE_DIR HANDLER CALLS_FILE FUNCTION_NAME``.

Like Lambda's, it is kept warm: each line on stdin is one invocation (``{"event", "result_file",
"log_file"}``); the handler's stdout and stderr (its logs and metrics) go to ``log_file``, the
result (or the error) to ``result_file`` as JSON, and ``done`` is answered on the original stdout.
The handler module is imported on the first invocation and kept, with whatever it caches (clients,
credentials), as a warm Lambda environment keeps it. CODE_DIR is the function's unzipped asset and
comes first on sys.path, so the handler module is the one that was published, never the repository's
src/.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class Context:
    """The attributes of Lambda's context object that Powertools reads."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "rehearsal"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# The project's tests set this to their call recorder (test/iam/recorder.py), so that the IAM simulator
# can judge every AWS call a deployed function makes; a user's run of `cdk-payments local` records nothing.
RECORDER = "CDK_PAYMENTS_CALL_RECORDER"
# And this to a Python file run in each execution environment before its first invocation (the
# rehearsal's switch that lets the webhook delivery function reach a receiver on 127.0.0.1).
SETUP = "CDK_PAYMENTS_RUNNER_SETUP"


def _record_aws_calls(function_name: str, calls_file: str) -> Callable[[], None]:
    """With a recorder named in the environment, this process records its AWS calls; the returned
    flush appends them to ``calls_file`` (after each invocation: a warm process is never asked to end)."""
    path = os.environ.get(RECORDER)
    if not path:
        return lambda: None
    return _load("cdk_payments_call_recorder", path).record_process(function_name, calls_file)


def _load(name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(name.lower(), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    code_dir, handler, calls_file, function_name = sys.argv[1:5]
    control = os.fdopen(os.dup(1), "w")  # fd 1 is the handler's log file during an invocation
    sys.path.insert(0, code_dir)
    flush_calls = _record_aws_calls(function_name, calls_file)
    if os.environ.get(SETUP):
        with _output_to(os.devnull):  # whatever it prints stays off the control channel
            _load(SETUP, os.environ[SETUP])
    for line in sys.stdin:
        request = json.loads(line)
        with _output_to(request["log_file"]):
            outcome = _invoke(code_dir, handler, function_name, request["event"])
        flush_calls()
        with open(request["result_file"], "w") as out:
            json.dump(outcome, out, default=str)
        control.write("done\n")
        control.flush()
    return 0


def _invoke(code_dir: str, handler: str, function_name: str, event: Any) -> dict[str, Any]:
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        if not module.__file__.startswith(code_dir):
            raise ImportError(f"{module_name} came from {module.__file__}, not from the deployed asset")
        return {"result": getattr(module, attribute)(event, Context(function_name))}
    except BaseException as error:  # what Lambda reports as a function error
        return {"errorType": type(error).__name__, "errorMessage": str(error),
                "stackTrace": traceback.format_exc().splitlines()}


@contextmanager
def _output_to(path: str) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``path`` for one invocation."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


if __name__ == "__main__":
    sys.exit(main())
