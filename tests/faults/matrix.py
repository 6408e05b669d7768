"""The full fault matrix: every fault against every test of its class's suite (`make faults`).

    python -m tests.faults.matrix [--update-golden] [--jobs N] [--workdir DIR]

It runs the suites once on the clean reference (every suite) and once per fault (every test of
the suite of the fault's conformance class: a contract fault against suites/contract, a
security fault against suites/security, a behaviour fault against suites/behaviour; no early
stop), in parallel worker processes, then checks:

1. the clean reference passes every suite test (no false positives);
2. every fault is caught: each requirement it names has a failing test, and the gate fails;
3. every suite test fails under at least one fault (a check no fault trips is dead weight);
4. the requirements each fault actually fails equal tests/faults/golden.json. A change that
   makes a fault trip more or fewer requirements must update the golden file on purpose:
   `make faults UPDATE_GOLDEN=1` rewrites it from this run (after checks 1-3 pass); review
   and commit the diff with the change. A fault that differs is run once more first: when the
   rerun agrees with the golden file, the difference was a flaky suite test, reported as
   FLAKY with the tests whose outcome changed, and not a failure.

It prints the catch rate (faults caught / faults, by kind; suite tests tripped / tests) and
exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.faults.fault import KINDS, Fault
from tests.faults.runner import FaultRunner, RunSpec, SuiteRun

GOLDEN_FILE = Path(__file__).resolve().parent / "golden.json"
MATRIX_RUN_TIMEOUT = 900.0
ABOUT = (
    "For each fault of tests/faults/catalog/, every requirement id with a failing suite test "
    "when its conformance class's suite runs under that fault. Checked by `make faults`; "
    "regenerate with "
    "`make faults UPDATE_GOLDEN=1` and review the diff."
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.matrix")
    parser.add_argument("--update-golden", action="store_true", help="rewrite golden.json")
    parser.add_argument("--jobs", type=int, default=None, help="parallel runs (default: cores)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep run files here")
    parser.add_argument(
        "--module",
        default=None,
        help="only the faults of this catalog module (e.g. property): a partial matrix that "
        "checks and updates only their golden entries; the every-test-tripped check needs the "
        "whole catalog and is left out",
    )
    return parser.parse_args(argv)


def read_golden(path: Path = GOLDEN_FILE) -> dict[str, list[str]]:
    """The golden file's fault → failed requirements, or {} when it does not exist yet."""
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    return {name: list(ids) for name, ids in document["faults"].items()}


def write_golden(actual: dict[str, list[str]], path: Path = GOLDEN_FILE) -> None:
    """Write fault → failed requirements, sorted, one fault per line block."""
    document = {"about": ABOUT, "faults": {name: actual[name] for name in sorted(actual)}}
    path.write_text(json.dumps(document, indent=2) + "\n")


def compare_golden(golden: dict[str, list[str]], actual: dict[str, list[str]]) -> list[str]:
    """One line per fault whose failed requirements differ from the golden file's."""
    problems = []
    for name in sorted(set(golden) | set(actual)):
        want, got = set(golden.get(name, ())), set(actual.get(name, ()))
        if name not in golden:
            problems.append(f"{name}: not in golden.json (fails {sorted(got)})")
        elif name not in actual:
            problems.append(f"{name}: in golden.json but not in the catalog")
        elif want != got:
            problems.append(
                f"{name}: fails {sorted(got)}; golden.json says {sorted(want)} "
                f"(now also {sorted(got - want)}, no longer {sorted(want - got)})"
            )
    return problems


def _rerun_drifted(
    runner: FaultRunner,
    faults: tuple[Fault, ...],
    runs: dict[str, SuiteRun],
    golden: dict[str, list[str]],
    actual: dict[str, list[str]],
) -> None:
    """Run once more each fault whose figures differ from the golden file: a difference that
    comes back is drift (reported by the caller); one that does not is a flaky suite test,
    named here, and the golden figures stand."""
    drifted = [f for f in faults if f.name in golden and set(golden[f.name]) != set(actual[f.name])]
    if not drifted:
        return
    print(f"  rerunning {len(drifted)} fault(s) that differ from golden.json", flush=True)
    from tests.faults.catalog import CLASS_OF

    reruns = runner.run_all(
        [
            RunSpec(f, timeout=MATRIX_RUN_TIMEOUT, attempt=1, conformance=CLASS_OF[f.name])
            for f in drifted
        ]
    )
    for fault in drifted:
        first, again = runs[fault.name], reruns[fault.name]
        changed = sorted(first.outcomes("failed") ^ again.outcomes("failed"))
        if set(again.failed_requirements()) == set(golden[fault.name]):
            listed = "\n    ".join(changed)
            print(
                f"FLAKY {fault.name}: the first run differed from golden.json, the rerun agrees; "
                f"tests whose outcome changed between the runs:\n    {listed}",
                file=sys.stderr,
                flush=True,
            )
            actual[fault.name] = sorted(again.failed_requirements())


