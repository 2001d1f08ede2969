"""Mutation testing of one handler module with a narrowed test selection (docs/mutation.md).

    python tools/mutation.py states.py test_states.py
    python tools/mutation.py intake.py test_intake_answers.py --functions payment_id_for _outcome _replay

mutmut 3 reads its configuration from ``pyproject.toml`` in the directory it runs in, and runs every
test that reaches a mutated function. This copies ``src/`` and ``test/`` into a work directory with a
configuration that mutates only the given module(s) and selects only the given test files, runs
``mutmut run`` there (niced, one child process), and prints killed/survived/... per module and
every mutant that was not killed. ``projen mutation-test`` runs the project's own configuration
(every runtime module, all of test/runtime) instead.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = "cdk_payments.runtime"


def configure(work: Path, modules: list[str], tests: list[str]) -> None:
    for part in ("src", "test", "tools"):  # tools: some tests read its data and helpers
        shutil.rmtree(work / part, ignore_errors=True)
        shutil.copytree(ROOT / part, work / part,
                        ignore=shutil.ignore_patterns("__pycache__", "__snapshots__", "node_modules"))
    listed = lambda items: "[" + ", ".join(json.dumps(i) for i in items) + "]"  # noqa: E731
    (work / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        'also_copy = ["tools/"]\n'
        f"only_mutate = {listed(f'src/cdk_payments/runtime/{m}' for m in modules)}\n"
        # The project's own (.projenrc.py): it leaves out the tests mutmut's trampoline cannot run.
        f"pytest_add_cli_args = {listed(project_pytest_args())}\n"
        f"pytest_add_cli_args_test_selection = {listed(f'test/runtime/{t}' for t in tests)}\n"
        "[tool.pytest.ini_options]\n"
        'addopts = "-ra --strict-markers"\n'
        'filterwarnings = ["ignore:No application metrics to publish:UserWarning"]\n'
        'markers = ["slow: builds the wheel or runs external tools; runs in CI"]\n')


def project_pytest_args() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["pytest_add_cli_args"]


def patterns(modules: list[str], functions: list[str]) -> list[str]:
    names = [RUNTIME + "." + m.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for m in modules]
    return [f"{n}.x{'' if f.startswith('ǁ') else '_'}{f}__mutmut_*" for n in names for f in functions]


def tally(work: Path, selected: list[str]) -> Counter:
    from mutmut.stats import status_by_exit_code

    total: Counter = Counter()
    for meta in sorted((work / "mutants/src/cdk_payments/runtime").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        codes = {k: v for k, v in codes.items() if not selected or any(fnmatch.fnmatch(k, p) for p in selected)}
        counts = Counter(status_by_exit_code[v] for v in codes.values())
        name = meta.relative_to(work / "mutants/src/cdk_payments/runtime").as_posix().removesuffix(".py.meta")
        print(f"{name}: {len(codes)} mutants, " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        for key, code in sorted(codes.items()):
            if status_by_exit_code[code] != "killed":
                print(f"    {status_by_exit_code[code]}: {key}")
        total += counts
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("module", help="file under src/cdk_payments/runtime, e.g. states.py or providers/base.py")
    parser.add_argument("tests", nargs="+", help="test files under test/runtime")
    parser.add_argument("--also", nargs="*", default=[], help="more modules mutated in the same run")
    parser.add_argument("--functions", nargs="*", default=[], help="only these functions' mutants (a method "
                        "written ǁClassǁmethod)")
    parser.add_argument("--workdir", type=Path, help="where mutmut runs (default: a new temporary directory)")
    args = parser.parse_args()
    modules = [args.module, *args.also]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cdk-payments-mutation-"))
    work.mkdir(parents=True, exist_ok=True)
    configure(work, modules, args.tests)
    selected = patterns(modules, args.functions) if args.functions else []
    print(f"mutmut in {work}", flush=True)
    # No IAM judge (test/iam/judge.py): it synthesizes the example, which the work directory lacks; the
    # suite judges the same calls.
    subprocess.run(["nice", "-n", "19", "mutmut", "run", "--max-children", "1", *selected], cwd=work,
                   stdout=subprocess.DEVNULL, env={**os.environ, "CDK_PAYMENTS_NO_IAM_JUDGE": "1"})
    tally(work, selected)


if __name__ == "__main__":
    main()
