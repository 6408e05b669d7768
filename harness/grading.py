"""Grading in one place: which test outcomes fail the run under the chosen gate.

Tests keep their real outcome (a failed SHOULD test is reported failed everywhere). At session
end the run passes when every failed or erroring test covers only requirements below the gate.
A known deviation that still fails is no failure; one that no longer reproduces (a strict
XPASS) and an expired entry are tolerated unless `--strict-deviations` (harness.deviations).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.requirements import RequirementCatalog


class Outcome(enum.Enum):
    """A test's final outcome, worst phase wins (an error in teardown spoils a pass)."""

    PASSED = "passed"
    SKIPPED = "skipped"
    FAILED = "failed"
    ERROR = "error"
    NOT_RUN = "not run"
    DESELECTED = "deselected"
    # A known deviation that still happens (pytest: xfailed).
    DEVIATION = "known deviation"

    @property
    def is_failure(self) -> bool:
        """True for failed and error."""
        return self in (Outcome.FAILED, Outcome.ERROR)


_RANK = {
    Outcome.DESELECTED: -1,
    Outcome.NOT_RUN: 0,
    Outcome.PASSED: 1,
    Outcome.DEVIATION: 2,
    Outcome.SKIPPED: 3,
    Outcome.FAILED: 4,
    Outcome.ERROR: 5,
}


@dataclass
class ItemRecord:
    """One collected test: the requirements it names and its outcome so far."""

    nodeid: str
    requirements: list[str]
    outcome: Outcome = Outcome.NOT_RUN
    # Why it was deselected or skipped: "outside the claimed class", "deselected", a skip reason.
    reason: str = ""
    # The known-deviation entry applied to it (its label), and whether it no longer reproduces.
    deviation: str = ""
    stale_deviation: bool = False
    # It failed because the target stopped answering (TargetUnreachable), not against a
    # requirement: never a conformance failure; the run reports the target unavailable.
    unavailable: bool = False

    def to_json(self) -> dict[str, object]:
        """A JSON-ready copy (xdist worker output, the summary's `tests`, shard merging)."""
        return {
            "nodeid": self.nodeid,
            "requirements": list(self.requirements),
            "outcome": self.outcome.value,
            "reason": self.reason,
            "deviation": self.deviation,
            "stale_deviation": self.stale_deviation,
            "unavailable": self.unavailable,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemRecord:
        """The record `to_json` wrote."""
        return cls(
            nodeid=str(data["nodeid"]),
            requirements=[str(r) for r in data["requirements"]],
            outcome=Outcome(data["outcome"]),
            reason=str(data.get("reason", "")),
            deviation=str(data.get("deviation", "")),
            stale_deviation=bool(data.get("stale_deviation", False)),
            unavailable=bool(data.get("unavailable", False)),
        )

    def deselect(self, reason: str) -> None:
        """Record that the run left this test out, and why (the first reason given wins)."""
        if self.outcome is Outcome.NOT_RUN:
            self.outcome = Outcome.DESELECTED
            self.reason = reason

    def update(
        self,
        when: str,
        passed: bool,
        failed: bool,
        skipped: bool,
        reason: str = "",
        xfailed: bool = False,
        xpassed_strict: bool = False,
        unavailable: bool = False,
    ) -> None:
        """Fold in one phase report (setup, call or teardown); `reason` of a skip."""
        if failed and unavailable:
            self.unavailable = True
        if skipped and reason and self.outcome in (Outcome.NOT_RUN, Outcome.PASSED):
            self.reason = reason
        if xpassed_strict and self.deviation:
            self.stale_deviation = True
        if failed:
            found = Outcome.FAILED if when == "call" else Outcome.ERROR
        elif skipped and xfailed and self.deviation:
            found = Outcome.DEVIATION
        elif skipped:
            found = Outcome.SKIPPED
        elif passed and when == "call":
            found = Outcome.PASSED
        else:
            return
        if _RANK[found] > _RANK[self.outcome]:
            self.outcome = found


def merge_records(records: Iterable[ItemRecord]) -> dict[str, ItemRecord]:
    """One record per test from several partial views (xdist workers, CI shards).

    Every view collected every test, but each ran only its share: a test's outcome is the most
    telling one any view saw (a pass or failure beats "not run" and "deselected").
    """
    merged: dict[str, ItemRecord] = {}
    for record in records:
        known = merged.get(record.nodeid)
        if known is None or _RANK[record.outcome] > _RANK[known.outcome]:
            merged[record.nodeid] = record
    return merged


@dataclass(frozen=True)
class GateDecision:
    """The failures that fail the run and those the gate tolerates."""

    gate: str
    gating: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)
    # Known deviations that no longer reproduce (test ids), and expired entries (labels).
    stale_deviations: list[str] = field(default_factory=list)
    expired_deviations: list[str] = field(default_factory=list)
    strict_deviations: bool = False
    # Tests that failed because the target stopped answering (no conformance failure).
    unavailable: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        """True when no failure is at or above the gate (and, if strict, no stale entry)."""
        stale = self.stale_deviations or self.expired_deviations
        return not self.gating and not (self.strict_deviations and stale)

    def explanation(self) -> str:
        """One sentence for the summary."""
        if self.gating:
            return (
                f"gate '{self.gate}': {len(self.gating)} failing test(s) at or above the gate "
                "fail the run"
                + (f"; {len(self.tolerated)} more below it" if self.tolerated else "")
            )
        if self.tolerated:
            return (
                f"gate '{self.gate}': {len(self.tolerated)} failing test(s) cover only "
                "requirements below the gate; they stay failed in every report, and the run "
                "passes"
            )
        if self.strict_deviations and (self.stale_deviations or self.expired_deviations):
            return (
                f"gate '{self.gate}' with --strict-deviations: "
                f"{len(self.stale_deviations)} known deviation(s) no longer reproduce and "
                f"{len(self.expired_deviations)} expired; update known-deviations.yaml"
            )
        return f"gate '{self.gate}': no failing test"


def decide(
    records: Iterable[ItemRecord],
    catalog: RequirementCatalog,
    gate: str,
    expired_deviations: Iterable[str] = (),
    strict_deviations: bool = False,
) -> GateDecision:
    """Split failed tests into those that fail the run under `gate` and those it tolerates."""
    gating: list[str] = []
    tolerated: list[str] = []
    stale: list[str] = []
    unavailable: list[str] = []
    for record in records:
        if not record.outcome.is_failure:
            continue
        if record.unavailable:
            unavailable.append(record.nodeid)
        elif record.stale_deviation and record.outcome is Outcome.FAILED:
            stale.append(record.nodeid)
        elif catalog.gates(record.requirements, gate):
            gating.append(record.nodeid)
        else:
            tolerated.append(record.nodeid)
    return GateDecision(
        gate=gate,
        gating=gating,
        tolerated=tolerated,
        stale_deviations=stale,
        expired_deviations=list(expired_deviations),
        strict_deviations=strict_deviations,
        unavailable=unavailable,
    )
