"""Run cdk-nag (its 4 packs and cdk-payments' PCI DSS 4.0.1 pack), the AWS Control Tower proactive controls
(cfn-guard), cfn-lint and checkov on the example app and print what they found.

    python tools/compliance_report.py            # table, both profiles
    python tools/compliance_report.py --json     # the same as JSON (what the tests read)

Each row: tool or pack, findings still open, acknowledged ones and their reasons.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "payment_platform"
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
PACKS = {"AwsSolutions": "AwsSolutions", "PCI.DSS.321": "PCI DSS 3.2.1", "PCI.DSS.401": "PCI DSS 4.0.1",
         "NIST.800.53.R5": "NIST 800-53 R5",
         "Serverless": "Serverless", "cdk-validator-cfnguard": "Control Tower (cfn-guard)"}
GUARD_PREFIX = "cdk-validator-cfnguard::"  # cfn-guard rule ids are acknowledged in the plugin's namespace


def synth(profile: str, outdir: Path) -> list[Path]:
    env = {**os.environ, "CDK_OUTDIR": str(outdir),
           "CDK_CONTEXT_JSON": json.dumps({"profile": profile, "nag": True, "allowSandboxInProd": True,
                                         "alertEmail": "payments-alerts@example.com"})}
    result = subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=env, capture_output=True, text=True)
    if result.returncode != 0 and not (outdir / "validation-report.json").exists():
        raise SystemExit(result.stderr)
    return sorted(outdir.glob("*.template.json"))  # prod adds the audit replica's regional stack


def nag(outdir: Path) -> dict[str, dict]:
    rows = {pack: {"findings": [], "acknowledged": []} for pack in PACKS.values()}
    report = outdir / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            pack = PACKS.get(plugin["pluginName"], plugin["pluginName"])
            for violation in plugin["violations"]:
                for construct in violation["violatingConstructs"]:
                    rows[pack]["findings"].append(f"{violation['ruleName']} at {construct['constructPath']}")
    # Acknowledgements, as recorded in the stack's metadata by Validations.acknowledge.
    for metadata_file in outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry.get("type") != "aws:cdk:acknowledged-rules":
                    continue
                for rule, reason in entry["data"].items():
                    rule = rule.split("::", 1)[1] if rule.split("::", 1)[0] in ("Annotation", "annotation") else rule
                    pack = next((name for key, name in PACKS.items() if rule.startswith(key)), None)
                    if pack:
                        rows[pack]["acknowledged"].append({"rule": rule.removeprefix(GUARD_PREFIX), "at": path,
                                                           "reason": reason})
    return rows


def _by_profile(templates: dict[str, list[Path]], path: str) -> str:
    # Tools print the path their own way (checkov relative to its working directory); the stacks'
    # template names differ between profiles, so the name decides.
    return next(profile for profile, paths in templates.items() if Path(path).name in {t.name for t in paths})


def cfn_lint(templates: dict[str, list[Path]]) -> dict[str, dict]:
    """cfn-lint once over every profile's templates (one start-up), its matches split by profile."""
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--format", "json",
                             *(str(t) for paths in templates.values() for t in paths)], capture_output=True, text=True)
    rows = {profile: {"findings": [], "acknowledged": []} for profile in templates}
    for match in json.loads(result.stdout or "[]"):
        profile = _by_profile(templates, match["Filename"])
        rows[profile]["findings"].append(f"{match['Rule']['Id']} {match['Message']}")
    return rows


def checkov(templates: dict[str, list[Path]]) -> dict[str, dict]:
    """checkov once over every profile's templates (its start-up is seconds), split by profile."""
    args = [arg for paths in templates.values() for template in paths for arg in ("-f", str(template))]
    result = subprocess.run([str(CHECKOV), *args, "--framework", "cloudformation", "--output", "json",
                             "--skip-download"], capture_output=True, text=True)
    data = json.loads(result.stdout or "{}")
    reports = data if isinstance(data, list) else [data]
    rows = {profile: {"findings": [], "acknowledged": []} for profile in templates}
    for report in reports:
        for kind in ("failed_checks", "skipped_checks"):
            for c in report.get("results", {}).get(kind, []):
                row = rows[_by_profile(templates, c["file_path"])]
                if kind == "failed_checks":
                    row["findings"].append(f"{c['check_id']} at {c['resource']}")
                else:
                    row["acknowledged"].append({"rule": c["check_id"], "at": c["resource"],
                                                "reason": (c.get("check_result") or {}).get("suppress_comment", "")})
    return rows


def report(profiles=("dev", "prod"), assembly: Optional[Callable[[str], Path]] = None) -> dict:
    """Every pack and tool on the example, per profile. ``assembly`` gives an already synthesized cloud
    assembly (with the ``nag`` context) per profile; without it each profile is synthesized here."""
    with tempfile.TemporaryDirectory() as tmp:
        outdirs = {profile: assembly(profile) if assembly else Path(tmp, profile) for profile in profiles}
        templates = {profile: (sorted(outdir.glob("*.template.json")) if assembly else synth(profile, outdir))
                     for profile, outdir in outdirs.items()}
        lint, scan = cfn_lint(templates), checkov(templates)
        return {profile: {**nag(outdirs[profile]), "cfn-lint": lint[profile], "checkov": scan[profile]}
                for profile in profiles}


def table(data: dict) -> str:
    lines = ["| profile | pack / tool | open findings | acknowledged |", "| --- | --- | --- | --- |"]
    for profile, rows in data.items():
        for name, row in rows.items():
            lines.append(f"| {profile} | {name} | {len(row['findings'])} | {len(row['acknowledged'])} |")
    reasons = defaultdict(set)
    for rows in data.values():
        for name, row in rows.items():
            for ack in row["acknowledged"]:
                reasons[(name, ack["rule"])].add(ack["reason"])
    lines += ["", "Acknowledged, with their reasons:", ""]
    for (name, rule), why in sorted(reasons.items()):
        lines.append(f"- **{rule}** ({name}): {' / '.join(sorted(why))}")
    open_findings = [f"{p}/{n}: {f}" for p, rows in data.items() for n, r in rows.items() for f in r["findings"]]
    if open_findings:
        lines += ["", "OPEN FINDINGS:"] + [f"- {f}" for f in open_findings]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="append", choices=["dev", "prod"])
    args = parser.parse_args()
    data = report(tuple(args.profile or ("dev", "prod")))
    print(json.dumps(data, indent=2) if args.json else table(data))
    return 1 if any(r["findings"] for rows in data.values() for r in rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
