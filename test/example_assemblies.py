"""The example app synthesized once per test session (and shared by the xdist workers), as
`python app.py` with every validation plugin on, the way `projen compliance` runs it.

Several layers read the same cloud assembly: the external rules packs, the cost estimate, upgrade
safety, the packaging test. Each example synthesis costs a Node start-up and ~5 s of jsii, so they
share one per profile instead of synthesizing their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .run_cache import shared_first

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "payment_platform"
# No credentials and no region (synthesis must not need them), and nothing that hides a warning.
UNSET = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
         "JSII_DEPRECATED", "JSII_SILENCE_WARNING_DEPRECATED")
# What the tests synthesize the example with: a day-one deployment (README "Deploying"), whose alerts go
# to an address, and prod with the sandbox adapter, which the example refuses unless opted in by name.
PROFILES = ("dev", "prod")
EXAMPLE_CONTEXT = {"alertEmail": "payments-alerts@example.com", "allowSandboxInProd": True}


def cost_table():
    """tools/cost_table.py, as a module: the example's contexts per tier and the cost tables' generator."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import cost_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return cost_table


def synth_app(outdir: Path, context: dict, *, python: str = sys.executable, cwd: Path = EXAMPLE,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the example app into ``outdir`` with ``context``, offline: no credentials, no region."""
    env = {**(env or os.environ), "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    for name in UNSET:
        env.pop(name, None)
    return subprocess.run([python, "app.py"], cwd=cwd, env=env, capture_output=True, text=True)


# One interpreter and one jsii runtime for several runs of app.py (each `python app.py` pays Node's
# start-up and jsii's loading of aws-cdk-lib again: about 15 s here). The CDK reads an App's context
# from the file CONTEXT_OVERFLOW_LOCATION_ENV names (the channel its CLI uses for long contexts) each
# time an App is made, so the driver rewrites that file before each run; app.py reads CDK_OUTDIR itself.
_DRIVER = """
import json, os, runpy, sys, traceback
jobs = json.loads(sys.argv[1])
sys.argv = ["app.py"]  # as the CDK CLI runs it: app.py refuses arguments
for job in jobs:
    with open(os.environ["CONTEXT_OVERFLOW_LOCATION_ENV"], "w") as file:
        json.dump(job["context"], file)
    os.environ["CDK_OUTDIR"] = job["outdir"]
    try:
        runpy.run_path("app.py", run_name="__main__")
    except BaseException:
        with open(os.path.join(job["outdir"], "error.txt"), "w") as file:
            file.write(traceback.format_exc())
"""


@dataclass
class Run:
    """One run of app.py by synth_apps: its cloud assembly, and the error it raised if any."""

    outdir: Path
    error: str  # the traceback, as `python app.py` would print it; "" when it synthesized
    warnings: str  # what the process printed on stderr (jsii's warnings)

    def template(self, stack: str) -> dict:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())


def synth_apps(root: Path, contexts: dict[str, dict]) -> dict[str, Run]:
    """Run the example app once per named context, into ``root/<name>``, all in one process."""
    jobs = [{"context": context, "outdir": str(root / name)} for name, context in contexts.items()]
    for job in jobs:
        Path(job["outdir"]).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CONTEXT_OVERFLOW_LOCATION_ENV": str(root / "context.json")}
    for name in (*UNSET, "CDK_CONTEXT_JSON", "CDK_OUTDIR"):
        env.pop(name, None)
    process = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(jobs)], cwd=EXAMPLE, env=env,
                             capture_output=True, text=True)
    if process.returncode:
        raise RuntimeError(f"the synthesis driver failed:\n{process.stderr}")
    runs = {}
    for name in contexts:
        error = root / name / "error.txt"
        runs[name] = Run(root / name, error.read_text() if error.exists() else "", process.stderr)
    return runs


class ExampleAssemblies:
    """``get(profile)``: the cloud assembly directory of the example in that profile, built on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def get(self, profile: str) -> Path:
        # One worker synthesizes, the others reuse it; a worker that would wait builds the other profile.
        others = {self._root / other: self._builder(other) for other in PROFILES if other != profile}
        return shared_first(self._root / profile, self._builder(profile), others)

    @staticmethod
    def _builder(profile: str):
        def build(outdir: Path) -> None:
            result = synth_app(outdir, {"profile": profile, "nag": True, **EXAMPLE_CONTEXT})
            (outdir / "stdout.txt").write_text(result.stdout)
            (outdir / "stderr.txt").write_text(result.stderr)
            if result.returncode != 0 and not (outdir / "validation-report.json").exists():
                raise RuntimeError(f"example synthesis ({profile}) failed:\n{result.stderr}")

        return build

    def output(self, profile: str) -> tuple[str, str]:
        """What the synthesis printed: (stdout, stderr)."""
        outdir = self.get(profile)
        return (outdir / "stdout.txt").read_text(), (outdir / "stderr.txt").read_text()

    def template(self, profile: str, stack: str | None = None) -> dict:
        stack = stack or f"PaymentPlatform-{profile}"
        return json.loads((self.get(profile) / f"{stack}.template.json").read_text())
