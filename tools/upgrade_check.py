"""Would upgrading replace deployed state? Compare templates with the last release's baseline.

Which property changes replace a resource comes from the CloudFormation resource provider schemas
that cfn-lint ships: ``createOnlyProperties`` (always replaced) and ``conditionalCreateOnlyProperties``
(replaced for some changes, such as a DynamoDB table's KeySchema), never from a hand-kept list.

A stateful resource (tables, buckets, keys, log groups with retention, secrets, queues, user pools,
and anything with a Retain/Snapshot deletion policy) that would be replaced is a failure unless
release-baseline/replacements.toml has a reviewed entry for it. Replacements of stateless resources
and in-place updates of stateful ones are reported for the release notes: the schemas do not say
which updates interrupt a resource, so those are listed for a human to check.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import Any

STATEFUL_TYPES = frozenset({
    "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::KMS::Key",
    "AWS::SecretsManager::Secret", "AWS::SQS::Queue", "AWS::Cognito::UserPool",
})
REGION = "us-east-1"  # the schemas' reference region; the stateful types above are the same everywhere
# Type changes with a documented way to keep the data (DynamoDB developer guide, "Best practices for
# global tables": CloudFormation may delete a table whose type changes in place).
TYPE_CHANGE_MIGRATIONS = {
    ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"): (
        "keep the table: set its DeletionPolicy to Retain and deploy, remove it from the stack and deploy, add "
        "the replicas to it (console or update-table), then import it as the AWS::DynamoDB::GlobalTable "
        "(cdk import)"),
}


def is_stateful(resource: dict[str, Any]) -> bool:
    type_ = resource.get("Type", "")
    if type_ in STATEFUL_TYPES:
        return True
    if type_ == "AWS::Logs::LogGroup":
        return "RetentionInDays" in resource.get("Properties", {})
    return resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot")


@lru_cache(maxsize=None)
def replacing_properties(type_: str) -> tuple[frozenset[str], frozenset[str]]:
    """Top-level properties whose change replaces (createOnly) or may replace (conditional) ``type_``."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, type_).schema
    except Exception:  # a custom resource or a type the schemas do not know: nothing to say
        return frozenset(), frozenset()

    def top(pointers: list[str]) -> frozenset[str]:
        return frozenset(pointer.split("/")[2] for pointer in pointers if pointer.startswith("/properties/"))

    return top(schema.get("createOnlyProperties", [])), top(schema.get("conditionalCreateOnlyProperties", []))


@dataclass(frozen=True)
class Replacement:
    """A reviewed, deliberate replacement from replacements.toml."""

    template: str
    logical_id: str
    properties: tuple[str, ...]
    reason: str
    migration: str

    def covers(self, template: str, logical_id: str, prop: str | None) -> bool:
        return (fnmatch(template, self.template) and fnmatch(logical_id, self.logical_id)
                and (prop is None or any(fnmatch(prop, pattern) for pattern in self.properties)))


def load_replacements(path: Path, baseline: str) -> list[Replacement]:
    """The reviewed replacements against ``baseline``; each entry must say why and how to migrate."""
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("replacement", [])
    replacements = []
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("baseline", "template", "logical_id", "reason", "migration") if not entry.get(key)]
        if missing:
            raise ValueError(f"{path.name}: replacement #{number} lacks {', '.join(missing)}")
        if entry["baseline"] == baseline:
            replacements.append(Replacement(entry["template"], entry["logical_id"],
                                            tuple(entry.get("properties", ["*"])), entry["reason"], entry["migration"]))
    return replacements


@dataclass(frozen=True)
class Rename:
    """A reviewed rename of a baseline template: a snapshot test or an example stack with a new name."""

    old: str
    new: str
    reason: str
    migration: str = ""


def load_renames(path: Path, baseline: str) -> dict[str, Rename]:
    """Reviewed template renames against ``baseline``; an example stack's rename needs migration steps too."""
    if not path.exists():
        return {}
    renames = {}
    for number, entry in enumerate(tomllib.loads(path.read_text()).get("renamed", []), 1):
        required = ["baseline", "old", "new", "reason"]
        if str(entry.get("old", "")).startswith("example/"):
            required.append("migration")  # a renamed stack is a new stack: every resource in it is new
        missing = [key for key in required if not entry.get(key)]
        if missing:
            raise ValueError(f"{path.name}: renamed #{number} lacks {', '.join(missing)}")
        if entry["baseline"] == baseline:
            renames[entry["old"]] = Rename(entry["old"], entry["new"], entry["reason"], entry.get("migration", ""))
    return renames


@dataclass
class Finding:
    template: str
    logical_id: str
    type_: str
    what: str

    def __str__(self) -> str:
        return f"{self.template}: {self.logical_id} ({self.type_}) {self.what}"


