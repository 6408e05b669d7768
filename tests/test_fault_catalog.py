"""The catch check: the suites catch every fault of the catalog.

That they pass on the clean reference, every test, serially and with two workers, is
tests/test_suites_against_reference.py (so no second whole-suite run here). For each fault one
worker process runs only the suite tests that cover the requirements the fault names, and stops
as soon as each of them has a failing test (tests/faults/runner.py). The runs need nothing of
the rest of the session, so tests/conftest.py queues them when collection ends and puts this
module's tests last: the runs go on beside the other tests, one per core, at a lower CPU
priority (a test that keeps a clock gets the CPU first), and each test here waits only for its
own run. The full matrix (every fault x every test, the clean run, the golden file, the catch
rate) is `make faults`."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette

from reference.app import create_app
from reference.config import ReferenceConfig
from reference.passwords import PasswordService
from tests.faults.catalog import FAULTS, MODULE_OF
from tests.faults.fault import KINDS, Fault
from tests.faults.matrix import GOLDEN_FILE
from tests.faults.runner import WORKER_MARGIN_SECONDS, FaultRunner, RunSpec

REPO = Path(__file__).resolve().parents[1]
# A catch-check run selects a few tests and takes seconds; it starts early and at a lower
# priority, so it may wait for the CPU while other tests run. Its timeout is a hang guard that
# allows for that; its test, which runs after the others, waits at most CATCH_WAIT_SECONDS.
CATCH_RUN_TIMEOUT = 300.0
CATCH_WAIT_SECONDS = CATCH_RUN_TIMEOUT + WORKER_MARGIN_SECONDS + 5
# Lower than every other process of `make test` by this much (CFS: about a tenth of a busy core).
CATCH_NICENESS = 10


def _fault_of(item: pytest.Item) -> Fault | None:
    callspec = getattr(item, "callspec", None)
    fault = callspec.params.get("fault") if callspec is not None else None
    return fault if isinstance(fault, Fault) else None


_pools: list[tuple[FaultRunner, Path]] = []
_lock = threading.Lock()


def start_early(session: pytest.Session) -> None:
    """Queue the catch runs of this module's selected tests, once per process (tests/conftest.py
    calls it when collection has ended; the fixture below, when it did not)."""
    with _lock:
        if _pools:
            return
        workdir = Path(tempfile.mkdtemp(prefix="fault-runs-"))
        pool = FaultRunner(workdir, niceness=CATCH_NICENESS)
        _pools.append((pool, workdir))
        for item in session.items:
            if getattr(item, "module", None) is None or item.module.__name__ != __name__:
                continue
            fault = _fault_of(item)
            if fault is not None and "runner" in getattr(item, "fixturenames", ()):
                pool.submit(RunSpec.catch_check(fault, CATCH_RUN_TIMEOUT))


def stop() -> None:
    """Cancel what has not run, kill what is running, remove the runs' folders (session end)."""
    with _lock:
        while _pools:
            pool, workdir = _pools.pop()
            pool.close()
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def runner(request: pytest.FixtureRequest) -> FaultRunner:
    """The pool of catch runs, with the runs this module's selected tests need already queued."""
    start_early(request.session)  # a no-op when collection already started it
    return _pools[0][0]


@pytest.mark.timeout(CATCH_WAIT_SECONDS + 30)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_fault_is_caught_by_the_tests_it_names(fault: Fault, runner: FaultRunner) -> None:
    """Under the fault, each requirement the catalog names has a failing test, and the gate
    fails."""
    try:
        run = runner.submit(RunSpec.catch_check(fault, CATCH_RUN_TIMEOUT)).result(
            timeout=CATCH_WAIT_SECONDS
        )
    except FutureTimeout:
        pytest.fail(f"{fault.name}: its run gave no result within {CATCH_WAIT_SECONDS:.0f} s")
    assert run.applied, f"{fault.name} could not be applied:\n{run.tail()}"
    assert run.records, f"{fault.name}: no suite test covers {fault.catches}:\n{run.tail()}"
    selected = {*fault.catches, *fault.catch_with}
    strays = {n for n, r in run.records.items() if not set(r["requirements"]) & selected}  # type: ignore[call-overload]
    assert not strays, f"the selection ran tests outside {sorted(selected)}: {sorted(strays)}"
    missed = set(fault.catches) - run.failed_requirements()
    assert not missed, (
        f"{fault.name}: no failing test for {sorted(missed)}; "
        f"failed: {sorted(run.outcomes('failed'))}; errors: {sorted(run.outcomes('error'))}\n"
        f"{run.tail()}"
    )
    assert run.exit_code != 0, f"{fault.name}: the gate passed\n{run.tail()}"


def test_fault_names_and_kinds() -> None:
    """Names are unique (the package refuses duplicates too) and every kind is known."""
    names = [fault.name for fault in FAULTS]
    assert len(names) == len(set(names))
    assert {fault.kind for fault in FAULTS} <= set(KINDS)
    assert set(MODULE_OF) == set(names)


def test_fault_requirements_exist() -> None:
    """Every requirement a fault names is in the catalog of requirements."""
    catalog = yaml.safe_load((REPO / "schemas/requirements.yaml").read_text())
    known = {entry["id"] for entry in catalog["requirements"]}
    for fault in FAULTS:
        assert set(fault.catches) <= known, fault.name


def test_golden_file_lists_every_fault() -> None:
    """A fault added, renamed or removed without `make faults UPDATE_GOLDEN=1` shows up here,
    in `make test`, before the full matrix runs."""
    golden = json.loads(GOLDEN_FILE.read_text())
    assert sorted(golden["faults"]) == sorted(f.name for f in FAULTS), (
        "tests/faults/golden.json is out of date: run `make faults UPDATE_GOLDEN=1` and review "
        "the diff"
    )


SERVICES = ("passwords", "users", "tokens", "store", "environment", "clock")


def _instance_attributes(app: Starlette) -> dict[str, set[str]]:
    """For each service object on `app.state` (and the hasher), its instance attribute names:
    a method replaced on an instance shows up as a new name."""
    objects = {name: getattr(app.state, name) for name in SERVICES}
    objects["hasher"] = app.state.passwords.hasher
    return {name: set(vars(obj)) for name, obj in objects.items() if hasattr(obj, "__dict__")}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_fault_applies_to_its_own_app_only(fault: Fault) -> None:
    """A fault applies to a fresh app (a moved seam fails here, fast, with no suite run); a state
    fault patches that app's instances, and another app of the same process stays clean."""
    faulty = create_app(ReferenceConfig(hash_profile="fast"))
    clean = create_app(ReferenceConfig(hash_profile="fast"))
    try:
        untouched = _instance_attributes(faulty)
        served = fault.apply(faulty)
        assert callable(served)
        if fault.kind == "state":
            assert served is faulty, "a state fault serves the app it patched"
            assert _instance_attributes(faulty) != untouched, "the state fault patched nothing"
        else:
            assert served is not faulty, "a wire fault serves a wrapper around the app"
            assert _instance_attributes(faulty) == untouched, "a wire fault patched the app"
        assert _instance_attributes(clean) == untouched, "the fault reached another app"
        for name in ("check", "set", "read", "view", "_count_check", "_store_password"):
            assert name in vars(PasswordService), f"PasswordService.{name} was replaced"
    finally:
        faulty.state.store.close()
        clean.state.store.close()
