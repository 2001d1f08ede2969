"""The release baseline: what a released version deployed and exported, kept in the repository.

``python tools/release_baseline.py`` (``projen release:baseline``) writes, for the version in
.projenrc.py, ``release-baseline/<version>/``:

- ``templates/example/*.json``: the example app's templates, dev and prod (with the audit replica);
- ``templates/constructs/<test module>/<snapshot>.json``: every construct variant the snapshot tests
  build (copied from their syrupy snapshots, which the snapshot tests keep equal to synthesis);
- ``api.json``: the public Python API as griffe's JSON dump;
- ``profile-defaults.json``: every profile default.

All templates are normalized like the snapshots (asset hashes masked, CDKMetadata dropped).
``python tools/release_baseline.py --report`` prints what the next release changes against the last
baseline (replacements, in-place updates of stateful resources), for its release notes.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ROOT / "release-baseline"
REPLACEMENTS = BASELINES / "replacements.toml"
EXAMPLE = ROOT / "examples" / "payment_platform"
PROFILES = ("dev", "prod")
HASH = re.compile(r"[0-9a-f]{64}")


def current_version() -> str:
    """The one version, as .projenrc.py writes it into pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def last_baseline() -> Path:
    """The newest release-baseline/<version>/ folder."""
    versions = [path for path in BASELINES.iterdir() if path.is_dir() and re.fullmatch(r"\d+\.\d+\.\d+", path.name)]
    return max(versions, key=lambda path: version_key(path.name))


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    """Mask asset hashes and drop CDKMetadata, exactly as test/harness.py's snapshots do."""
    masked = json.loads(HASH.sub("<asset-hash>", json.dumps(template)))
    masked.get("Resources", {}).pop("CDKMetadata", None)
    return masked


def changelog_section(title: str) -> str:
    """The body of CHANGELOG.md's ``## <title>`` section (``Unreleased`` or a version), without its heading."""
    text = (ROOT / "CHANGELOG.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\b[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        raise LookupError(f"CHANGELOG.md has no '## {title}' section")
    return match.group(1).strip() + "\n"


# Templates ----------------------------------------------------------------------------------------------


def _start_example(profile: str, outdir: Path) -> subprocess.Popen:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"profile": profile, "allowSandboxInProd": True})}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    return subprocess.Popen([sys.executable, "app.py"], cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def example_templates() -> dict[str, dict[str, Any]]:
    """``example/<stack>`` -> normalized template, for both profiles (prod adds the audit replica stack).

    The profiles synthesize side by side, offline and without credentials or a region.
    """
    templates: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cdk-payments-baseline-") as tmp:
        runs = {profile: _start_example(profile, Path(tmp, profile)) for profile in PROFILES}
        for profile, run in runs.items():
            _, stderr = run.communicate()
            if run.returncode:
                raise RuntimeError(f"example synthesis ({profile}) failed:\n{stderr}")
            for path in sorted(Path(tmp, profile).glob("*.template.json")):
                stack = path.name.removesuffix(".template.json")
                templates[f"example/{stack}"] = normalize(json.loads(path.read_text()))
    return templates


def snapshot_templates() -> dict[str, dict[str, Any]]:
    """``constructs/<module>/<snapshot>[-<n>]`` -> template, from the syrupy snapshots of templates."""
    templates: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "test").glob("**/__snapshots__/*/*.json")):
        data = json.loads(path.read_text())
        module = path.parent.relative_to(ROOT / "test").as_posix().replace("__snapshots__/", "")
        name = f"constructs/{module}/{path.stem}"
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            if isinstance(item, dict) and "Resources" in item:
                templates[name if len(items) == 1 else f"{name}-{index}"] = normalize(item)
    return templates


def read_templates(baseline: Path) -> dict[str, dict[str, Any]]:
    root = baseline / "templates"
    return {str(path.relative_to(root).with_suffix("")): json.loads(path.read_text())
            for path in sorted(root.glob("**/*.json"))}


# Public API and profile defaults ----------------------------------------------------------------------


