"""Upgrading from the last release never silently replaces a user's deployed state.

The current templates (the example in both profiles, synthesized once here, and every construct
variant the snapshot tests build) are compared with release-baseline/<last release>/.
"""

from __future__ import annotations

import copy
import json
import re
import warnings

import pytest

from .release import baseline as rb
from .release import upgrade

TABLE = "PaymentsTable9E001CC6"
AUDIT_BUCKET = "AuditBucket7486E833"
DEV = "example/PaymentPlatform-dev"


@pytest.fixture(scope="module")
def last():
    return rb.last_baseline()


@pytest.fixture(scope="module")
def released(last):
    return rb.read_templates(last)


@pytest.fixture(scope="module")
def current(example_assemblies):
    """The example's stacks from the session's assemblies (what `release_baseline.example_templates`
    synthesizes for a release), and the snapshot tests' templates."""
    example = {f"example/{path.name.removesuffix('.template.json')}": rb.normalize(json.loads(path.read_text()))
               for profile in rb.PROFILES for path in sorted(example_assemblies.get(profile).glob("*.template.json"))}
    return {**example, **rb.snapshot_templates()}


@pytest.fixture(scope="module")
def reviewed(last):
    return upgrade.load_replacements(rb.REPLACEMENTS, last.name)


@pytest.fixture(scope="module")
def renames(last):
    return upgrade.load_renames(rb.REPLACEMENTS, last.name)


def test_upgrading_from_the_last_release_replaces_no_state(last, released, current, reviewed, renames):
    report = upgrade.check_upgrade(released, current, reviewed, renames)
    if report.notes or report.reviewed:
        warnings.warn(report.render(last.name), UserWarning, stacklevel=1)
    assert not report.failures and not report.missing_templates, "\n" + report.render(last.name)


def test_every_reviewed_replacement_is_in_the_changelogs_upgrade_notes(reviewed, renames):
    unreleased = rb.changelog_section("Unreleased")
    for entry in reviewed:
        assert entry.logical_id in unreleased, (
            f"release-baseline/replacements.toml replaces {entry.logical_id}: CHANGELOG.md's Unreleased section "
            "must name it under its upgrade notes, with the migration steps")
    for rename in renames.values():
        if rename.old.startswith("example/"):
            stack = rename.old.removeprefix("example/")
            assert stack in unreleased, f"the example's stack {stack} was renamed: name it in the upgrade notes"


def test_the_baseline_covers_both_profiles_the_replica_and_the_snapshots(released):
    assert {DEV, "example/PaymentPlatform-prod", "example/PaymentPlatform-audit-replica"} <= released.keys()
    assert any(name.startswith("constructs/payment_api/") for name in released)
    assert any(name.startswith("constructs/test_audit/") for name in released)


def test_replacing_properties_come_from_cfn_lints_resource_schemas():
    create_only, conditional = upgrade.replacing_properties("AWS::DynamoDB::Table")
    assert "TableName" in create_only and "KeySchema" in conditional
    assert "BucketName" in upgrade.replacing_properties("AWS::S3::Bucket")[0]
    assert "FifoQueue" in upgrade.replacing_properties("AWS::SQS::Queue")[0]
    assert upgrade.replacing_properties("AWS::Unknown::Thing") == (frozenset(), frozenset())


def _check(templates, released, last, reviewed=()):
    report = upgrade.check_upgrade(released, templates, list(reviewed))
    return report.render(last.name), report


def test_a_changed_table_key_schema_fails_and_says_how_to_proceed(released, last):
    mutated = copy.deepcopy(released)
    key_schema = mutated[DEV]["Resources"][TABLE]["Properties"]["KeySchema"]
    key_schema[0]["AttributeName"] = "payment_ref"
    message, report = _check(mutated, released, last)
    assert [finding.logical_id for finding in report.failures] == [TABLE]
    assert f"{TABLE} (AWS::DynamoDB::Table) may be REPLACED: KeySchema" in message and f"in {DEV}" in message
    assert "release-baseline/replacements.toml" in message and "CHANGELOG.md" in message


def test_a_changed_audit_bucket_logical_id_fails(released, last):
    mutated = copy.deepcopy(released)
    resources = mutated[DEV]["Resources"]
    resources["AuditBucketRenamed0000"] = resources.pop(AUDIT_BUCKET)
    message, report = _check(mutated, released, last)
    assert [finding.logical_id for finding in report.failures] == [AUDIT_BUCKET]
    assert f"{AUDIT_BUCKET} (AWS::S3::Bucket) disappears" in message
    assert "new AWS::S3::Bucket in its place: AuditBucketRenamed0000" in message
    assert "keep the logical id" in message


def test_moving_the_table_to_tablev2_fails_and_names_the_retain_remove_import_migration(released, last):
    """A warm-standby tier needs a global table (TableV2): CloudFormation may delete a table whose type
    changes in place, so the check fails and gives AWS's documented way to keep the data."""
    mutated = copy.deepcopy(released)
    mutated[DEV]["Resources"][TABLE]["Type"] = "AWS::DynamoDB::GlobalTable"
    message, report = _check(mutated, released, last)
    assert [finding.logical_id for finding in report.failures] == [TABLE]
    assert f"{TABLE} (AWS::DynamoDB::Table) changes type to AWS::DynamoDB::GlobalTable" in message
    assert "DeletionPolicy to Retain" in message and "cdk import" in message
    # A TableV2 under a new construct id instead: the old table disappears, which fails too.
    moved = copy.deepcopy(released)
    table = moved[DEV]["Resources"].pop(TABLE)
    moved[DEV]["Resources"]["PaymentsGlobalTable0000"] = {**table, "Type": "AWS::DynamoDB::GlobalTable"}
    _, report = _check(moved, released, last)
    assert [finding.logical_id for finding in report.failures] == [TABLE]


