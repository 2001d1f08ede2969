"""Proof by mutation of grants: remove each statement of each function role, one at a time, and check
that a recorded AWS call becomes denied (the IAM simulator judges; see test/iam/).

    python tools/grant_mutation.py [--calls FILE] [--json REPORT]

The recorded calls come from the handler tests (run here with CDK_PAYMENTS_IAM_CALLS unless --calls
names a file of an earlier run) plus the calls Lambda makes with each role (logs, traces, environment
decryption, ENIs, dead-letter queue, queue polling). The templates are the example app (dev and
prod) and the library's construct variants (test/variants.py), synthesized once; no re-synthesis per
mutation. Prints, per role, the statements whose removal nothing notices and the granted actions no
recorded call exercises (least privilege); exits 1 if a statement goes unnoticed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from test.deploy_semantics.cfn import StackTemplate, load_assembly  # noqa: E402
from test.example_assemblies import ExampleAssemblies  # noqa: E402
from test.iam.deployed import deployed  # noqa: E402
from test.iam.platform import platform_calls  # noqa: E402
from test.iam.simulator import Policies, explain, requests, simulate, simulation  # noqa: E402

# Statements whose removal no recorded call can notice, by their actions, and why they are kept.
JUSTIFIED = {
    ("secretsmanager:GetRandomPassword",): "the rotation schedule's grant (CDK adds it); our rotation code "
    "asks the provider for new credentials instead",
    ("kms:Decrypt",): "the event source's grant_consume_messages repeats the kms:Decrypt on the queue's key "
    "that grant_encrypt_decrypt already gives on the same key (a duplicate, not a gap)",
}
# Granted actions no recorded call exercises, kept: CDK's L2 grant bundles (the comment in
# payment_api/handlers.py Handlers._grant_least_privilege says which grant brings each).
BUNDLED = {
    "sqs:GetQueueAttributes": "grant_send_messages / grant_consume_messages",
    "sqs:GetQueueUrl": "grant_send_messages / grant_consume_messages",
    "sqs:ChangeMessageVisibility": "grant_consume_messages (the event source mapping)",
    "kms:Encrypt": "grant_encrypt_decrypt", "kms:ReEncrypt*": "grant_encrypt_decrypt",
    "kms:GenerateDataKey*": "grant_encrypt_decrypt", "kms:Decrypt": "grant_encrypt_decrypt",
    "secretsmanager:DescribeSecret": "grant_read",
    "secretsmanager:GetRandomPassword": "the rotation schedule's grant (no resource-level scoping)",
}


def record_calls(path: Path, workdir: Path) -> None:
    """Run the handler tests once with the recorder writing every call to ``path``; the example
    assemblies they synthesize (to judge the calls) stay in ``workdir`` for the mutations."""
    env = {**os.environ, "CDK_PAYMENTS_IAM_CALLS": str(path)}
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "test/runtime",
                    f"--basetemp={workdir}"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def stacks(workdir: Path) -> list:
    from test.variants import synthesize_variants

    found = []
    assemblies = ExampleAssemblies(workdir / "example-assemblies")
    for profile in ("dev", "prod"):
        found += [s for s in load_assembly(assemblies.get(profile))]
    root, _ = synthesize_variants(workdir / "variants")
    for template in sorted(root.glob("*.json")):
        if template.name != "findings.json":
            found.append(StackTemplate(f"variant-{template.stem}", "us-east-1", json.loads(template.read_text())))
    return [deployed(s) for s in found if any(r["Type"] == "AWS::Lambda::Function" for r in s.resources.values())]


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]


def mutate(stack, calls: list[dict]) -> dict:
    """One stack: the baseline denials, the unnoticed removals and the unexercised actions per role."""
    policies = Policies(stack)
    wanted = requests(policies, [*calls, *platform_calls(stack)])
    by_role: dict[str, list] = {}
    for request in wanted:
        by_role.setdefault(request.principal, []).append(request)
    batch, index = [], []
    for request in {r.key(): r for r in wanted}.values():
        batch.append(simulation(policies, request))
        index.append(("baseline", None, request))
    roles = {policies.role_of(f): f for ids in policies.functions.values() for f in ids
             if str(stack.props(f).get("Handler", "")).startswith("runtime.")}
    statements = {}
    for role_id in roles:
        role_requests = list({r.key(): r for r in by_role.get(policies.role_arn(role_id), [])}.values())
        for document in policies.identity(role_id):
            name = document["name"]
            for position, statement in enumerate(document["policy"]["Statement"]):
                statements[(role_id, name, position)] = statement
                for request in role_requests:
                    batch.append(simulation(policies, request, without=(_source(policies, role_id, name), position)))
                    index.append(("mutant", (role_id, name, position), request))
    results = simulate(batch)
    baseline = [(r, res) for (kind, _, r), res in zip(index, results, strict=False) if kind == "baseline" and res["result"] != "Allowed"]
    noticed = {key for (kind, key, _), res in zip(index, results, strict=False) if kind == "mutant" and res["result"] != "Allowed"}
    unnoticed = [(key, statements[key]) for key in statements if key not in noticed]
    exercised = {r.principal: {r.action for r in by_role.get(r.principal, [])} for r in wanted}
    unused = {}
    for (role_id, _, _), statement in statements.items():
        used = exercised.get(policies.role_arn(role_id), set())
        for action in _actions(statement):
            if not any(fnmatch.fnmatchcase(u.lower(), action.lower()) for u in used):
                unused.setdefault(role_id, set()).add(action)
    return {"stack": stack.name, "statements": len(statements), "baseline": explain(policies, baseline),
            "unnoticed": unnoticed, "unused": {k: sorted(v) for k, v in unused.items()}}


def _key_of_an_imported_resource(statement: dict) -> bool:
    """A key named by its alias (``kms:ResourceAliases``): an imported table's own key (a warm standby's replica),
    which the template does not hold, so no call recorded against it reaches it. Template assertions in
    test/payment_api/test_resilience.py fail without it (the standby's and an existing keyed table's)."""
    return "kms:ResourceAliases" in json.dumps(statement.get("Condition", {}))


def _source(policies: Policies, role_id: str, name: str) -> str:
    """The name ``Policies.identity(without=...)`` takes for the document listed as ``name``."""
    return name.replace(f"{role_id}-", f"{role_id}/", 1) if name.startswith(f"{role_id}-") else name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, help="recorded calls (JSON lines) of an earlier handler-test run")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--workdir", type=Path, help="where the templates are synthesized (reused when there)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="grant-mutation-"))
    calls_file = args.calls or workdir.parent / f"{workdir.name}-calls.jsonl"
    if args.calls is None:
        record_calls(calls_file, workdir)
    calls = [json.loads(line) for line in calls_file.read_text().splitlines() if line.strip()]
    reports = [mutate(stack, calls) for stack in stacks(workdir)]
    total = sum(r["statements"] for r in reports)
    unnoticed = [(r["stack"], key, s) for r in reports for key, s in r["unnoticed"]
                 if tuple(sorted(_actions(s))) not in JUSTIFIED and not _key_of_an_imported_resource(s)]
    justified = sum(len(r["unnoticed"]) for r in reports) - len(unnoticed)
    for report in reports:
        if report["baseline"]:
            print(f"{report['stack']}: recorded calls IAM refuses even unmutated:\n{report['baseline']}")
        for role_id, actions in report["unused"].items():
            unjustified = [a for a in actions if a not in BUNDLED]
            print(f"{report['stack']} {role_id}: granted, never exercised: {', '.join(actions)}"
                  f"{'; NOT JUSTIFIED: ' + ', '.join(unjustified) if unjustified else ' (all bundled by L2 grants)'}")
    for stack_name, (role_id, policy, position), statement in unnoticed:
        print(f"UNNOTICED {stack_name} {role_id} {policy}[{position}]: {json.dumps(statement)}")
    print(f"{len(calls)} recorded calls; {total} statements removed one at a time in {len(reports)} stacks; "
          f"{total - len(unnoticed) - justified} noticed, {justified} justified, {len(unnoticed)} unnoticed")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1, default=str))
    return 1 if unnoticed or any(r["baseline"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
