"""Known deviations are reviewed data that expire: applied as strict xfail, reported when they
stop reproducing or expire, and failing the run for either under --strict-deviations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harness.deviations import (
    DEFAULT_FILE,
    DeviationBook,
    DeviationFileError,
    load_deviations,
)
from tests.faults.catalog import get as fault_named
from tests.suite_runs import run_suites

WRONG_PASSWORD_TEST = "check: a wrong password answers 400 with the error envelope"


def _entry(**changes: Any) -> str:
    entry = {
        "target": "vendor-mock",
        "test": WRONG_PASSWORD_TEST,
        "reason": "answers 200 to a wrong password",
        "link": "https://example.test/issues/7",
        "expires": "2999-12-31",
    }
    entry.update(changes)
    lines = "\n".join(f"    {key}: {json.dumps(value)}" for key, value in entry.items())
    return "deviations:\n  - " + lines.lstrip() + "\n"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deviations.yaml"
    path.write_text(text)
    return path


def test_the_project_file_is_valid() -> None:
    assert isinstance(load_deviations(DEFAULT_FILE), list)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_entry(link="not a uri"), "link"),
        (_entry(expires="soon"), "expires"),
        (
            "deviations:\n  - {target: t, reason: a long enough reason, link: 'https://x.test', "
            "expires: 2030-01-01}\n",
            "not valid under any",
        ),
        (_entry(colour="red"), "colour"),
    ],
    ids=["bad-link", "bad-date", "names-no-test", "unknown-key"],
)
def test_a_malformed_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DeviationFileError, match=message):
        load_deviations(_file(tmp_path, text))


def test_entries_split_by_target_and_expiry(tmp_path: Path) -> None:
    text = _entry() + _entry(expires="2020-01-01").replace("deviations:\n", "")
    text += _entry(target="someone-else").replace("deviations:\n", "")
    entries = load_deviations(_file(tmp_path, text))
    book = DeviationBook.for_target(entries, "vendor-mock", today=date(2026, 12, 1))
    assert [d.expires for d in book.active] == [date(2999, 12, 31)]
    assert [d.expires for d in book.expired] == [date(2020, 1, 1)]
    assert book.active[0].matches(f"x::test_behaviour_case[{WRONG_PASSWORD_TEST}]", [])
    assert not book.active[0].matches("x::test_behaviour_case[set: other]", ["P1-CHECK-002"])


def _run(tmp_path: Path, text: str, fault: str | None, *extra: str) -> tuple[int, dict[str, Any]]:
    wrap = fault_named(fault).apply if fault else None
    run = run_suites(
        tmp_path,
        wrap=wrap,
        suite_args=(
            *("--requirement", "P1-CHECK-002"),
            *("--deviations", str(_file(tmp_path, text)), "--target-name", "vendor-mock"),
            *extra,
        ),
    )
    summary = json.loads((tmp_path / "conformance-summary.json").read_text())
    return run.exit_code, summary


def _verdict(summary: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(v for v in summary["verdicts"] if v["id"] == rid)


def test_a_known_deviation_that_still_happens_does_not_fail_the_run(tmp_path: Path) -> None:
    code, summary = _run(tmp_path, _entry(), "check-accepts-wrong-password")
    assert code == 0, summary
    assert _verdict(summary, "P1-CHECK-002")["verdict"] == "KNOWN DEVIATION"
    assert summary["counts"]["KNOWN DEVIATION"] >= 1


def test_the_same_defect_without_an_entry_fails_the_run(tmp_path: Path) -> None:
    code, summary = _run(tmp_path, "deviations: []\n", "check-accepts-wrong-password")
    assert code == 1
    assert _verdict(summary, "P1-CHECK-002")["verdict"] == "FAIL"


def test_a_deviation_that_no_longer_reproduces_is_reported_and_strict_fails(
    tmp_path: Path,
) -> None:
    code, summary = _run(tmp_path, _entry(), None)
    assert code == 0, summary
    assert summary["stale_deviations"], summary
    assert _verdict(summary, "P1-CHECK-002")["verdict"] == "PASS"
    strict_code, strict = _run(tmp_path, _entry(), None, "--strict-deviations")
    assert strict_code == 1
    assert strict["verdict"] == "FAIL"
    assert "--strict-deviations" in strict["reason"]


def test_an_expired_entry_no_longer_hides_the_failure(tmp_path: Path) -> None:
    code, summary = _run(tmp_path, _entry(expires="2020-01-01"), "check-accepts-wrong-password")
    assert code == 1
    assert _verdict(summary, "P1-CHECK-002")["verdict"] == "FAIL"
    assert summary["expired_deviations"] == [f'test ~ "{WRONG_PASSWORD_TEST}"']


def test_an_expired_entry_fails_a_passing_run_under_strict(tmp_path: Path) -> None:
    code, summary = _run(tmp_path, _entry(expires="2020-01-01"), None)
    assert code == 0, summary
    assert summary["expired_deviations"]
    strict_code, _ = _run(tmp_path, _entry(expires="2020-01-01"), None, "--strict-deviations")
    assert strict_code == 1


def test_a_malformed_deviations_file_stops_the_run_before_any_test(tmp_path: Path) -> None:
    run = run_suites(tmp_path, suite_args=("--deviations", str(_file(tmp_path, _entry(link="no")))))
    assert run.exit_code == 4
    assert "cannot read the known deviations" in run.output
