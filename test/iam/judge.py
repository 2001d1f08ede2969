"""Pytest fixtures: every AWS call a handler test makes is judged by the IAM simulator against the
example app's synthesized dev and prod stacks (the functions' roles, the key, queue, secret, bus
policies), and the test fails when one is not allowed.

Used by ``test/runtime/conftest.py`` (one import). With ``CDK_PAYMENTS_IAM_CALLS=<file>`` set, the
recorded calls are also appended there (JSON lines), for ``tools/grant_mutation.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ..deploy_semantics.cfn import load_assembly
from .deployed import deployed
from .recorder import recording
from .simulator import ImportedKey, Policies, Request, explain, requests, simulate, simulation

PROFILES = ("dev", "prod")


class Judge:
    """The stacks calls are judged against, and the simulator's answers, cached for the session."""

    def __init__(self, assemblies: list[Path]) -> None:
        self.policies = [Policies(deployed(stack)) for outdir in assemblies for stack in load_assembly(outdir)
                         if any(r["Type"] == "AWS::Lambda::Function" for r in stack.resources.values())]
        self._answers: dict[tuple[int, str], dict] = {}

    def denied(self, calls: list[dict]) -> str:
        """What the stacks do not allow of ``calls`` (empty when all is allowed)."""
        report = []
        for index, policies in enumerate(self.policies):
            wanted = {r.key(): r for r in requests(policies, calls)}
            new = [r for key, r in wanted.items() if (index, key) not in self._answers]
            for request, answer in zip(new, simulate([simulation(policies, r) for r in new]), strict=False):
                self._answers[(index, request.key())] = answer
            denied: list[tuple[Request, dict]] = [(r, self._answers[(index, key)]) for key, r in wanted.items()
                                                  if self._answers[(index, key)]["result"] != "Allowed"]
            if denied:
                report.append(f"in {policies.stack.name}:\n{explain(policies, denied)}")
        return "\n".join(report)


@pytest.fixture(scope="session")
def iam_judge(example_assemblies) -> Judge:
    return Judge([example_assemblies.get(profile) for profile in PROFILES])


@pytest.fixture(autouse=True)
def iam_judged(request):
    """Record the AWS calls the handler code makes in this test; fail it if IAM would refuse one.

    Not while mutmut runs a mutant (``MUTANT_UNDER_TEST``): the handler's own tests judge the
    mutant, and each mutant's run would otherwise synthesize the example again; nor in
    tools/mutation.py's work directory (``CDK_PAYMENTS_NO_IAM_JUDGE``), which has no example."""
    if "MUTANT_UNDER_TEST" in os.environ or os.environ.get("CDK_PAYMENTS_NO_IAM_JUDGE"):
        yield []
        return
    iam_judge = request.getfixturevalue("iam_judge")
    with recording() as calls:
        yield calls
    for call in calls:
        call["test"] = request.node.nodeid
    sink = os.environ.get("CDK_PAYMENTS_IAM_CALLS")
    if sink:
        with open(sink, "a") as out:
            out.writelines(json.dumps(call) + "\n" for call in calls)
    refused = iam_judge.denied(calls)
    if refused:
        pytest.fail(f"IAM would refuse calls the handler code made:\n{refused}", pytrace=False)


def refused_in_rehearsal(deployment, calls_file: Path, imported: dict[str, ImportedKey] | None = None) -> str:
    """What IAM would refuse of the calls the deployed functions made in the rehearsal (the runner
    recorded them into ``calls_file``), judged against the stack as synthesized, with the Lambda
    platform's calls for each function added; ``imported``: the keys of resources other stacks made."""
    from .platform import platform_calls

    stack = deployed(load_assembly_stack(deployment))
    policies = Policies(stack, imported)
    functions = {deployment.physical[i]: i for i in deployment.logical_ids("AWS::Lambda::Function")}
    physical = {deployment.physical[i]: str(stack.resolve({"Ref": i})) for i in deployment.physical}
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()] if calls_file.exists() else []
    ours = [{**call, "principal": functions[call["principal"]]} for call in calls if call["principal"] in functions]
    assert ours, f"no AWS call recorded for {deployment.stack_name}'s functions in {calls_file}"
    wanted = requests(policies, [*ours, *platform_calls(stack)], physical=physical)
    unique = {r.key(): r for r in wanted}
    answers = simulate([simulation(policies, r) for r in unique.values()])
    return explain(policies, [(r, a) for r, a in zip(unique.values(), answers, strict=False) if a["result"] != "Allowed"])


def load_assembly_stack(deployment):
    from ..deploy_semantics.cfn import StackTemplate

    return StackTemplate(deployment.stack_name, deployment.region, deployment.synthesized)
