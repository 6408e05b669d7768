"""The conformance summary: a verdict for the run and one for each requirement.

Requirement verdicts:
- PASS: every test of the requirement that ran passed, and none was left out;
- FAIL: at least one of its tests failed or errored;
- PARTIAL: some tests passed, none failed, others were skipped or left out;
- KNOWN DEVIATION: a test failed as a reviewed entry of known-deviations.yaml says it does (a
  deviation that no longer reproduces counts as the pass it now is, and is listed);
- NOT ASSESSED: no test of it passed or failed, with the reason: not testable black-box
  (`schemas/untested.yaml`), no test exists, outside the claimed conformance class, deselected,
  needs a source the run lacks, skipped, or not run (the run stopped).

Run verdicts:
- FAIL: a failing test covers a requirement at or above the gate;
- INCOMPLETE: no gating failure, but a requirement at or above the gate level, in a claimed
  conformance class, was not assessed (not-testable requirements excepted: they are listed);
- PASS: neither;
- NO VERDICT: the run ended before any test (configuration, usage, interruption); the reason
  says why. A stale summary of an earlier run is never left in place of this one.

Nothing written here carries a secret: ids, counts, URLs and the environment id only, and every
string passes through redaction on the way out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.data_files import read_yaml
from harness.grading import GateDecision, ItemRecord, Outcome
from harness.operations import SCHEMAS_DIR
from harness.redaction import Redactor
from harness.requirements import RequirementCatalog, gate_levels

SUMMARY_JSON = "conformance-summary.json"
SUMMARY_MARKDOWN = "conformance-summary.md"
SUMMARY_FILES = (SUMMARY_JSON, SUMMARY_MARKDOWN)
ENVIRONMENT_PROPERTIES = "environment.properties"
UNTESTED_FILE = SCHEMAS_DIR / "untested.yaml"

PASS = "PASS"
FAIL = "FAIL"
PARTIAL = "PARTIAL"
KNOWN_DEVIATION = "KNOWN DEVIATION"
NOT_ASSESSED = "NOT ASSESSED"
INCOMPLETE = "INCOMPLETE"
NO_VERDICT = "NO VERDICT"

# Why a requirement was not assessed. `needs a source` and `skipped` carry the skip's text too.
UNTESTABLE = "not testable black-box"
NO_TEST = "no test exists"
OUTSIDE_CLASS = "outside the claimed class"
DESELECTED = "deselected"
NEEDS_SOURCE = "needs a source"
SKIPPED = "skipped"
NOT_RUN = "not run"
UNAVAILABLE = "target unavailable"
SOURCE_PREFIX = "needs a source:"


@dataclass(frozen=True)
class RequirementVerdict:
    """How one requirement fared."""

    id: str
    level: str
    conformance_class: str
    title: str
    verdict: str
    reason: str
    tests: int
    passed: int
    failed: int
    skipped: int
    deselected: int
    gating: bool
    failed_tests: list[str] = field(default_factory=list)

    @property
    def reason_kind(self) -> str:
        """The reason without a skip's own text (`needs a source`, not `needs a source: …`)."""
        return self.reason.split(":", 1)[0] if self.reason else ""


@dataclass(frozen=True)
class ConformanceSummary:
    """The whole run: its verdict, and requirement by requirement."""

    verdict: str
    reason: str
    target: dict[str, str]
    gate: str
    conformance: list[str]
    gate_explanation: str
    run_passes: bool
    verdicts: list[RequirementVerdict]
    incomplete: list[str]
    untracked_failures: list[str]
    rate_limit: dict[str, float] = field(default_factory=dict)
    stale_deviations: list[str] = field(default_factory=list)
    expired_deviations: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    # Every test's record (ItemRecord.to_json): what shards are merged from.
    tests: list[dict[str, Any]] = field(default_factory=list)
    strict_deviations: bool = False
    # The property suite's run, when it ran: seed, profile, cases sent, statuses, failures.
    property_run: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        """How many requirements got each verdict."""
        counted = dict.fromkeys((PASS, FAIL, PARTIAL, KNOWN_DEVIATION, NOT_ASSESSED), 0)
        for verdict in self.verdicts:
            counted[verdict.verdict] += 1
        return counted

    def not_assessed(self) -> dict[str, int]:
        """Requirements not assessed, by reason (`needs a source`, `deselected`, …)."""
        return dict(
            Counter(v.reason_kind for v in self.verdicts if v.verdict == NOT_ASSESSED).most_common()
        )


def load_untested(path: Path = UNTESTED_FILE) -> dict[str, str]:
    """`schemas/untested.yaml`: requirement id → why it cannot be tested black-box."""
    if not path.exists():
        return {}
    document = read_yaml(path) or []
    entries = document.get("untested", []) if isinstance(document, dict) else document
    return {str(e["id"]): str(e.get("reason", "")) for e in entries if isinstance(e, dict)}


