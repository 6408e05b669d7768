"""The recorder plugin's selection (`--fault-only-requirements`) and early stop
(`--fault-stop-when-covered`), on a tiny test file of its own."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, run_pytest

SAMPLE = """
import pytest

@pytest.mark.requirement("P1-A")
def test_a_fails():
    assert False

@pytest.mark.requirement("P1-A")
def test_a_again():
    assert False

@pytest.mark.requirement("P1-B", "P1-C")
def test_b_passes():
    pass

@pytest.mark.requirement("P1-B")
def test_b_fails():
    assert False

@pytest.mark.requirement("P1-A", "P1-C")
def test_c_fails():
    assert False

@pytest.mark.requirement("P1-D")
def test_d_later():
    pass
"""


def _run(tmp_path: Path, *options: str) -> dict[str, dict[str, object]]:
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE)
    record = tmp_path / "record.json"
    run = run_pytest(
        [
            str(sample),
            "-c",
            str(REPO / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "tests.faults.recorder",
            "--fault-record",
            str(record),
            *options,
        ]
    )
    assert record.exists(), run.output
    return {k.split("::")[-1]: v for k, v in json.loads(record.read_text()).items()}


def test_only_requirements_deselects_the_rest(tmp_path: Path) -> None:
    records = _run(tmp_path, "--fault-only-requirements", "P1-B,P1-D")
    assert sorted(records) == ["test_b_fails", "test_b_passes", "test_d_later"]
    assert records["test_b_fails"]["outcome"] == "failed"
    assert records["test_d_later"]["outcome"] == "passed"


def test_stop_when_every_named_requirement_has_a_failing_test(tmp_path: Path) -> None:
    records = _run(tmp_path, "--fault-only-requirements", "P1-A,P1-B", "--fault-stop-when-covered")
    outcomes = {name: rec["outcome"] for name, rec in records.items()}
    # -x would stop after test_a_fails and never show P1-B failing; this goes on to test_b_fails.
    assert outcomes == {
        "test_a_fails": "failed",
        "test_a_again": "failed",
        "test_b_passes": "passed",
        "test_b_fails": "failed",
        "test_c_fails": "notrun",
    }
