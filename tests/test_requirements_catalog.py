"""`schemas/requirements.yaml` is well formed and its entries are linted.

Every entry has exactly the catalog's fields; ids are unique and shaped `P1-<AREA>-<nnn>`; levels
are MUST, SHOULD or OBSERVED; every entry cites an https source and quotes it; titles are unique,
short, present-tense statements without "should" (the level carries the strength, as in the
JSON-Schema-Test-Suite's description lint). The ids the first test slice relies on keep their
meaning and level.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
CATALOG: dict[str, Any] = yaml.safe_load(
    (SCHEMAS_DIR / "requirements.yaml").read_text(encoding="utf-8")
)
ENTRIES: list[dict[str, Any]] = CATALOG["requirements"]
FIELDS = {"id", "title", "level", "operation", "source", "quote", "notes"}
# Optional fields: the conformance class (default behaviour) and the sources a test may need.
OPTIONAL_FIELDS = {"class", "needs"}
LEVELS = {"MUST", "SHOULD", "OBSERVED"}
ID_PATTERN = re.compile(r"^P1-[A-Z]+-\d{3}$")
TITLE_MAX = 70

OPERATION_NAMES = {
    operation["name"]
    for operation in yaml.safe_load((SCHEMAS_DIR / "operations.yaml").read_text(encoding="utf-8"))[
        "operations"
    ]
}
OPENAPI = yaml.safe_load((SCHEMAS_DIR / "openapi.yaml").read_text(encoding="utf-8"))
OPERATION_IDS = {
    operation["operationId"]
    for item in OPENAPI["paths"].values()
    for key, operation in item.items()
    if isinstance(operation, dict) and "operationId" in operation
}
KNOWN_OPERATIONS = OPERATION_NAMES | OPERATION_IDS | {"all", "token"}

# The first test slice names these ids; their level and subject must not drift.
FIRST_SLICE = {
    "P1-SET-001": ("MUST", "set", ("forceChange false", "OK")),
    "P1-SET-002": ("MUST", "set", ("forceChange true", "MUST_CHANGE_PASSWORD")),
    "P1-SET-003": ("MUST", "set", ("password-state",)),
    "P1-SET-004": ("SHOULD", "set", ("lastChangedAt",)),
    "P1-CHECK-001": ("MUST", "check", ("right password", "OK")),
    "P1-CHECK-002": ("MUST", "check", ("wrong password", "400", "error envelope")),
    "P1-CHECK-003": ("OBSERVED", "check", ("failuresRemaining",)),
    "P1-CHECK-004": ("MUST", "check", ("MUST_CHANGE_PASSWORD", "200")),
    "P1-ERR-001": ("MUST", "all", ("error", "envelope")),
}


def _entry_id(entry: Any) -> str:
    return str(entry.get("id")) if isinstance(entry, dict) else repr(entry)


def test_catalog_is_a_requirements_list() -> None:
    assert set(CATALOG) == {"requirements"}
    assert isinstance(ENTRIES, list)
    assert 30 <= len(ENTRIES) <= 150


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
def test_entry_is_well_formed(entry: dict[str, Any]) -> None:
    assert FIELDS <= set(entry) <= FIELDS | OPTIONAL_FIELDS
    assert ID_PATTERN.match(entry["id"]), entry["id"]
    assert entry["level"] in LEVELS
    assert entry["operation"] in KNOWN_OPERATIONS
    assert re.match(r"^https://[^\s]+$", entry["source"]), entry["source"]
    for key in ("title", "quote", "notes"):
        assert isinstance(entry[key], str)
        assert entry[key].strip(), f"empty {key}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
def test_title_is_a_short_statement_without_should(entry: dict[str, Any]) -> None:
    title = entry["title"]
    assert len(title) <= TITLE_MAX, f"{len(title)} characters"
    assert not re.search(r"\bshould\b", title, re.IGNORECASE)
    assert title == title.strip()
    assert not title.endswith(".")


def test_ids_are_unique() -> None:
    ids = [entry["id"] for entry in ENTRIES]
    assert sorted(ids) == sorted(set(ids))


def test_titles_are_unique() -> None:
    titles = [entry["title"].casefold() for entry in ENTRIES]
    assert sorted(titles) == sorted(set(titles))


def test_ids_are_numbered_without_gaps_within_each_area() -> None:
    numbers: dict[str, list[int]] = {}
    for entry in ENTRIES:
        _, area, number = entry["id"].split("-")
        numbers.setdefault(area, []).append(int(number))
    gaps = {area: sorted(found) for area, found in numbers.items()}
    assert {area: list(range(1, len(found) + 1)) for area, found in gaps.items()} == gaps


@pytest.mark.parametrize("requirement_id", sorted(FIRST_SLICE))
def test_first_slice_ids_keep_their_level_and_subject(requirement_id: str) -> None:
    level, operation, words = FIRST_SLICE[requirement_id]
    (entry,) = [entry for entry in ENTRIES if entry["id"] == requirement_id]
    assert entry["level"] == level
    assert entry["operation"] == operation
    text = f"{entry['title']} {entry['notes']}".casefold()
    missing = [word for word in words if word.casefold() not in text]
    assert missing == []


def test_every_level_is_used() -> None:
    assert {entry["level"] for entry in ENTRIES} == LEVELS
