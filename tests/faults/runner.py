"""Runs the suites against the reference, clean or with one fault, several runs at a time.

Each run is a worker process (tests/faults/worker.py) bounded by its own timeout; a pool of
threads keeps `jobs` workers busy (default: one per core). Two ways to run:

- the **catch check** (`make test`, tests/test_fault_catalog.py): per fault, only the suite
  tests covering the requirements it names, stopping once each has a failing test;
- the **full matrix** (`make faults`, tests/faults/matrix.py): every fault, every suite test.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.fault import Fault

REPO = Path(__file__).resolve().parents[2]
# Time for the worker to start a reference and stop it again, on top of the suites' own time.
WORKER_MARGIN_SECONDS = 15.0
# Starting a worker can fail for the machine's sake, not the suites': fork or exec refused for
# want of memory or processes, or (seen on a loaded CI machine, once in many thousand starts)
# EFAULT from exec. No worker ran, so starting it again is safe; a failure that persists is
# raised.
SPAWN_ERRNOS = frozenset({errno.EAGAIN, errno.ENOMEM, errno.EFAULT})
SPAWN_ATTEMPTS = 3
SPAWN_BACKOFF_SECONDS = 1.0


def default_jobs() -> int:
    """One run per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RunSpec:
    """One run: which fault (None: clean), which tests, how long at most."""

    fault: Fault | None = None
    only_requirements: tuple[str, ...] = ()
    stop_when_covered: bool = False
    timeout: float = 600.0
    attempt: int = 0  # a rerun of an equal spec is a new run (tests/faults/matrix.py)
    conformance: str | None = None  # run only this class's suite (`--conformance`)

    @property
    def label(self) -> str:
        """The fault's name, or "clean"."""
        return self.fault.name if self.fault is not None else "clean"

    @classmethod
    def catch_check(cls, fault: Fault, timeout: float) -> RunSpec:
        """Only the tests covering what the fault names; stop once each has a failing test."""
        selected = tuple(dict.fromkeys((*fault.catches, *fault.catch_with)))
        return cls(fault, selected, stop_when_covered=True, timeout=timeout)


@dataclass(frozen=True)
class SuiteRun:
    """What one run of the suites produced."""

    exit_code: int
    records: dict[str, dict[str, object]]
    output: str
    seconds: float = 0.0
    applied: bool = True
    problems: tuple[str, ...] = field(default=())

    def outcomes(self, outcome: str) -> set[str]:
        """Node ids of the tests that ended with `outcome`."""
        return {node for node, rec in self.records.items() if rec["outcome"] == outcome}

    def failed_requirements(self) -> set[str]:
        """Requirement ids covered by at least one failed test."""
        failed: set[str] = set()
        for rec in self.records.values():
            if rec["outcome"] == "failed":
                failed.update(str(r) for r in rec["requirements"])  # type: ignore[attr-defined]
        return failed

    def tail(self, characters: int = 3000) -> str:
        """The end of the run's output, for assertion messages."""
        return self.output[-characters:]


class FaultRunner:
    """Runs `RunSpec`s in worker processes, `jobs` at a time, in submission order.

    `submit` returns at once; `Future.result()` waits for that run. With `niceness` > 0 every
    worker lowers its own CPU priority by that much, and its reference and suites inherit it. A
    run that exceeds its timeout is killed (its whole process group) and comes back with exit
    code -2. `close()` cancels what has not started and kills what is running.
    """

    def __init__(self, workdir: Path, jobs: int | None = None, niceness: int = 0) -> None:
        self.workdir = workdir
        self.jobs = jobs or default_jobs()
        self.niceness = niceness  # > 0: the workers (and their suites) yield the CPU to others
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="fault-run")
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._futures: dict[RunSpec, Future[SuiteRun]] = {}
        self._closed = False

    def submit(self, spec: RunSpec) -> Future[SuiteRun]:
        """Queue a run (once per spec; submitting an equal spec again returns its future)."""
        with self._lock:
            if spec not in self._futures:
                workdir = self.workdir / f"{len(self._futures):03d}-{spec.label}-{spec.attempt}"
                self._futures[spec] = self._pool.submit(self._run, spec, workdir)
            return self._futures[spec]

    def run_all(self, specs: Iterable[RunSpec]) -> dict[str, SuiteRun]:
        """Run every spec (in parallel) and wait for all of them; results by label."""
        futures = [(spec.label, self.submit(spec)) for spec in specs]
        return {label: future.result() for label, future in futures}

    def close(self) -> None:
        """Cancel queued runs, kill running ones, wait for the threads."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in running:
            _kill_group(process)
        self._pool.shutdown(wait=True)

    def __enter__(self) -> FaultRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, spec: RunSpec, workdir: Path) -> SuiteRun:
        workdir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "tests.faults.worker",
            "--workdir",
            str(workdir),
            "--timeout",
            str(spec.timeout),
        ]
        if spec.fault is not None:
            command += ["--fault", spec.fault.name]
        if self.niceness > 0:
            command += ["--niceness", str(self.niceness)]
        if spec.conformance:
            command += ["--conformance", spec.conformance]
        if spec.only_requirements:
            command += ["--only-requirements", ",".join(spec.only_requirements)]
            if spec.stop_when_covered:
                command.append("--stop-when-covered")
        started = time.monotonic()
        with self._lock:
            if self._closed:
                return SuiteRun(-3, {}, "cancelled", applied=False)
            process = _spawn(command)
            self._running.add(process)
        try:
            worker_output, _ = process.communicate(timeout=spec.timeout + WORKER_MARGIN_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            return SuiteRun(
                -2, {}, f"{spec.label}: no result within {spec.timeout:.0f} s; killed", applied=True
            )
        finally:
            with self._lock:
                self._running.discard(process)
        return _collect(workdir, worker_output.decode(errors="replace"), started)


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    """Start a worker; a start the machine refused for a passing reason is tried again."""
    for attempt in range(1, SPAWN_ATTEMPTS + 1):
        try:
            return subprocess.Popen(
                command,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a timeout kills the suites too
            )
        except OSError as error:
            if error.errno not in SPAWN_ERRNOS or attempt == SPAWN_ATTEMPTS:
                raise
            print(
                f"fault runner: starting a worker failed ({os.strerror(error.errno)}); "
                f"trying again ({attempt + 1} of {SPAWN_ATTEMPTS})",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(SPAWN_BACKOFF_SECONDS * attempt)
    raise AssertionError("unreachable")


def _collect(workdir: Path, worker_output: str, started: float) -> SuiteRun:
    result_file, record_file = workdir / "run.json", workdir / "record.json"
    if not result_file.exists():
        return SuiteRun(-1, {}, f"the worker wrote no result:\n{worker_output}", applied=False)
    result = json.loads(result_file.read_text())
    records = json.loads(record_file.read_text()) if record_file.exists() else {}
    return SuiteRun(
        exit_code=int(result["exit_code"]),
        records=records,
        output=str(result["output"]) + worker_output,
        seconds=round(time.monotonic() - started, 2),
        applied=bool(result["applied"]),
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
