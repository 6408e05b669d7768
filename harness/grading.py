"""Grading in one place: which test outcomes fail the run under the chosen gate.

Tests keep their real outcome (a failed SHOULD test is reported failed everywhere). At session
end the run passes when every failed or erroring test covers only requirements below the gate.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.requirements import RequirementCatalog


class Outcome(enum.Enum):
    """A test's final outcome, worst phase wins (an error in teardown spoils a pass)."""

    PASSED = "passed"
    SKIPPED = "skipped"
    FAILED = "failed"
    ERROR = "error"
    NOT_RUN = "not run"
    DESELECTED = "deselected"

    @property
    def is_failure(self) -> bool:
        """True for failed and error."""
        return self in (Outcome.FAILED, Outcome.ERROR)


_RANK = {
    Outcome.DESELECTED: -1,
    Outcome.NOT_RUN: 0,
    Outcome.PASSED: 1,
    Outcome.SKIPPED: 2,
    Outcome.FAILED: 3,
    Outcome.ERROR: 4,
}


@dataclass
class ItemRecord:
    """One collected test: the requirements it names and its outcome so far."""

    nodeid: str
    requirements: list[str]
    outcome: Outcome = Outcome.NOT_RUN
    # Why it was deselected or skipped: "outside the claimed class", "deselected", a skip reason.
    reason: str = ""

    def deselect(self, reason: str) -> None:
        """Record that the run left this test out, and why (the first reason given wins)."""
        if self.outcome is Outcome.NOT_RUN:
            self.outcome = Outcome.DESELECTED
            self.reason = reason

    def update(
        self, when: str, passed: bool, failed: bool, skipped: bool, reason: str = ""
    ) -> None:
        """Fold in one phase report (setup, call or teardown); `reason` of a skip."""
        if skipped and reason and self.outcome in (Outcome.NOT_RUN, Outcome.PASSED):
            self.reason = reason
        if failed:
            found = Outcome.FAILED if when == "call" else Outcome.ERROR
        elif skipped:
            found = Outcome.SKIPPED
        elif passed and when == "call":
            found = Outcome.PASSED
        else:
            return
        if _RANK[found] > _RANK[self.outcome]:
            self.outcome = found


@dataclass(frozen=True)
class GateDecision:
    """The failures that fail the run and those the gate tolerates."""

    gate: str
    gating: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        """True when no failure is at or above the gate."""
        return not self.gating

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
        return f"gate '{self.gate}': no failing test"


def decide(records: Iterable[ItemRecord], catalog: RequirementCatalog, gate: str) -> GateDecision:
    """Split failed tests into those that fail the run under `gate` and those it tolerates."""
    gating: list[str] = []
    tolerated: list[str] = []
    for record in records:
        if not record.outcome.is_failure:
            continue
        if catalog.gates(record.requirements, gate):
            gating.append(record.nodeid)
        else:
            tolerated.append(record.nodeid)
    return GateDecision(gate=gate, gating=gating, tolerated=tolerated)
