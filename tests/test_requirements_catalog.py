"""The catalog data checks itself: `schemas/requirements.yaml`, `operations.yaml` and
`untested.yaml` match their JSON Schemas, and every requirement is accounted for.

What a valid entry looks like lives in the schemas (`requirements.schema.json`: fields, id
pattern, levels, classes, sources, short titles without "should"). This module keeps only what a
schema cannot say: ids and titles unique, numbering without gaps, operation names that exist,
the schema's enums equal to the harness's lists, and coverage: every requirement has a suite
test or an entry in untested.yaml (never both), and every id a test or untested.yaml names exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.data_files import schema_errors
from harness.requirements import (
    CONFORMANCE_CLASSES,
    REQUIREMENTS_SCHEMA,
    SOURCES,
    UNTESTED_FILE,
    Level,
    RequirementCatalog,
    load_untested,
)
from tests.conftest import run_pytest

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"


def _yaml(name: str) -> Any:
    return yaml.safe_load((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


CATALOG: dict[str, Any] = _yaml("requirements.yaml")
ENTRIES: list[dict[str, Any]] = CATALOG["requirements"]
REQUIREMENT_SCHEMA: dict[str, Any] = json.loads(REQUIREMENTS_SCHEMA.read_text(encoding="utf-8"))

OPERATION_NAMES = {operation["name"] for operation in _yaml("operations.yaml")["operations"]}
OPENAPI = _yaml("openapi.yaml")
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


# --- the files match their schemas ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("data_file", "schema_file"),
    [
        ("requirements.yaml", "requirements.schema.json"),
        ("operations.yaml", "operations.schema.json"),
        ("untested.yaml", "untested.schema.json"),
    ],
)
def test_data_file_matches_its_schema(data_file: str, schema_file: str) -> None:
    assert schema_errors(_yaml(data_file), SCHEMAS_DIR / schema_file) == []


def test_the_harness_loads_the_catalog_and_the_untested_list() -> None:
    catalog = RequirementCatalog.load()
    assert len(catalog) == len(ENTRIES)
    assert load_untested()


@pytest.mark.parametrize(
    ("field", "harness_values"),
    [
        ("needs", SOURCES),
        ("class", CONFORMANCE_CLASSES),
        ("level", tuple(level.value for level in Level)),
    ],
)
def test_schema_enums_are_the_harness_lists(field: str, harness_values: tuple[str, ...]) -> None:
    """The schema and `harness.requirements` name the same sources, classes and levels."""
    spec = REQUIREMENT_SCHEMA["$defs"]["requirement"]["properties"][field]
    enum = spec["items"]["enum"] if field == "needs" else spec["enum"]
    assert list(enum) == list(harness_values)


# --- what a schema cannot say --------------------------------------------------------------------
def test_catalog_has_the_expected_size() -> None:
    assert len(ENTRIES) >= 30


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
def test_entry_names_a_known_operation(entry: dict[str, Any]) -> None:
    assert entry["operation"] in KNOWN_OPERATIONS


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


def test_every_level_and_class_is_used() -> None:
    assert {entry["level"] for entry in ENTRIES} == {level.value for level in Level}
    assert {entry["class"] for entry in ENTRIES} == set(CONFORMANCE_CLASSES)


# --- coverage: every requirement is tested or listed as untested ----------------------------------
@pytest.fixture(scope="module")
def tested_ids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Requirement id → the suite tests naming it, from a collect-only child run of the suites."""
    record = tmp_path_factory.mktemp("collect") / "record.json"
    run = run_pytest(
        [
            "suites",
            "--collect-only",
            "-q",
            "-p",
            "tests.faults.recorder",
            "--fault-record",
            str(record),
        ]
    )
    assert run.returncode == 0, f"collecting the suites failed:\n{run.output[-3000:]}"
    items: dict[str, dict[str, Any]] = json.loads(record.read_text())
    assert items, "the suites collected no test"
    found: dict[str, set[str]] = {}
    for node, item in items.items():
        for requirement_id in item["requirements"]:
            found.setdefault(requirement_id, set()).add(node)
    return found


def _untested() -> dict[str, str]:
    return {entry.id: entry.reason for entry in load_untested(UNTESTED_FILE)}


def test_untested_ids_are_listed_once() -> None:
    ids = [entry.id for entry in load_untested(UNTESTED_FILE)]
    assert sorted(ids) == sorted(set(ids))


def test_every_requirement_has_a_suite_test_or_an_untested_reason(
    tested_ids: dict[str, set[str]],
) -> None:
    known = {entry["id"] for entry in ENTRIES}
    unaccounted = sorted(known - set(tested_ids) - set(_untested()))
    assert unaccounted == [], "no suite test and no line in untested.yaml"


def test_untested_lists_no_tested_and_no_unknown_requirement(
    tested_ids: dict[str, set[str]],
) -> None:
    known = {entry["id"] for entry in ENTRIES}
    listed = set(_untested())
    assert sorted(listed - known) == [], "untested.yaml names ids the catalog does not have"
    tested = {rid: sorted(tested_ids[rid]) for rid in sorted(listed & set(tested_ids))}
    assert tested == {}, "untested.yaml lists requirements that have suite tests"


def test_suite_tests_name_only_known_requirements(tested_ids: dict[str, set[str]]) -> None:
    known = {entry["id"] for entry in ENTRIES}
    unknown = {rid: sorted(nodes) for rid, nodes in tested_ids.items() if rid not in known}
    assert unknown == {}
