"""Run by the emulator's runner before a function's first invocation (CDK_PAYMENTS_RUNNER_SETUP, in
the rehearsal only): the deployed webhook delivery function may reach a receiver on http://127.0.0.1,
the switch its unit tests use (``ALLOW_LOOPBACK_FOR_TESTS``). The deployed code and its configuration
never can."""

import os

if os.environ.get("_HANDLER") == "runtime.webhooks.handler":
    from runtime import webhooks  # the deployed asset's module (the runner put its code first on sys.path)

    webhooks.ALLOW_LOOPBACK_FOR_TESTS = True