@dataclass
class UpgradeReport:
    failures: list[Finding] = field(default_factory=list)
    reviewed: list[tuple[Finding, Replacement]] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    missing_templates: list[str] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)

    @staticmethod
    def _grouped(findings: list[Finding]) -> list[str]:
        """One line per change, naming every template it happens in (a construct is in several)."""
        templates: dict[tuple[str, str, str], list[str]] = {}
        for finding in findings:
            templates.setdefault((finding.logical_id, finding.type_, finding.what), []).append(finding.template)
        return [f"  - {logical_id} ({type_}) {what}\n      in {', '.join(names)}"
                for (logical_id, type_, what), names in templates.items()]

    def render(self, baseline: str) -> str:
        lines = []
        if self.failures:
            lines.append(f"Upgrading from {baseline} would REPLACE deployed state (data loss for users):")
            lines += self._grouped(self.failures)
            lines += [
                "How to proceed:",
                "  1. Prefer not to replace: keep the logical id (construct id/path; override_logical_id for a moved",
                "     construct) and keep create-only properties as they were (make the new value opt-in).",
                "  2. If the replacement is deliberate, add a reviewed [[replacement]] entry to",
                f"     release-baseline/replacements.toml (baseline = \"{baseline}\", template, logical_id, properties,",
                "     reason, migration: the steps users take to keep their data), and describe it under",
                "     'Upgrade notes' in CHANGELOG.md's Unreleased section, naming the logical id.",
            ]
        if self.missing_templates:
            lines.append(f"Templates in the {baseline} baseline that are no longer built:")
            for name in self.missing_templates:
                if name.startswith("example/"):
                    lines.append(f"  - {name}: the example's stack is gone or renamed. For users who deployed it, a "
                                 "renamed stack is a new stack (its stateful resources new and empty, the old stack "
                                 "left behind): keep the stack name, or add a reviewed [[renamed]] entry (old, new, "
                                 "reason, migration) and name it in CHANGELOG.md's upgrade notes.")
                else:
                    lines.append(f"  - {name}: its snapshot test was renamed or removed: restore the variant, or map "
                                 "it with a [[renamed]] entry (old, new, reason) in release-baseline/replacements.toml.")
        if self.renamed:
            lines.append("Reviewed renames (release-baseline/replacements.toml):")
            lines += [f"  - {rename.old} -> {rename.new}: {rename.reason}" for rename in self.renamed]
        if self.reviewed:
            lines.append("Reviewed replacements (release-baseline/replacements.toml):")
            lines += [f"  - {finding}: {entry.reason}" for finding, entry in self.reviewed]
        if self.notes:
            lines.append("For the release notes (not failures): replaced stateless resources and in-place updates of "
                         "stateful ones, which may interrupt them (check each resource's documentation):")
            lines += self._grouped(self.notes)
        return "\n".join(lines) or f"No replacement or stateful change against {baseline}."


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    old_props, new_props = old.get("Properties", {}), new.get("Properties", {})
    return sorted(name for name in old_props.keys() | new_props.keys() if old_props.get(name) != new_props.get(name))


def compare_template(name: str, old: dict[str, Any], new: dict[str, Any], report: UpgradeReport,
                     replacements: list[Replacement]) -> None:
    old_resources, new_resources = old.get("Resources", {}), new.get("Resources", {})

    def flag(finding: Finding, stateful: bool, prop: str | None) -> None:
        entry = next((entry for entry in replacements if entry.covers(name, finding.logical_id, prop)), None)
        if entry:
            report.reviewed.append((finding, entry))
        elif stateful:
            report.failures.append(finding)
        else:
            report.notes.append(finding)

    for logical_id, resource in sorted(old_resources.items()):
        type_ = resource.get("Type", "")
        stateful = is_stateful(resource)
        current = new_resources.get(logical_id)
        if current is None:
            added = sorted(new_id for new_id, new in new_resources.items()
                           if new_id not in old_resources and new.get("Type") == type_)
            hint = f" (new {type_} in its place: {', '.join(added)})" if added else ""
            new_one = "a new, empty one" if stateful else "a new one"
            flag(Finding(name, logical_id, type_, "disappears: its logical id is gone or changed, so CloudFormation "
                         f"deletes it (or orphans it, if retained) and creates {new_one}{hint}"), stateful, None)
            continue
        if current.get("Type") != type_:
            migration = TYPE_CHANGE_MIGRATIONS.get((type_, current.get("Type")))
            flag(Finding(name, logical_id, type_, f"changes type to {current.get('Type')}: it would be replaced"
                         + (f"; to {migration}" if migration else "")), stateful, None)
            continue
        create_only, conditional = replacing_properties(type_)
        for prop in _changed(resource, current):
            if prop in create_only:
                flag(Finding(name, logical_id, type_, f"is REPLACED: {prop} is create-only (createOnlyProperties)"),
                     stateful, prop)
            elif prop in conditional:
                flag(Finding(name, logical_id, type_, f"may be REPLACED: {prop} is conditionally create-only "
                             "(conditionalCreateOnlyProperties)"), stateful, prop)
            elif stateful:
                report.notes.append(Finding(name, logical_id, type_, f"is updated in place: {prop}"))


def check_upgrade(baseline: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]],
                  replacements: list[Replacement], renames: dict[str, Rename] | None = None) -> UpgradeReport:
    report = UpgradeReport()
    renames = renames or {}
    for name, old in sorted(baseline.items()):
        target = renames[name].new if name in renames else name
        if target not in current:
            report.missing_templates.append(name)
            continue
        if name in renames:
            report.renamed.append(renames[name])
        compare_template(target, old, current[target], report, replacements)
    return report

