"""The public Python API and the profile defaults against the last release's baseline.

griffe's breaking-change check compares what ``cdk_payments.__all__`` exports (constructor
signatures, props and their defaults, public attributes, enum members) with the API dump in
release-baseline/<last release>/api.json: a break needs a new major version (before 1.0, a new
minor). A changed profile default changes what users deploy, so CHANGELOG.md must list it.
"""

from __future__ import annotations

import json
import re
import shutil

import griffe
import pytest

from .release import baseline as rb


@pytest.fixture(scope="module")
def last():
    return rb.last_baseline()


@pytest.fixture(scope="module")
def released_api(last):
    return rb.load_api(last)


@pytest.fixture(scope="module")
def current_api():
    return rb.load_api()


def test_no_breaking_change_without_a_new_major_version(last, released_api, current_api):
    breakages = rb.api_breakages(released_api, current_api)
    version = rb.current_version()
    assert not breakages or rb.breaking_allowed(last.name, version), (
        f"Breaking changes to the public API since {last.name}, but the version in .projenrc.py is {version}:\n"
        + "\n".join(f"  - {breakage}" for breakage in breakages)
        + "\nHow to proceed: keep the old name or prop working (deprecate it: accept it, warn, and map it to "
        "the new one), or raise VERSION in .projenrc.py to the next major (before 1.0: minor) version, run "
        "`python .projenrc.py`, and list each break under CHANGELOG.md's Unreleased section.")


def test_the_baseline_api_is_the_exported_constructs(released_api):
    assert "SecurePaymentApi" in released_api.exports
    params = released_api["AuditBucket"].final_target["__init__"].parameters
    assert params["bucket_name"].kind is griffe.ParameterKind.keyword_only


def _api_with(tmp_path, edit):
    """The current source with one file edited, as griffe loads it."""
    shutil.copytree(rb.ROOT / "src" / "cdk_payments", tmp_path / "cdk_payments")
    edit(tmp_path / "cdk_payments")
    return griffe.load("cdk_payments", search_paths=[str(tmp_path)], resolve_aliases=True, resolve_external=False)


def _edit(relative, pattern, replacement):
    def edit(package):
        path = package / relative
        text, count = re.subn(pattern, replacement, path.read_text(), count=1)
        assert count == 1, pattern
        path.write_text(text)
    return edit


def test_a_removed_public_prop_is_a_breaking_change(tmp_path, released_api):
    mutated = _api_with(tmp_path, _edit("audit.py", r"\n\s+bucket_name: [^\n]*", ""))
    assert rb.api_breakages(released_api, mutated) == [
        "cdk_payments.AuditBucket: AuditBucket.__init__(bucket_name): Parameter was removed"]


def test_a_removed_export_and_enum_member_are_breaking(tmp_path, released_api):
    def edit(package):
        _edit("__init__.py", r'\n    "RequiredTagsCheck",', "")(package)
        _edit("choices.py", r"\n    COMPLIANCE = [^\n]*", "")(package)
    breakages = rb.api_breakages(released_api, _api_with(tmp_path, edit))
    assert "cdk_payments.RequiredTagsCheck: removed from cdk_payments.__all__" in breakages
    assert any(b.startswith("cdk_payments.AuditLockMode: AuditLockMode.COMPLIANCE") for b in breakages)


def test_a_new_optional_prop_is_not_breaking(tmp_path, released_api):
    mutated = _api_with(tmp_path, _edit("audit.py", r"(\n(\s+)bucket_name: [^\n]*)", r"\1\n\2new_prop: int = 1,"))
    assert rb.api_breakages(released_api, mutated) == []


@pytest.mark.parametrize("released,current,allowed", [
    ("0.1.0", "0.1.1", False), ("0.1.0", "0.2.0", True), ("1.2.0", "1.3.0", False), ("1.2.0", "2.0.0", True),
    ("0.9.0", "1.0.0", True),
])
def test_semantic_versioning(released, current, allowed):
    assert rb.breaking_allowed(released, current) is allowed


def test_changed_profile_defaults_are_in_the_changelog(last):
    released = json.loads((last / "profile-defaults.json").read_text())
    changed = rb.changed_defaults(released, rb.profile_defaults())
    unreleased = rb.changelog_section("Unreleased")
    missing = [name for name in changed if name not in unreleased]
    assert not missing, (
        f"Profile defaults changed since {last.name} change what users deploy on upgrade; list each under "
        f"CHANGELOG.md's Unreleased section (as section.field, with old and new value): {', '.join(missing)}")


def test_a_changed_default_is_detected(last):
    released = json.loads((last / "profile-defaults.json").read_text())
    changed = json.loads(json.dumps(released))
    changed["prod"]["payment_api"]["memory_size"] = 1024
    del changed["dev"]["audit"]["glacier_after_days"]
    assert rb.changed_defaults(released, changed) == ["audit.glacier_after_days", "payment_api.memory_size"]
