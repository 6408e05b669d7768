"""The suites catch every fault in the catalog, pass on the clean reference, and every suite test
is tripped by at least one fault.

These runs are the suite's headline figures: catch rate and false positives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import state_model_faults
from tests.faults.catalog import CATALOG, Fault
from tests.faults.runner import SuiteRun, run_suites

ALL: tuple[Fault, ...] = CATALOG + state_model_faults.FAULTS
# Every fault runs the suites once, all in the first test's fixture: far beyond the per-test
# hang guard of pytest.ini, so the module gets room that grows with the catalog.
pytestmark = pytest.mark.timeout(60 + 30 * len(ALL))


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_suites(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def fault_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    return {
        fault.name: run_suites(tmp_path_factory.mktemp(fault.name), wrap=fault.wrap)
        for fault in ALL
    }


def test_clean_reference_passes_every_suite_test(clean_run: SuiteRun) -> None:
    """No false positives: against the clean reference every suite test passes."""
    assert clean_run.records, f"the suites collected nothing:\n{clean_run.output[-3000:]}"
    not_passed = {n: r["outcome"] for n, r in clean_run.records.items() if r["outcome"] != "passed"}
    assert not not_passed, f"{not_passed}\n{clean_run.output[-3000:]}"
    assert clean_run.exit_code == 0, clean_run.output[-3000:]


def test_catalog_names_are_unique() -> None:
    names = [fault.name for fault in ALL]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("fault", ALL, ids=lambda fault: fault.name)
def test_fault_is_caught_by_the_tests_it_names(
    fault: Fault, fault_runs: dict[str, SuiteRun]
) -> None:
    """Under the fault, the run fails, and it fails on the requirements the catalog names."""
    run = fault_runs[fault.name]
    assert run.records, f"the suites collected nothing:\n{run.output[-3000:]}"
    missed = set(fault.catches) - run.failed_requirements()
    assert not missed, (
        f"{fault.name}: no failing test for {sorted(missed)}; "
        f"failed: {sorted(run.outcomes('failed'))}\n{run.output[-3000:]}"
    )
    assert run.exit_code != 0, f"{fault.name}: the gate passed\n{run.output[-3000:]}"


def test_every_suite_test_fails_under_some_fault(
    clean_run: SuiteRun, fault_runs: dict[str, SuiteRun]
) -> None:
    """A check that no fault can trip is dead weight: each suite test fails under one fault."""
    tripped: set[str] = set()
    for run in fault_runs.values():
        tripped |= run.outcomes("failed")
    untripped = sorted(set(clean_run.records) - tripped)
    assert not untripped, f"suite tests no fault trips: {untripped}"


def test_fault_requirements_exist() -> None:
    """Every requirement a fault names is in the catalog of requirements."""
    import yaml

    catalog = yaml.safe_load((Path(__file__).parents[1] / "schemas/requirements.yaml").read_text())
    known = {entry["id"] for entry in catalog["requirements"]}
    for fault in ALL:
        assert set(fault.catches) <= known, fault.name
