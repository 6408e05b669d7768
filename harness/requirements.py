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

import yaml

from harness.operations import SCHEMAS_DIR

REQUIREMENTS_FILE = SCHEMAS_DIR / "requirements.yaml"
MARKER = "requirement"

# Conformance classes a target can claim (the OGC/W3C sense: what it implements), from the
# least demanding up. `full` claims them all. A requirement belongs to exactly one class.
CONFORMANCE_CLASSES: tuple[str, ...] = ("contract", "behaviour", "security")
FULL = "full"
# Sources a requirement's tests may need beyond a worker token; a run without the source
# reports the requirement as "needs a source", never as passed. `self-actor` is a token whose
# actor is the user under test (a self change); a worker token never is on PingOne.
SOURCES: tuple[str, ...] = ("recovery-code", "external-idp", "clock", "self-actor")


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
    conformance_class: str = "behaviour"
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
        """Read the catalog; a top-level list or a `requirements:` list both work."""
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = document.get("requirements") if isinstance(document, dict) else document
        if not isinstance(entries, list):
            raise CatalogError(f"{path.name}: expected a list of requirements")
        return cls(_requirement(entry, path.name) for entry in entries)

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


def _requirement(entry: Any, file_name: str) -> Requirement:
    if not isinstance(entry, dict):
        raise CatalogError(f"{file_name}: every requirement must be a mapping")
    missing = [key for key in ("id", "title", "level", "operation", "source") if not entry.get(key)]
    if missing:
        raise CatalogError(f"{file_name}: {entry.get('id', '?')}: missing {', '.join(missing)}")
    try:
        level = Level(str(entry["level"]).upper())
    except ValueError:
        raise CatalogError(
            f"{file_name}: {entry['id']}: level must be MUST, SHOULD or OBSERVED"
        ) from None
    conformance_class = str(entry.get("class") or "behaviour")
    if conformance_class not in CONFORMANCE_CLASSES:
        raise CatalogError(
            f"{file_name}: {entry['id']}: class must be one of {', '.join(CONFORMANCE_CLASSES)}"
        )
    needs = tuple(str(n) for n in entry.get("needs") or ())
    unknown_sources = [n for n in needs if n not in SOURCES]
    if unknown_sources:
        raise CatalogError(f"{file_name}: {entry['id']}: unknown needs {unknown_sources}")
    return Requirement(
        id=str(entry["id"]),
        title=str(entry["title"]),
        level=level,
        operation=str(entry["operation"]),
        source=str(entry["source"]),
        quote=str(entry.get("quote") or ""),
        notes=str(entry.get("notes") or ""),
        conformance_class=conformance_class,
        needs=needs,
    )


def marked_requirements(markers: Iterable[Any]) -> list[str]:
    """The requirement ids named by `requirement` markers, in order, without repeats."""
    ids: list[str] = []
    for mark in markers:
        for arg in mark.args:
            if str(arg) not in ids:
                ids.append(str(arg))
    return ids
