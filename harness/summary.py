"""The conformance summary: one verdict per requirement, for the terminal, JSON and Markdown.

Verdicts:
- PASS: every test of the requirement ran and passed;
- FAIL: at least one of its tests failed or errored;
- PARTIAL: some tests passed, none failed, others were skipped or did not run;
- NOT RUN: no test of it ran to a pass (none collected, or all skipped / not run).

The summary also writes `environment.properties` into the Allure results directory. Nothing it
writes carries a secret: it holds ids, counts, URLs and the environment id only, and every
string passes through redaction on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.grading import GateDecision, ItemRecord, Outcome
from harness.redaction import Redactor
from harness.requirements import RequirementCatalog

SUMMARY_JSON = "conformance-summary.json"
SUMMARY_MARKDOWN = "conformance-summary.md"
ENVIRONMENT_PROPERTIES = "environment.properties"

PASS = "PASS"
FAIL = "FAIL"
PARTIAL = "PARTIAL"
NOT_RUN = "NOT RUN"


@dataclass(frozen=True)
class RequirementVerdict:
    """How one requirement fared."""

    id: str
    level: str
    title: str
    verdict: str
    tests: int
    passed: int
    failed: int
    skipped: int
    not_run: int
    gating: bool
    failed_tests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConformanceSummary:
    """The whole run, requirement by requirement."""

    target: dict[str, str]
    gate: str
    gate_explanation: str
    run_passes: bool
    verdicts: list[RequirementVerdict]
    untracked_failures: list[str]

    def counts(self) -> dict[str, int]:
        """How many requirements got each verdict."""
        counted = {PASS: 0, FAIL: 0, PARTIAL: 0, NOT_RUN: 0}
        for verdict in self.verdicts:
            counted[verdict.verdict] += 1
        return counted


def build_summary(
    catalog: RequirementCatalog,
    records: Iterable[ItemRecord],
    decision: GateDecision,
    target: dict[str, str],
) -> ConformanceSummary:
    """Verdicts for every requirement of the catalog, from the outcomes of the collected tests."""
    records = list(records)
    gating_ids = set(decision.gating)
    verdicts = []
    for requirement in catalog:
        mine = [r for r in records if requirement.id in r.requirements]
        by_outcome = {o: [r for r in mine if r.outcome is o] for o in Outcome}
        failed = by_outcome[Outcome.FAILED] + by_outcome[Outcome.ERROR]
        passed = len(by_outcome[Outcome.PASSED])
        if failed:
            verdict = FAIL
        elif passed and passed == len(mine):
            verdict = PASS
        elif passed:
            verdict = PARTIAL
        else:
            verdict = NOT_RUN
        verdicts.append(
            RequirementVerdict(
                id=requirement.id,
                level=requirement.level.value,
                title=requirement.title,
                verdict=verdict,
                tests=len(mine),
                passed=passed,
                failed=len(failed),
                skipped=len(by_outcome[Outcome.SKIPPED]),
                not_run=len(by_outcome[Outcome.NOT_RUN]),
                gating=any(r.nodeid in gating_ids for r in failed),
                failed_tests=[r.nodeid for r in failed],
            )
        )
    untracked = [r.nodeid for r in records if r.outcome.is_failure and not r.requirements]
    return ConformanceSummary(
        target=dict(target),
        gate=decision.gate,
        gate_explanation=decision.explanation(),
        run_passes=decision.passes,
        verdicts=verdicts,
        untracked_failures=untracked,
    )


def terminal_lines(summary: ConformanceSummary) -> list[str]:
    """A short table: one row per requirement that has tests, then the totals and the gate."""
    width = max([len(v.id) for v in summary.verdicts] + [11])
    lines = [f"{'requirement':<{width}}  {'level':<8}  {'verdict':<8}  tests (pass/fail/skip)"]
    untested = 0
    for v in summary.verdicts:
        if v.tests == 0:
            untested += 1
            continue
        mark = "  <- fails the gate" if v.gating else ""
        lines.append(
            f"{v.id:<{width}}  {v.level:<8}  {v.verdict:<8}  "
            f"{v.tests} ({v.passed}/{v.failed}/{v.skipped}){mark}"
        )
    counts = summary.counts()
    lines.append(
        f"requirements: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[PARTIAL]} partial, "
        f"{counts[NOT_RUN]} not run ({untested} without a collected test)"
    )
    if summary.untracked_failures:
        lines.append(f"failing tests that name no requirement: {len(summary.untracked_failures)}")
    lines.append(summary.gate_explanation)
    return lines


def to_json(summary: ConformanceSummary) -> dict[str, Any]:
    """The summary as a JSON-ready object."""
    document = asdict(summary)
    document["counts"] = summary.counts()
    return document


def to_markdown(summary: ConformanceSummary) -> str:
    """The summary as a Markdown page: target, gate, then one table row per requirement."""
    counts = summary.counts()
    lines = [
        "# PingOne user-password conformance summary",
        "",
        f"- target: {summary.target.get('kind', '?')} `{summary.target.get('api_base_url', '?')}`",
        f"- environment: `{summary.target.get('env_id', '?')}`",
        f"- suite commit: `{summary.target.get('suite_commit', '?')}`",
        f"- run: **{'PASS' if summary.run_passes else 'FAIL'}**: {summary.gate_explanation}",
        f"- requirements: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[PARTIAL]} partial, "
        f"{counts[NOT_RUN]} not run",
        "",
        "| requirement | level | verdict | tests | passed | failed | skipped | title |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in summary.verdicts:
        verdict = f"**{v.verdict}**" if v.verdict == FAIL else v.verdict
        title = v.title.replace("|", "\\|")
        lines.append(
            f"| {v.id} | {v.level} | {verdict} | {v.tests} | {v.passed} | {v.failed} | "
            f"{v.skipped} | {title} |"
        )
    failing = [v for v in summary.verdicts if v.failed_tests]
    if failing:
        lines += ["", "## Failing tests", ""]
        for v in failing:
            for nodeid in v.failed_tests:
                lines.append(f"- {v.id} ({v.level}): `{nodeid}`")
    if summary.untracked_failures:
        lines += ["", "## Failing tests that name no requirement", ""]
        lines += [f"- `{nodeid}`" for nodeid in summary.untracked_failures]
    return "\n".join(lines) + "\n"


def write_reports(summary: ConformanceSummary, directory: Path, redactor: Redactor) -> list[Path]:
    """Write `conformance-summary.json` and `.md` into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / SUMMARY_JSON
    markdown_path = directory / SUMMARY_MARKDOWN
    json_text = json.dumps(to_json(summary), indent=2, ensure_ascii=False) + "\n"
    json_path.write_text(redactor.text(json_text), encoding="utf-8")
    markdown_path.write_text(redactor.text(to_markdown(summary)), encoding="utf-8")
    return [json_path, markdown_path]


def write_environment_properties(
    results_dir: Path, properties: dict[str, str], redactor: Redactor
) -> Path:
    """Write Allure's `environment.properties` (key=value lines) into the results directory."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / ENVIRONMENT_PROPERTIES
    lines = [
        f"{_property_key(k)}={_property_value(redactor.text(v))}" for k, v in properties.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _property_key(key: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in key)


def _property_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", " ").replace("\r", " ")
