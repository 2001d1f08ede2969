"""The emulator the rehearsal modules deploy into: one per module, started and stopped around it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cdk_payments.local.emulator import FAKE_CREDENTIALS, Emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        # The deployed functions' AWS calls, for the IAM simulator (test_iam_allows_every_call...).
        patch.setenv("CDK_PAYMENTS_CALL_RECORDER", str(Path(__file__).parent.parent / "iam" / "recorder.py"))
        # The webhook delivery function may reach the rehearsal's receiver on 127.0.0.1.
        patch.setenv("CDK_PAYMENTS_RUNNER_SETUP", str(Path(__file__).with_name("loopback.py")))
        for noisy in ("werkzeug", "moto"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        server = Emulator(tmp_path_factory.mktemp("emulator"))
        server.start()
        try:
            yield server
        finally:
            server.stop()