def main(argv: list[str] | None = None) -> int:
    """Run the matrix, print the figures, return 0 when every check passes."""
    args = _arguments(argv)
    started = time.monotonic()
    scratch = tempfile.TemporaryDirectory(prefix="fault-matrix-")
    workdir = args.workdir or Path(scratch.name)
    runner = FaultRunner(workdir, args.jobs)
    try:
        return _matrix(args, runner, started)
    finally:
        runner.close()
        scratch.cleanup()


def _matrix(args: argparse.Namespace, runner: FaultRunner, started: float) -> int:
    from tests.faults.catalog import CLASS_OF, FAULTS, MODULE_OF

    if args.module:
        FAULTS = tuple(f for f in FAULTS if MODULE_OF[f.name].rsplit(".", 1)[-1] == args.module)
        if not FAULTS:
            print(f"no fault in a catalog module named {args.module!r}", file=sys.stderr)
            return 2

    print(
        f"fault matrix: {len(FAULTS)} faults x their class's suite, {runner.jobs} run(s) at a time",
        flush=True,
    )
    specs = [RunSpec(timeout=MATRIX_RUN_TIMEOUT)]
    specs += [
        RunSpec(fault, timeout=MATRIX_RUN_TIMEOUT, conformance=CLASS_OF[fault.name])
        for fault in FAULTS
    ]
    runs = runner.run_all(specs)
    problems: list[str] = []
    clean = runs["clean"]
    tests = set(clean.records)
    if not tests:
        problems.append(f"clean: the suites collected nothing\n{clean.tail()}")
    bad = {n: r["outcome"] for n, r in clean.records.items() if r["outcome"] != "passed"}
    if bad or clean.exit_code != 0:
        problems.append(f"clean: not every test passed (exit {clean.exit_code}): {bad}")

    actual: dict[str, list[str]] = {}
    caught: Counter[str] = Counter()
    tripped: set[str] = set()
    for fault in FAULTS:
        run = runs[fault.name]
        failed = run.failed_requirements()
        actual[fault.name] = sorted(failed)
        tripped |= run.outcomes("failed")
        missed = set(fault.catches) - failed
        if not run.applied or run.exit_code < 0:
            problems.append(f"{fault.name}: the run did not happen\n{run.tail(1500)}")
        elif missed or run.exit_code == 0:
            problems.append(
                f"{fault.name}: not caught (no failing test for {sorted(missed)}, "
                f"exit {run.exit_code})"
            )
        else:
            caught[fault.kind] += 1
        errors = run.outcomes("error")
        if errors:
            print(f"  note: {fault.name}: {len(errors)} test(s) errored in setup", flush=True)
    untripped = sorted(tests - tripped)
    if untripped and not args.module:
        problems.append("suite tests no fault trips:\n    " + "\n    ".join(untripped))

    golden = read_golden()
    if args.module:  # a partial matrix: the other faults keep their entries
        golden_part = {name: ids for name, ids in golden.items() if name in actual}
    if not args.update_golden:
        _rerun_drifted(runner, FAULTS, runs, golden, actual)
    if args.update_golden:
        if problems:
            problems.append("golden.json not rewritten: fix the problems above first")
        else:
            write_golden({**golden, **actual} if args.module else actual)
            print(f"wrote {GOLDEN_FILE}", flush=True)
    else:
        problems += compare_golden(golden_part if args.module else golden, actual)

    kinds = Counter(fault.kind for fault in FAULTS)
    by_kind = ", ".join(f"{kind} {caught[kind]}/{kinds[kind]}" for kind in KINDS)
    print(
        f"catch rate: {sum(caught.values())}/{len(FAULTS)} faults caught ({by_kind}); "
        f"{len(tripped & tests)}/{len(tests)} suite tests tripped by some fault; "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if problems and not args.update_golden:
        print("(if the change is intended: make faults UPDATE_GOLDEN=1)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