def test_a_create_only_property_fails_but_an_in_place_update_is_only_reported(released, last):
    mutated = copy.deepcopy(released)
    resources = mutated[DEV]["Resources"]
    resources[AUDIT_BUCKET]["Properties"]["BucketName"] = "fixed-name"
    resources[TABLE]["Properties"]["DeletionProtectionEnabled"] = True
    _, report = _check(mutated, released, last)
    assert [str(f) for f in report.failures] == [
        f"{DEV}: {AUDIT_BUCKET} (AWS::S3::Bucket) is REPLACED: BucketName is create-only (createOnlyProperties)"]
    assert f"{DEV}: {TABLE} (AWS::DynamoDB::Table) is updated in place: DeletionProtectionEnabled" in map(
        str, report.notes)


def test_a_replaced_stateless_resource_is_reported_not_failed(released, last):
    mutated = copy.deepcopy(released)
    resources = mutated[DEV]["Resources"]
    function = next(name for name, resource in resources.items() if resource["Type"] == "AWS::Lambda::Function")
    resources[function + "Renamed"] = resources.pop(function)
    _, report = _check(mutated, released, last)
    assert not report.failures
    assert any(finding.logical_id == function for finding in report.notes)


def test_a_reviewed_replacement_passes(released, last, tmp_path):
    mutated = copy.deepcopy(released)
    mutated[DEV]["Resources"][TABLE]["Properties"]["KeySchema"][0]["AttributeName"] = "payment_ref"
    replacements = tmp_path / "replacements.toml"
    replacements.write_text(f'''
[[replacement]]
baseline = "{last.name}"
template = "example/*"
logical_id = "{TABLE}"
properties = ["KeySchema"]
reason = "a new partition key"
migration = "export the table, deploy, import"
''')
    entries = upgrade.load_replacements(replacements, last.name)
    _, report = _check(mutated, released, last, entries)
    assert not report.failures and [finding.logical_id for finding, _ in report.reviewed] == [TABLE]
    # An entry for an older baseline no longer applies.
    assert upgrade.load_replacements(replacements, "0.0.1") == []


def test_a_replacement_entry_must_say_why_and_how_to_migrate(tmp_path):
    replacements = tmp_path / "replacements.toml"
    replacements.write_text('[[replacement]]\nbaseline = "0.1.0"\ntemplate = "*"\nlogical_id = "X"\n')
    with pytest.raises(ValueError, match=re.escape("replacement #1 lacks reason, migration")):
        upgrade.load_replacements(replacements, "0.1.0")


def test_a_template_no_longer_built_fails_unless_its_rename_was_reviewed(released, last, tmp_path):
    mutated = copy.deepcopy(released)
    mutated["example/PaymentPlatform-dev-renamed"] = mutated.pop(DEV)
    message, report = _check(mutated, released, last)
    assert report.missing_templates == [DEV] and "a renamed stack is a new stack" in message

    replacements = tmp_path / "replacements.toml"
    replacements.write_text(f'[[renamed]]\nbaseline = "{last.name}"\nold = "{DEV}"\nnew = "{DEV}-renamed"\n'
                            'reason = "stack names carry the copy"\n')
    with pytest.raises(ValueError, match="renamed #1 lacks migration"):
        upgrade.load_renames(replacements, last.name)
    replacements.write_text(replacements.read_text() + 'migration = "deploy beside the old stack, move the data"\n')
    renames = upgrade.load_renames(replacements, last.name)
    mutated[f"{DEV}-renamed"]["Resources"][TABLE]["Properties"]["TableName"] = "fixed"
    report = upgrade.check_upgrade(released, mutated, [], renames)
    assert not report.missing_templates and [r.new for r in report.renamed] == [f"{DEV}-renamed"]
    assert [str(f) for f in report.failures] == [f"{DEV}-renamed: {TABLE} (AWS::DynamoDB::Table) is REPLACED: "
                                                 "TableName is create-only (createOnlyProperties)"]


def test_every_baseline_is_a_released_version_in_the_changelog(last):
    for version in sorted(path.name for path in rb.BASELINES.iterdir() if path.is_dir()):
        assert rb.changelog_section(version).strip(), f"CHANGELOG.md needs a '## {version}' section"
    assert rb.version_key(last.name) <= rb.version_key(rb.current_version()), \
        "the last baseline is newer than the version in .projenrc.py"


def test_release_notes_are_the_changelog_section_of_the_tag(capsys):
    """What the release workflow attaches to the GitHub release for tag v<version>."""
    assert rb.main(["--notes", "v0.1.0"]) == 0
    notes = capsys.readouterr().out
    assert notes.startswith("First release.") and "## " not in notes
    with pytest.raises(LookupError, match="no '## 9.9.9' section"):
        rb.changelog_section("9.9.9")


def test_a_real_refactor_that_renames_the_audit_construct_fails(released, last):
    """End to end: the snapshot test's AuditBucket, synthesized under a new construct id."""
    from aws_cdk import aws_iam as iam

    from cdk_payments import AuditBucket

    from .harness import synth

    def build(stack):
        audit = AuditBucket(stack, "AuditTrail")  # was "Audit" in 0.1.0
        audit.grant_write(iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))

    name = "constructs/test_audit/test_snapshot"
    refactored = rb.normalize(synth(build, nag=False).json)
    report = upgrade.check_upgrade({name: released[name]}, {name: refactored}, [])
    assert {finding.logical_id for finding in report.failures} == {
        AUDIT_BUCKET, "AuditAccessLogs9A4BEAE3", "AuditKey2ED08D30"}, report.render(last.name)
