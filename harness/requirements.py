"""The requirement catalog (`schemas/requirements.yaml`) and the gate that grades against it.

A test names what it covers with `@pytest.mark.requirement("P1-CHECK-002", ...)`. Each
requirement has a level: MUST, SHOULD or OBSERVED. The `--gate` option says which levels fail
the run; tests always keep their real outcome.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data_files import SCHEMAS_DIR, DataFileError, load_checked

REQUIREMENTS_FILE = SCHEMAS_DIR / "requirements.yaml"
REQUIREMENTS_SCHEMA = SCHEMAS_DIR / "requirements.schema.json"
UNTESTED_FILE = SCHEMAS_DIR / "untested.yaml"
UNTESTED_SCHEMA = SCHEMAS_DIR / "untested.schema.json"
MARKER = "requirement"

# Conformance classes a target can claim (the OGC/W3C sense: what it implements), from the
# least demanding up. `full` claims them all. A requirement belongs to exactly one class.
# requirements.schema.json holds the same two lists as enums; a project test keeps them equal.
CONFORMANCE_CLASSES: tuple[str, ...] = ("contract", "behaviour", "security")
FULL = "full"
# Sources a requirement's tests may need beyond a worker token; a run without the source
# reports the requirement as "needs a source", never as passed.
# token-minting: expired tokens and tokens of another environment (the reference's test routes);
# rate-limit: a way to see a 429 (the target answers one during the run, or test routes switch
# a rate limit on); self-actor: a token whose actor is the user under test (a self change), which
# a worker token never is on PingOne.
SOURCES: tuple[str, ...] = (
    "recovery-code",
    "external-idp",
    "clock",
    "token-minting",
    "rate-limit",
    "self-actor",
)


class Level(enum.Enum):
    """How binding a requirement is; the order is MUST > SHOULD > OBSERVED."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    OBSERVED = "OBSERVED"

    @property
    def rank(self) -> int:
        """3 for MUST, 2 for SHOULD, 1 for OBSERVED."""
        return {"MUST": 3, "SHOULD": 2, "OBSERVED": 1}[self.value]


GATES: dict[str, frozenset[Level]] = {
    "must": frozenset({Level.MUST}),
    "should": frozenset({Level.MUST, Level.SHOULD}),
    "observed": frozenset({Level.MUST, Level.SHOULD, Level.OBSERVED}),
}


@dataclass(frozen=True)
class Requirement:
    """One entry of the catalog."""

    id: str
    title: str
    level: Level
    operation: str
    source: str
    quote: str
    notes: str
    conformance_class: str
    needs: tuple[str, ...] = ()


class CatalogError(ValueError):
    """The requirement catalog is malformed."""


class RequirementCatalog:
    """The requirements by id, in file order."""

    def __init__(self, requirements: Iterable[Requirement]) -> None:
        self._by_id: dict[str, Requirement] = {}
        for requirement in requirements:
            if requirement.id in self._by_id:
                raise CatalogError(f"requirement {requirement.id} is defined twice")
            self._by_id[requirement.id] = requirement

    @classmethod
    def load(cls, path: Path = REQUIREMENTS_FILE) -> RequirementCatalog:
        """Read the catalog; a file not matching requirements.schema.json is refused."""
        try:
            document = load_checked(path, REQUIREMENTS_SCHEMA)
        except DataFileError as error:
            raise CatalogError(str(error)) from None
        return cls(_requirement(entry) for entry in document["requirements"])

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._by_id

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, requirement_id: str) -> Requirement:
        """The requirement `requirement_id`; KeyError when the catalog has no such id."""
        return self._by_id[requirement_id]

    def unknown(self, requirement_ids: Iterable[str]) -> list[str]:
        """The ids among `requirement_ids` that the catalog does not define."""
        return [rid for rid in requirement_ids if rid not in self._by_id]

    def gates(self, requirement_ids: Iterable[str], gate: str) -> bool:
        """True when a failure covering these requirements fails the run under `gate`.

        A failure belongs to every requirement its test names; it is tolerated only when all of
        them are below the gate. A test that names no requirement always gates.
        """
        levels = gate_levels(gate)
        ids = list(requirement_ids)
        if not ids:
            return True
        return any(rid not in self._by_id or self._by_id[rid].level in levels for rid in ids)


def gate_levels(gate: str) -> frozenset[Level]:
    """The levels whose failures fail the run under `gate` (must, should or observed)."""
    try:
        return GATES[gate]
    except KeyError:
        raise ValueError(f"unknown gate {gate!r} (known: {', '.join(GATES)})") from None


def _requirement(entry: dict[str, Any]) -> Requirement:
    """One entry, already valid against requirements.schema.json."""
    return Requirement(
        id=entry["id"],
        title=entry["title"],
        level=Level(entry["level"]),
        operation=entry["operation"],
        source=entry["source"],
        quote=entry["quote"],
        notes=entry["notes"],
        conformance_class=entry["class"],
        needs=tuple(entry.get("needs") or ()),
    )


@dataclass(frozen=True)
class Untested:
    """A requirement no suite test covers, and why (`schemas/untested.yaml`)."""

    id: str
    reason: str


def load_untested(path: Path = UNTESTED_FILE) -> list[Untested]:
    """The entries of untested.yaml; a file not matching untested.schema.json is refused."""
    try:
        document = load_checked(path, UNTESTED_SCHEMA)
    except DataFileError as error:
        raise CatalogError(str(error)) from None
    return [Untested(entry["id"], entry["reason"]) for entry in document]


def marked_requirements(markers: Iterable[Any]) -> list[str]:
    """The requirement ids named by `requirement` markers, in order, without repeats."""
    ids: list[str] = []
    for mark in markers:
        for arg in mark.args:
            if str(arg) not in ids:
                ids.append(str(arg))
    return ids
