"""The project's own promises: API.md is current, the README's commands are what CI runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_api_md_is_current():
    result = subprocess.run(
        [sys.executable, "tools/docgen.py", "--check", "API.md"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_readme_opens_with_the_two_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert readme.startswith("# cdk-payments\n\n```sh\n")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    commands = first_block.strip().splitlines()
    assert len(commands) == 2
    assert "projen synth:example" in commands[0] and "projen test" in commands[1]
    # A newcomer sees a payment go through the example, deployed into the local emulator.
    assert commands[0].endswith("&& cdk-payments local examples/payment_platform/cdk.out")
    # .ci/run executes exactly these lines, read from README.md.
    assert "README.md" in (ROOT / ".ci/run").read_text()


def test_generated_files_match_projenrc(tmp_path):
    """pyproject.toml and friends are exactly what .projenrc.py writes: nobody edited them by hand."""
    shutil.copy(ROOT / ".projenrc.py", tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    result = subprocess.run([sys.executable, ".projenrc.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    generated = json.loads((tmp_path / ".projen/files.json").read_text())["files"]
    assert "pyproject.toml" in generated
    for name in generated:
        assert (tmp_path / name).read_text() == (ROOT / name).read_text(), f"{name} is stale: run projen"


def test_public_api_is_lazy_and_complete():
    code = (
        "import sys, cdk_payments, cdk_payments.cost, cdk_payments.runtime.api;"
        "assert 'aws_cdk' not in sys.modules, 'cost/ and runtime/ must load without aws_cdk';"
        "assert sorted(cdk_payments.__all__) == sorted(cdk_payments._EXPORTS);"
        "[getattr(cdk_payments, name) for name in cdk_payments.__all__]"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_runtime_imports_nothing_but_stdlib_boto3_and_powertools():
    allowed = {"boto3", "botocore", "aws_lambda_powertools", "urllib3"}  # urllib3: botocore's HTTP client
    for module in (ROOT / "src/cdk_payments/runtime").rglob("*.py"):
        for line in module.read_text().splitlines():
            match = re.match(r"^(?:from|import) ([\w.]+)", line)
            if match and not match.group(1).startswith("."):
                top = match.group(1).split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{module.name}: {line}"


def test_readme_quickstart_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    quickstart = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", quickstart], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "Payments.template.json").read_text())
    keys = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert len(keys) == 1, "the quickstart promises one key for the platform"


def test_readme_nag_guide_runs(tmp_path):
    """The guide's app (docs/compliance.md) synthesizes under all four packs: its acknowledgements are accepted as
    written."""
    readme = (ROOT / "docs" / "compliance.md").read_text()
    guide = readme.split("## cdk-nag on your own app", 1)[1]
    code = re.search(r"```python\n(.*?)```", guide, re.S).group(1)
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr  # an open finding fails synthesis


def test_lint_clean():
    result = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "src", "test", "tools", "examples"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_pypi_page_has_the_api_reference_and_no_dead_links():
    """The long description hatch_build.py gives PyPI, rendered as PyPI renders it (readme_renderer)."""
    import importlib.util

    import readme_renderer.markdown

    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    html = readme_renderer.markdown.render(hook.long_description(ROOT))
    assert html is not None, "readme_renderer[md] is needed to render Markdown as PyPI does"
    ids = set(re.findall(r'id="([^"]+)"', html))
    links = re.findall(r'href="([^"]+)"', html)
    assert "user-content-securepaymentapi" in ids  # API.md is on the page
    assert [link for link in links if not link.startswith(("https://", "http://", "#"))] == []
    assert [link for link in links if link.startswith("#") and link[1:] not in ids] == []


def test_pypi_page_opens_for_adopters_and_links_the_project():
    """What the library is, whom it is for, what it costs, its maturity and licence, then pip install;
    the repository's README still opens with its two set-up commands."""
    import importlib.util
    import tomllib

    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = hook.long_description(ROOT)
    opening = page[: page.index("pip install cdk-payments")]
    for topic in ("construct", "**For**", "**What it costs**", "**Maturity**", "**Licence**: Apache-2.0"):
        assert topic in opening, topic
    # The contributors' set-up stays in the repository: PyPI shows README.md from its pypi:begin marker on.
    assert "projen install" not in page and "python3 -m venv" not in page
    for section in ("## Features", "## Quickstart", "## Default settings, per construct", "## Limitations",
                    "## Troubleshooting"):
        assert page.index("pip install cdk-payments") < page.index(section), section
    assert (ROOT / "README.md").read_text().split("\n")[2:4][1].startswith("python3 -m venv .venv")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert {"Repository", "Documentation", "Changelog", "Issues"} <= set(urls)
    assert f"{urls['Documentation'].rstrip('/')}/props/" in page  # a docs page, on the docs site
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "private vulnerability reporting" in (ROOT / "SECURITY.md").read_text()
