"""Users consume the wheel, not this source tree: build it, install it fresh, synthesize with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .test_example import EXAMPLE, ROOT, synth_example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True)
    (built,) = dist.glob("cdk_payments-*.whl")
    return built


def test_wheel_installs_and_synthesizes_the_example(wheel, tmp_path, example_assemblies, monkeypatch):
    from_source = example_assemblies.template("dev")
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the fresh venv sees the wheel, not a source tree
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    # --no-compile: pip byte-compiles all of aws-cdk-lib otherwise (52 s of CPU instead of 12 s here);
    # Python compiles what each process below imports (about 7 s more for the example's imports).
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-compile", f"{wheel}[node]"], check=True,
                   capture_output=True)
    where = subprocess.run(
        [python, "-c", "import cdk_payments, pathlib; print(pathlib.Path(cdk_payments.__file__).resolve())"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(env_dir.resolve())), where
    assert (Path(where).parent / "py.typed").exists()
    # The PCI DSS v4.0.1 pack ships in the wheel (with cdk-nag as a dependency) and finds a plain topic.
    pack = subprocess.run([python, "-c", "import aws_cdk as cdk; from aws_cdk import aws_sns as sns; "
                           "from cdk_payments.nag import PciDss401Checks; app = cdk.App(); "
                           "cdk.Validations.of(app).add_plugins(PciDss401Checks(app)); "
                           "sns.Topic(cdk.Stack(app, 'S'), 'T'); app.synth()"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert pack.returncode != 0 and "PCI.DSS.401-SNSEncryptedKMS" in pack.stdout + pack.stderr, pack.stderr

    # The OpenAPI document ships beside its module, byte for byte, and reads with the standard library only.
    from cdk_payments.openapi import SPEC_FILE

    shipped = subprocess.run([python, "-c", "from cdk_payments.openapi import SPEC_FILE, document; document(); "
                              "print(SPEC_FILE)"], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert Path(shipped.strip()).read_bytes() == SPEC_FILE.read_bytes()

    # The example, copied away from the source tree, synthesizes the same template from the wheel.
    app_dir = tmp_path / "app"
    shutil.copytree(EXAMPLE, app_dir, ignore=shutil.ignore_patterns("cdk.out", "node_modules", "__pycache__"))
    from_wheel = synth_example(tmp_path / "out-wheel", "dev", python=python, cwd=app_dir)
    assert from_wheel == from_source


def test_pypi_metadata_passes_twine_check_strict(wheel):
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("/METADATA"))
    assert "Description-Content-Type: text/markdown" in metadata
    assert "## API Reference" in metadata and "](#api-reference)" in metadata and "](API.md)" not in metadata
