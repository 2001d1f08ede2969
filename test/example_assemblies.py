"""The example app synthesized once per test session (and shared by the xdist workers), as
`python app.py` with every validation plugin on, the way `projen compliance` runs it.

Several layers read the same cloud assembly: the external rules packs, the cost estimate, upgrade
safety, the packaging test. Each example synthesis costs a Node start-up and ~5 s of jsii, so they
share one per profile instead of synthesizing their own.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "payment_platform"
# No credentials and no region (synthesis must not need them), and nothing that hides a warning.
UNSET = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
         "JSII_DEPRECATED", "JSII_SILENCE_WARNING_DEPRECATED")
# What the tests synthesize the example with: a day-one deployment (README "Deploying"), whose alerts go
# to an address, and prod with the sandbox adapter, which the example refuses unless opted in by name.
EXAMPLE_CONTEXT = {"alertEmail": "payments-alerts@example.com", "allowSandboxInProd": True}


def synth_app(outdir: Path, context: dict, *, python: str = sys.executable, cwd: Path = EXAMPLE,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the example app into ``outdir`` with ``context``, offline: no credentials, no region."""
    env = {**(env or os.environ), "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    for name in UNSET:
        env.pop(name, None)
    return subprocess.run([python, "app.py"], cwd=cwd, env=env, capture_output=True, text=True)


class ExampleAssemblies:
    """``get(profile)``: the cloud assembly directory of the example in that profile, built on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(self, profile: str) -> Path:
        outdir = self._root / profile
        done = outdir / ".complete"
        with open(self._root / f"{profile}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one worker synthesizes, the others wait and reuse it
            if not done.exists():
                result = synth_app(outdir, {"profile": profile, "nag": True, **EXAMPLE_CONTEXT})
                (outdir / "stdout.txt").write_text(result.stdout)
                (outdir / "stderr.txt").write_text(result.stderr)
                if result.returncode != 0 and not (outdir / "validation-report.json").exists():
                    raise RuntimeError(f"example synthesis ({profile}) failed:\n{result.stderr}")
                done.write_text(str(result.returncode))
        return outdir

    def output(self, profile: str) -> tuple[str, str]:
        """What the synthesis printed: (stdout, stderr)."""
        outdir = self.get(profile)
        return (outdir / "stdout.txt").read_text(), (outdir / "stderr.txt").read_text()

    def template(self, profile: str, stack: str | None = None) -> dict:
        stack = stack or f"PaymentPlatform-{profile}"
        return json.loads((self.get(profile) / f"{stack}.template.json").read_text())
