"""The requirement catalog, grading by gate, and the per-requirement summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.grading import GateDecision, ItemRecord, Outcome, decide
from harness.redaction import Redactor
from harness.requirements import CatalogError, Level, RequirementCatalog, gate_levels
from harness.summary import (
    DESELECTED,
    FAIL,
    INCOMPLETE,
    KNOWN_DEVIATION,
    NO_TEST,
    NO_VERDICT,
    NOT_ASSESSED,
    NOT_RUN,
    OUTSIDE_CLASS,
    PARTIAL,
    PASS,
    SKIPPED,
    UNTESTABLE,
    build_summary,
    no_verdict_summary,
    remove_reports,
    terminal_lines,
    to_markdown,
    verdict_line,
    write_environment_properties,
    write_reports,
)

CATALOG_YAML = """
requirements:
  - {id: P1-X-001, title: must thing, level: MUST, class: behaviour, operation: set,
     source: "https://a", quote: q, notes: n}
  - {id: P1-X-002, title: second-level thing, level: SHOULD, class: contract, operation: check,
     source: "https://b", quote: q, notes: n}
  - {id: P1-X-003, title: observed thing, level: OBSERVED, class: behaviour, operation: check,
     source: "https://c", quote: q, notes: n}
  - {id: P1-X-004, title: untested thing, level: MUST, class: security, operation: read,
     source: "https://d", quote: q, notes: n}