def _verdict_of(
    requirement_class: str,
    claimed: frozenset[str],
    mine: list[ItemRecord],
    untestable: str | None,
) -> tuple[str, str]:
    counted = [r for r in mine if not r.unavailable]
    by_outcome = {o: [r for r in counted if r.outcome is o] for o in Outcome}
    stale = [r for r in by_outcome[Outcome.FAILED] if r.stale_deviation]
    if [r for r in by_outcome[Outcome.FAILED] if not r.stale_deviation] or by_outcome[
        Outcome.ERROR
    ]:
        return FAIL, ""
    if by_outcome[Outcome.DEVIATION]:
        return KNOWN_DEVIATION, f"known deviation: {by_outcome[Outcome.DEVIATION][0].deviation}"
    passed = by_outcome[Outcome.PASSED] + stale
    if passed:
        return (PASS, "") if len(passed) == len(mine) else (PARTIAL, _left_out(mine))
    if not mine:
        if untestable is not None:
            return NOT_ASSESSED, f"{UNTESTABLE}: {untestable}" if untestable else UNTESTABLE
        if requirement_class not in claimed:
            return NOT_ASSESSED, OUTSIDE_CLASS
        return NOT_ASSESSED, NO_TEST
    return NOT_ASSESSED, _left_out(mine)


def _left_out(mine: list[ItemRecord]) -> str:
    """The most telling reason among tests that neither passed nor failed."""
    if any(r.unavailable for r in mine):
        return UNAVAILABLE
    reasons = [r.reason for r in mine if r.outcome is Outcome.SKIPPED and r.reason]
    sources = [r for r in reasons if r.startswith(SOURCE_PREFIX)]
    if sources:
        return sources[0]
    if reasons:
        return f"{SKIPPED}: {reasons[0]}"
    if any(r.outcome is Outcome.SKIPPED for r in mine):
        return SKIPPED
    deselected = [r.reason for r in mine if r.outcome is Outcome.DESELECTED]
    if deselected:
        if all(r == OUTSIDE_CLASS for r in deselected):
            return OUTSIDE_CLASS
        return f"{DESELECTED} ({deselected[0]})" if deselected[0] != DESELECTED else DESELECTED
    return NOT_RUN


def build_summary(
    catalog: RequirementCatalog,
    records: Iterable[ItemRecord],
    decision: GateDecision,
    target: dict[str, str],
    conformance: Iterable[str] = (),
    untested: dict[str, str] | None = None,
    rate_limit: dict[str, float] | None = None,
    property_run: dict[str, Any] | None = None,
) -> ConformanceSummary:
    """Verdicts for every requirement of the catalog and for the run."""
    records = list(records)
    claimed = frozenset(conformance) or frozenset(r.conformance_class for r in catalog)
    untested = load_untested() if untested is None else untested
    gating_ids = set(decision.gating)
    levels = gate_levels(decision.gate)
    verdicts = []
    for requirement in catalog:
        mine = [r for r in records if requirement.id in r.requirements]
        verdict, reason = _verdict_of(
            requirement.conformance_class, claimed, mine, untested.get(requirement.id)
        )
        failed = [
            r for r in mine if r.outcome.is_failure and not (r.stale_deviation or r.unavailable)
        ]
        verdicts.append(
            RequirementVerdict(
                id=requirement.id,
                level=requirement.level.value,
                conformance_class=requirement.conformance_class,
                title=requirement.title,
                verdict=verdict,
                reason=reason,
                tests=len(mine),
                passed=sum(r.outcome is Outcome.PASSED or r.stale_deviation for r in mine),
                failed=len(failed),
                skipped=sum(r.outcome is Outcome.SKIPPED for r in mine),
                deselected=sum(r.outcome is Outcome.DESELECTED for r in mine),
                gating=any(r.nodeid in gating_ids for r in failed),
                failed_tests=[r.nodeid for r in failed],
            )
        )
    incomplete = [
        v.id
        for v in verdicts
        if v.verdict == NOT_ASSESSED
        and v.conformance_class in claimed
        and not v.reason.startswith(UNTESTABLE)
        and catalog.get(v.id).level in levels
    ]
    assessed = any(v.verdict in (PASS, FAIL, PARTIAL, KNOWN_DEVIATION) for v in verdicts)
    if not decision.passes:
        verdict, reason = FAIL, decision.explanation()
    elif decision.unavailable:
        verdict = INCOMPLETE
        reason = (
            f"the target was unavailable (refused, reset or 502/503/504 after the retries) "
            f"during {len(decision.unavailable)} test(s); no conformance failure otherwise"
        )
    elif not assessed:
        verdict, reason = INCOMPLETE, "no requirement was assessed: no test ran to a result"
    elif incomplete:
        verdict = INCOMPLETE
        reason = (
            f"{len(incomplete)} requirement(s) at or above the gate '{decision.gate}' in the "
            f"claimed class(es) were not assessed; no failure otherwise"
        )
    else:
        verdict, reason = PASS, decision.explanation()
    untracked = [r.nodeid for r in records if r.outcome.is_failure and not r.requirements]
    return ConformanceSummary(
        verdict=verdict,
        reason=reason,
        target=dict(target),
        gate=decision.gate,
        conformance=sorted(claimed),
        gate_explanation=decision.explanation(),
        run_passes=decision.passes,
        verdicts=verdicts,
        incomplete=incomplete,
        untracked_failures=untracked,
        rate_limit=dict(rate_limit or {}),
        stale_deviations=list(decision.stale_deviations),
        expired_deviations=list(decision.expired_deviations),
        tests=[record.to_json() for record in records],
        unavailable=list(decision.unavailable),
        strict_deviations=decision.strict_deviations,
        property_run=property_run,
    )


