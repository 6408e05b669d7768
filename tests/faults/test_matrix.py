"""The golden-file comparison of the full fault matrix (tests/faults/matrix.py)."""

from __future__ import annotations

from pathlib import Path

from tests.faults.matrix import compare_golden, read_golden, write_golden


def test_identical_figures_pass() -> None:
    assert compare_golden({"f": ["P1-A", "P1-B"]}, {"f": ["P1-B", "P1-A"]}) == []


def test_each_kind_of_drift_is_reported() -> None:
    golden = {"moved": ["P1-A", "P1-B"], "gone": ["P1-A"]}
    actual = {"moved": ["P1-B", "P1-C"], "new": ["P1-D"]}
    problems = compare_golden(golden, actual)
    assert len(problems) == 3
    moved = next(p for p in problems if p.startswith("moved:"))
    assert "now also ['P1-C']" in moved
    assert "no longer ['P1-A']" in moved
    assert any(p.startswith("gone:") and "not in the catalog" in p for p in problems)
    assert any(p.startswith("new:") and "not in golden.json" in p for p in problems)


def test_written_golden_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "golden.json"
    write_golden({"b": ["P1-X"], "a": []}, path)
    assert read_golden(path) == {"a": [], "b": ["P1-X"]}
    assert list(read_golden(path)) == ["a", "b"]
