"""Run one deployed Lambda handler on the host: ``python lambda_runner.py CODE_DIR HANDLER RESULT_FILE``.

The event comes on stdin; the result (or the error) is written as JSON to RESULT_FILE, because the
handler's own stdout carries its logs and metrics. CODE_DIR is the function's unzipped asset and comes
first on sys.path, so the handler module is the one that was published, never the repository's src/.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
import uuid


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


def _record_aws_calls(function_name: str, calls_file: str) -> None:
    """With a recorder named in the environment, this process appends its AWS calls to ``calls_file``."""
    path = os.environ.get(RECORDER)
    if not path:
        return
    spec = importlib.util.spec_from_file_location("cdk_payments_call_recorder", path)
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    recorder.record_process(function_name, calls_file)


def main() -> int:
    code_dir, handler, result_file, function_name = sys.argv[1:5]
    sys.path.insert(0, code_dir)
    _record_aws_calls(function_name, os.path.join(os.path.dirname(result_file), "aws-calls.jsonl"))
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        if not module.__file__.startswith(code_dir):
            raise ImportError(f"{module_name} came from {module.__file__}, not from the deployed asset")
        result = getattr(module, attribute)(json.loads(sys.stdin.read()), Context(function_name))
        outcome = {"result": result}
    except BaseException as error:  # what Lambda reports as a function error
        outcome = {"errorType": type(error).__name__, "errorMessage": str(error),
                   "stackTrace": traceback.format_exc().splitlines()}
    with open(result_file, "w") as out:
        json.dump(outcome, out, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