def no_verdict_summary(
    reason: str, exit_code: int, target: dict[str, str], gate: str, conformance: Iterable[str]
) -> ConformanceSummary:
    """The summary of a run that ended before any test: why, and no verdict."""
    return ConformanceSummary(
        verdict=NO_VERDICT,
        reason=f"{reason} (exit {exit_code}); no test ran",
        target=dict(target),
        gate=gate,
        conformance=sorted(conformance),
        gate_explanation="no test ran",
        run_passes=False,
        verdicts=[],
        incomplete=[],
        untracked_failures=[],
    )


def verdict_line(summary: ConformanceSummary) -> str:
    """`verdict: INCOMPLETE: …` with the ids that made it so (at most ten listed)."""
    line = f"verdict: {summary.verdict}: {summary.reason}"
    if summary.incomplete:
        shown = ", ".join(summary.incomplete[:10])
        more = f" and {len(summary.incomplete) - 10} more" if len(summary.incomplete) > 10 else ""
        line += f" (not assessed: {shown}{more})"
    return line


def _counts_line(summary: ConformanceSummary) -> str:
    counts = summary.counts()
    line = (
        f"requirements: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[PARTIAL]} partial, "
        f"{counts[NOT_ASSESSED]} not assessed"
    )
    reasons = summary.not_assessed()
    if reasons:
        line += " (" + ", ".join(f"{n} {why}" for why, n in reasons.items()) + ")"
    return line


def terminal_lines(summary: ConformanceSummary) -> list[str]:
    """A short table of requirements that have tests, the counts, rate limiting, the verdict."""
    if summary.verdict == NO_VERDICT:
        return [verdict_line(summary)]
    width = max([len(v.id) for v in summary.verdicts] + [11])
    lines = [f"{'requirement':<{width}}  {'level':<8}  {'verdict':<12}  tests (pass/fail/skip)"]
    for v in summary.verdicts:
        if v.tests == 0 or v.deselected == v.tests:
            continue
        mark = "  <- fails the gate" if v.gating else ""
        why = f"  {v.reason}" if v.verdict in (NOT_ASSESSED, PARTIAL) and v.reason else ""
        lines.append(
            f"{v.id:<{width}}  {v.level:<8}  {v.verdict:<12}  "
            f"{v.tests} ({v.passed}/{v.failed}/{v.skipped}){mark}{why}"
        )
    lines.append(_counts_line(summary))
    lines.append(f"conformance classes claimed: {', '.join(summary.conformance)}")
    if summary.untracked_failures:
        lines.append(f"failing tests that name no requirement: {len(summary.untracked_failures)}")
    if summary.rate_limit.get("retries") or summary.rate_limit.get("unavailable_retries"):
        lines.append(rate_limit_line(summary.rate_limit))
    if summary.property_run:
        lines.append(property_line(summary.property_run))
    lines += deviation_lines(summary)
    lines.append(summary.gate_explanation)
    lines.append(verdict_line(summary))
    return lines


def deviation_lines(summary: ConformanceSummary) -> list[str]:
    """What changed about known deviations: entries no longer reproducing, entries expired."""
    lines = []
    if summary.stale_deviations:
        lines.append(
            f"known deviations that no longer reproduce ({len(summary.stale_deviations)}): "
            + ", ".join(summary.stale_deviations)
        )
    if summary.expired_deviations:
        lines.append(
            f"known deviations expired, no longer applied ({len(summary.expired_deviations)}): "
            + ", ".join(summary.expired_deviations)
        )
    return lines