def load_api(version_dir: Path | None = None):
    """The public API as griffe sees it: from the baseline's JSON dump, or from src/ when None."""
    import griffe

    if version_dir is None:
        return griffe.load("cdk_payments", search_paths=[str(ROOT / "src")], resolve_aliases=True,
                           resolve_external=False)
    package = griffe.Module.from_json((version_dir / "api.json").read_text())
    collection = griffe.ModulesCollection()
    collection.set_member(package.path, package)
    loader = griffe.GriffeLoader(modules_collection=collection)
    loader.resolve_aliases(implicit=True, external=False)
    return package


def api_breakages(old, new) -> list[str]:
    """Breaking changes from ``old`` to ``new`` in what ``cdk_payments.__all__`` exports, by griffe."""
    import griffe

    exported = set(new.exports or ())
    found = []
    for name in old.exports or ():
        if name not in exported:
            found.append(f"cdk_payments.{name}: removed from cdk_payments.__all__")
            continue
        for breakage in griffe.find_breaking_changes(old[name].final_target, new[name].final_target):
            # griffe's one-line explanation, less its colours and its file:line prefix.
            explanation = re.sub(r"\x1b\[[0-9;]*m", "", breakage.explain()).split(": ", 1)[1]
            found.append(f"cdk_payments.{name}: {explanation}")
    return found


def breaking_allowed(released: str, current: str) -> bool:
    """Semantic versioning: a breaking change needs a new major version (before 1.0: a new minor)."""
    (old_major, old_minor, *_), (new_major, new_minor, *_) = version_key(released), version_key(current)
    if old_major == 0 and new_major == 0:
        return new_minor > old_minor
    return new_major > old_major


def dump_api() -> str:
    """griffe's JSON dump of the package, with file paths relative to the repository."""
    return load_api().as_json(indent=2).replace(json.dumps(f"{ROOT}/")[1:-1], "") + "\n"


def _plain(value: Any) -> Any:
    """A profile default as JSON: enums by name, Durations in seconds, tuples as lists."""
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "to_seconds"):  # aws_cdk.Duration
        return f"{value.to_seconds()} s"
    return value


def profile_defaults() -> dict[str, Any]:
    """``{profile: {section: {field: value}}}`` for every profile."""
    from cdk_payments.profiles import PROFILE_DEFAULTS

    return {profile.value: _plain(defaults) for profile, defaults in PROFILE_DEFAULTS.items()}


def changed_defaults(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``section.field`` of each default that differs in any profile (or was added or removed)."""
    changed = set()
    for profile in old.keys() | new.keys():
        before, after = old.get(profile, {}), new.get(profile, {})
        for section in before.keys() | after.keys():
            fields_before, fields_after = before.get(section, {}), after.get(section, {})
            for name in fields_before.keys() | fields_after.keys():
                if fields_before.get(name, "<absent>") != fields_after.get(name, "<absent>"):
                    changed.add(f"{section}.{name}")
    return sorted(changed)


# Writing ----------------------------------------------------------------------------------------------


def write_baseline(version: str) -> Path:
    target = BASELINES / version
    if target.exists():
        raise SystemExit(f"{target.relative_to(ROOT)} exists: a released baseline is never rewritten")
    templates = {**example_templates(), **snapshot_templates()}
    for name, template in templates.items():
        path = target / "templates" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    (target / "api.json").write_text(dump_api())
    (target / "profile-defaults.json").write_text(json.dumps(profile_defaults(), indent=2, sort_keys=True) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=None, help="version to record (default: the one in .projenrc.py)")
    parser.add_argument("--version-only", action="store_true", help="print the version in .projenrc.py")
    parser.add_argument("--notes", metavar="VERSION", help="print CHANGELOG.md's section for VERSION (release notes)")
    parser.add_argument("--report", action="store_true", help="print the upgrade report against the last baseline")
    args = parser.parse_args(argv)
    if args.version_only:
        print(current_version())
        return 0
    if args.notes:
        print(changelog_section(args.notes.removeprefix("v")), end="")
        return 0
    if args.report:
        sys.path.insert(0, str(ROOT / "tools"))
        from upgrade_check import check_upgrade, load_renames, load_replacements

        baseline = last_baseline()
        current = {**example_templates(), **snapshot_templates()}
        report = check_upgrade(read_templates(baseline), current, load_replacements(REPLACEMENTS, baseline.name),
                               load_renames(REPLACEMENTS, baseline.name))
        print(report.render(baseline.name))
        return 1 if report.failures else 0
    print(write_baseline(args.version or current_version()).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