"""


@pytest.fixture
def catalog(tmp_path: Path) -> RequirementCatalog:
    path = tmp_path / "requirements.yaml"
    path.write_text(CATALOG_YAML)
    return RequirementCatalog.load(path)


def test_the_project_catalog_loads() -> None:
    catalog = RequirementCatalog.load()
    assert len(catalog) > 0
    assert catalog.get("P1-CHECK-003").level is Level.OBSERVED
    assert catalog.get("P1-SET-001").level is Level.MUST


ENTRY = (
    '{id: P1-A-001, title: t, level: MUST, class: behaviour, operation: o, source: "https://s", '
    "quote: q, notes: n}"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"requirements:\n  - {ENTRY}\n  - {ENTRY}\n", "twice"),
        (f"requirements:\n  - {ENTRY.replace('MUST', 'MAY')}\n", "'MAY' is not one of"),
        (f"requirements:\n  - {ENTRY.replace('title: t, ', '')}\n", "'title' is a required"),
        (f"requirements:\n  - {ENTRY.replace('class: behaviour, ', '')}\n", "'class' is a"),
        (f"requirements:\n  - {ENTRY.replace('title: t', 'title: t should')}\n", "should"),
        (f"requirements:\n  - {ENTRY.replace('P1-A-001', 'X-1')}\n", "does not match"),
        ("{}\n", "'requirements' is a required property"),
        (f"- {ENTRY}\n", "is not of type 'object'"),
    ],
    ids=[
        "duplicate-id",
        "bad-level",
        "missing-title",
        "missing-class",
        "title-says-should",
        "bad-id",
        "no-requirements",
        "bare-list",
    ],
)
def test_a_malformed_catalog_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "requirements.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        RequirementCatalog.load(path)


@pytest.mark.parametrize(
    ("gate", "levels"),
    [
        ("must", {Level.MUST}),
        ("should", {Level.MUST, Level.SHOULD}),
        ("observed", {Level.MUST, Level.SHOULD, Level.OBSERVED}),
    ],
)
def test_gate_levels(gate: str, levels: set[Level]) -> None:
    assert gate_levels(gate) == levels


def test_an_unknown_gate_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown gate"):
        gate_levels("may")


@pytest.mark.parametrize(
    ("ids", "gate", "gates"),
    [
        (["P1-X-001"], "must", True),
        (["P1-X-002"], "must", False),
        (["P1-X-002"], "should", True),
        (["P1-X-003"], "should", False),
        (["P1-X-003"], "observed", True),
        (["P1-X-002", "P1-X-001"], "must", True),  # one MUST among them: gating
        (["P1-X-002", "P1-X-003"], "must", False),
        ([], "must", True),  # a failing test with no requirement always gates
        (["P1-NOPE-001"], "observed", True),
    ],
)
def test_a_failure_gates_when_any_of_its_requirements_is_at_the_gate(
    catalog: RequirementCatalog, ids: list[str], gate: str, gates: bool
) -> None:
    assert catalog.gates(ids, gate) is gates


def test_item_records_keep_the_worst_phase() -> None:
    record = ItemRecord("t", [])
    assert record.outcome is Outcome.NOT_RUN
    record.update("setup", passed=True, failed=False, skipped=False)
    assert record.outcome is Outcome.NOT_RUN  # a passing setup is not a pass yet
    record.update("call", passed=True, failed=False, skipped=False)
    assert record.outcome is Outcome.PASSED
    record.update("teardown", passed=False, failed=True, skipped=False)
    assert record.outcome is Outcome.ERROR
    failed = ItemRecord("u", [])
    failed.update("call", passed=False, failed=True, skipped=False)
    failed.update("teardown", passed=True, failed=False, skipped=False)
    assert failed.outcome is Outcome.FAILED
    skipped = ItemRecord("v", [])
    skipped.update("setup", passed=False, failed=False, skipped=True)
    assert skipped.outcome is Outcome.SKIPPED


def _records() -> list[ItemRecord]:
    return [
        ItemRecord("t_must_pass", ["P1-X-001"], Outcome.PASSED),
        ItemRecord("t_should_fail", ["P1-X-002"], Outcome.FAILED),
        ItemRecord("t_observed_pass", ["P1-X-003"], Outcome.PASSED),
        ItemRecord("t_observed_skip", ["P1-X-003"], Outcome.SKIPPED),
    ]


def test_decide_tolerates_failures_below_the_gate(catalog: RequirementCatalog) -> None:
    decision = decide(_records(), catalog, "must")
    assert decision.passes
    assert decision.tolerated == ["t_should_fail"]
    assert "stay failed" in decision.explanation()
    strict = decide(_records(), catalog, "should")
    assert not strict.passes
    assert strict.gating == ["t_should_fail"]


def test_decide_counts_errors_as_failures(catalog: RequirementCatalog) -> None:
    records = [ItemRecord("t", ["P1-X-001"], Outcome.ERROR)]
    assert decide(records, catalog, "must").gating == ["t"]


def test_summary_verdicts(catalog: RequirementCatalog) -> None:
    decision = decide(_records(), catalog, "must")
    summary = build_summary(catalog, _records(), decision, {"kind": "external"}, untested={})
    verdicts = {v.id: v for v in summary.verdicts}
    assert verdicts["P1-X-001"].verdict == PASS
    assert verdicts["P1-X-002"].verdict == FAIL
    assert verdicts["P1-X-002"].failed_tests == ["t_should_fail"]
    assert not verdicts["P1-X-002"].gating
    assert verdicts["P1-X-003"].verdict == PARTIAL
    assert (verdicts["P1-X-003"].passed, verdicts["P1-X-003"].skipped) == (1, 1)
    assert verdicts["P1-X-004"].verdict == NOT_ASSESSED
    assert verdicts["P1-X-004"].reason == NO_TEST
    assert verdicts["P1-X-004"].tests == 0
    assert summary.counts() == {PASS: 1, FAIL: 1, PARTIAL: 1, KNOWN_DEVIATION: 0, NOT_ASSESSED: 1}
    assert summary.run_passes
    # P1-X-004 is a MUST without a test: the run is not a PASS.
    assert summary.verdict == INCOMPLETE
    assert summary.incomplete == ["P1-X-004"]


def _one(outcome: Outcome, reason: str = "") -> list[ItemRecord]:
    record = ItemRecord("t", ["P1-X-001"], outcome, reason)
    return [record, ItemRecord("u", ["P1-X-004"], Outcome.PASSED)]


@pytest.mark.parametrize(
    ("records", "reason"),
    [
        (_one(Outcome.SKIPPED), SKIPPED),
        (_one(Outcome.SKIPPED, "the policy has no lockout"), "skipped: the policy has no lockout"),
        (_one(Outcome.SKIPPED, "needs a source: clock"), "needs a source: clock"),
        (_one(Outcome.DESELECTED, "deselected"), DESELECTED),
        (_one(Outcome.DESELECTED, OUTSIDE_CLASS), OUTSIDE_CLASS),
        (_one(Outcome.NOT_RUN), NOT_RUN),
    ],
    ids=["skipped", "skip-reason", "needs-source", "deselected", "outside-class", "not-run"],
)
def test_a_must_requirement_not_assessed_makes_the_run_incomplete(
    catalog: RequirementCatalog, records: list[ItemRecord], reason: str
) -> None:
    summary = build_summary(catalog, records, decide(records, catalog, "must"), {}, untested={})
    first = summary.verdicts[0]
    assert (first.verdict, first.reason) == (NOT_ASSESSED, reason)
    assert summary.verdict == INCOMPLETE
    assert summary.incomplete == ["P1-X-001"]
    assert summary.run_passes  # the gate passes; --require-complete turns INCOMPLETE into 14
    assert "P1-X-001" in verdict_line(summary)


def test_untestable_requirements_and_unclaimed_classes_do_not_make_it_incomplete(
    catalog: RequirementCatalog,
) -> None:
    records = [ItemRecord("t", ["P1-X-001"], Outcome.PASSED)]
    summary = build_summary(
        catalog,
        records,
        decide(records, catalog, "must"),
        {},
        untested={"P1-X-004": "an event no API shows"},
    )
    last = summary.verdicts[-1]
    assert last.verdict == NOT_ASSESSED
    assert last.reason == f"{UNTESTABLE}: an event no API shows"
    assert summary.verdict == PASS
    elsewhere = build_summary(
        catalog, records, decide(records, catalog, "must"), {}, ["contract"], untested={}
    )
    assert elsewhere.verdicts[-1].reason == OUTSIDE_CLASS  # P1-X-004 is a behaviour requirement
    assert elsewhere.verdict == PASS


def test_gate_should_asks_should_requirements_to_be_assessed(
    catalog: RequirementCatalog,
) -> None:
    records = [
        ItemRecord("t", ["P1-X-001"], Outcome.PASSED),
        ItemRecord("u", ["P1-X-004"], Outcome.PASSED),
    ]
    assert build_summary(catalog, records, decide(records, catalog, "must"), {}).verdict == PASS
    strict = build_summary(catalog, records, decide(records, catalog, "should"), {}, untested={})
    assert strict.verdict == INCOMPLETE
    assert strict.incomplete == ["P1-X-002"]


def test_nothing_assessed_is_never_a_pass(catalog: RequirementCatalog) -> None:
    summary = build_summary(catalog, [], decide([], catalog, "must"), {}, untested={})
    assert summary.verdict == INCOMPLETE
    assert "no test ran" in summary.reason


def test_a_failure_at_the_gate_is_a_fail(catalog: RequirementCatalog) -> None:
    decision = decide(_records(), catalog, "should")
    summary = build_summary(catalog, _records(), decision, {}, untested={})
    assert summary.verdict == FAIL
    assert not summary.run_passes


def test_terminal_table_lists_tested_requirements_and_ends_with_the_verdict(
    catalog: RequirementCatalog,
) -> None:
    decision = GateDecision("should", gating=["t_should_fail"])
    summary = build_summary(
        catalog, _records(), decision, {}, rate_limit={"retries": 3, "waited_seconds": 4.5}
    )
    lines = terminal_lines(summary)
    assert lines[0].split() == ["requirement", "level", "verdict", "tests", "(pass/fail/skip)"]
    row = next(line for line in lines if line.startswith("P1-X-002"))
    assert row.split()[:3] == ["P1-X-002", "SHOULD", "FAIL"]
    assert "fails the gate" in row
    assert not any(line.startswith("P1-X-004") for line in lines)
    assert "rate limited: 3 retries after 429, 4.5 s waited in all" in lines
    assert lines[-2] == decision.explanation()
    assert lines[-1].startswith("verdict: FAIL")


def test_no_verdict_summary_says_why(tmp_path: Path) -> None:
    summary = no_verdict_summary("configuration: target unreachable", 11, {}, "must", ["full"])
    assert summary.verdict == NO_VERDICT
    assert not summary.run_passes
    assert terminal_lines(summary) == [
        "verdict: NO VERDICT: configuration: target unreachable (exit 11); no test ran"
    ]
    paths = write_reports(summary, tmp_path, Redactor())
    assert json.loads(paths[0].read_text())["verdict"] == NO_VERDICT
    assert "**NO VERDICT**" in paths[1].read_text()


def test_reports_are_written_and_scrubbed(catalog: RequirementCatalog, tmp_path: Path) -> None:
    redactor = Redactor(["leaky-secret-9"])
    target = {"kind": "external", "api_base_url": "https://x.test/v1?k=leaky-secret-9"}
    summary = build_summary(catalog, _records(), decide(_records(), catalog, "must"), target)
    paths = write_reports(summary, tmp_path / "out", redactor)
    assert [p.name for p in paths] == ["conformance-summary.json", "conformance-summary.md"]
    document = json.loads(paths[0].read_text())
    assert document["gate"] == "must"
    assert document["verdict"] == summary.verdict
    assert [v["id"] for v in document["verdicts"]] == [
        "P1-X-001",
        "P1-X-002",
        "P1-X-003",
        "P1-X-004",
    ]
    markdown = paths[1].read_text()
    assert "| P1-X-002 | SHOULD | contract | **FAIL** |" in markdown
    assert "`t_should_fail`" in markdown
    for path in paths:
        assert "leaky-secret-9" not in path.read_text()
    assert to_markdown(summary).startswith("# PingOne user-password conformance summary")
    remove_reports(tmp_path / "out")
    assert not any(path.exists() for path in paths)


def test_environment_properties(tmp_path: Path) -> None:
    path = write_environment_properties(
        tmp_path / "results",
        {"target.api_base_url": "http://127.0.0.1:1/v1", "suite commit": "abc\nd"},
        Redactor(),
    )
    assert path.read_text().splitlines() == [
        "target.api_base_url=http://127.0.0.1:1/v1",
        "suite_commit=abc d",
    ]