def rate_limit_line(record: dict[str, float]) -> str:
    """`rate limited: 4 retries after 429, 7.0 s waited in all` (and unavailable retries)."""
    line = (
        f"rate limited: {int(record.get('retries', 0))} retries after 429, "
        f"{record.get('waited_seconds', 0.0):.1f} s waited in all"
    )
    if record.get("unavailable_retries"):
        line += (
            f"; {int(record['unavailable_retries'])} retries after 502/503/504 or a dropped "
            "connection"
        )
    return line


def property_line(run: dict[str, Any]) -> str:
    """`property suite: seed 7, profile quick, 912 generated cases sent, 0 failing tests (replay:
    --property-seed 7)`: what reproduces the generated part of the run."""
    return (
        f"property suite: seed {run.get('seed')}, profile {run.get('profile')}, "
        f"{run.get('cases', 0)} generated cases sent, {len(run.get('failures') or {})} failing "
        f"tests (replay: --property-seed {run.get('seed')} --hypothesis-profile-name "
        f"{run.get('profile')})"
    )


def merge_property_runs(parts: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """One property record from the workers' or shards' records (same seed and profile)."""
    runs = [part for part in parts if part]
    if not runs:
        return None
    statuses: dict[str, int] = {}
    failures: dict[str, str] = {}
    for run in runs:
        for key, count in (run.get("statuses") or {}).items():
            statuses[key] = statuses.get(key, 0) + int(count)
        failures.update(run.get("failures") or {})
    return {
        "seed": runs[0].get("seed"),
        "profile": runs[0].get("profile"),
        "cases": sum(int(run.get("cases", 0)) for run in runs),
        "statuses": dict(sorted(statuses.items())),
        "failures": dict(sorted(failures.items())),
    }


def to_json(summary: ConformanceSummary) -> dict[str, Any]:
    """The summary as a JSON-ready object."""
    document = asdict(summary)
    document["counts"] = summary.counts()
    document["not_assessed"] = summary.not_assessed()
    return document


def to_markdown(summary: ConformanceSummary) -> str:
    """The summary as a Markdown page (ready for a CI job summary)."""
    lines = [
        "# PingOne user-password conformance summary",
        "",
        f"- verdict: **{summary.verdict}**: {summary.reason}",
        f"- target: {summary.target.get('kind', '?')} `{summary.target.get('api_base_url', '?')}`",
        f"- environment: `{summary.target.get('env_id', '?')}`",
        f"- suite commit: `{summary.target.get('suite_commit', '?')}`",
        f"- conformance classes claimed: {', '.join(summary.conformance) or '?'}",
        f"- gate: `{summary.gate}`: {summary.gate_explanation}",
    ]
    if summary.verdict == NO_VERDICT:
        return "\n".join(lines) + "\n"
    lines.append(f"- {_counts_line(summary)}")
    if summary.rate_limit.get("retries") or summary.rate_limit.get("unavailable_retries"):
        lines.append(f"- {rate_limit_line(summary.rate_limit)}")
    if summary.property_run:
        lines.append(f"- {property_line(summary.property_run)}")
    lines += [f"- {line}" for line in deviation_lines(summary)]
    if summary.incomplete:
        lines += ["", "## Not assessed, at or above the gate (why the run is INCOMPLETE)", ""]
        by_id = {v.id: v for v in summary.verdicts}
        for rid in summary.incomplete:
            lines.append(f"- {rid} ({by_id[rid].level}): {by_id[rid].reason}")
    lines += [
        "",
        "| requirement | level | class | verdict | why | tests | passed | failed | skipped "
        "| title |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in summary.verdicts:
        verdict = f"**{v.verdict}**" if v.verdict == FAIL else v.verdict
        title = v.title.replace("|", "\\|")
        why = v.reason.replace("|", "\\|")
        lines.append(
            f"| {v.id} | {v.level} | {v.conformance_class} | {verdict} | {why} | {v.tests} | "
            f"{v.passed} | {v.failed} | {v.skipped} | {title} |"
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


def remove_reports(directory: Path) -> None:
    """Remove an earlier run's summary files, so that none outlives the run that replaces it."""
    for name in SUMMARY_FILES:
        (directory / name).unlink(missing_ok=True)


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


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.summary no-verdict --exit-code N --reason TEXT --dir DIR`.

    For a run that pytest itself ended before our hooks could write anything (a command-line
    usage error): `make run` writes the NO VERDICT summary with this, so that `reports/` never
    keeps an earlier run's verdict.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.summary")
    parser.add_argument("command", choices=["no-verdict"])
    parser.add_argument("--exit-code", type=int, required=True)
    parser.add_argument("--reason", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    summary = no_verdict_summary(args.reason, args.exit_code, {}, "?", [])
    write_reports(summary, args.dir, Redactor())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
