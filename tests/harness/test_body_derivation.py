"""The request-body derivation: each change it makes is the one its id says, and is invalid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.body_derivation import (
    NOT_JSON,
    NOT_UTF8,
    UNKNOWN_PROPERTY,
    DerivedBody,
    invalid_bodies,
    valid_bodies,
)
from harness.contract_cases import invalid_cases, request_schema_for, valid_cases
from harness.operations import OperationTable
from harness.schemas import SchemaStore

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 4},
        "kind": {"type": "string", "enum": ["A", "B"]},
        "flag": {"type": "boolean", "default": False},
        "count": {"type": ["integer", "null"]},
        "inner": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string"}},
        },
    },
    "examples": [{"name": "abc", "inner": {"id": "x"}}],
}
EXAMPLE = SCHEMA["examples"][0]


def _by_id() -> dict[str, DerivedBody]:
    return {case.id: case for case in invalid_bodies(SCHEMA, EXAMPLE)}


def test_ids_are_unique_and_readable() -> None:
    cases = invalid_bodies(SCHEMA, EXAMPLE)
    assert len({case.id for case in cases}) == len(cases)
    assert {"name missing", "flag is string", "inner.id missing", "empty body"} <= set(_by_id())


def test_each_required_property_goes_missing() -> None:
    cases = _by_id()
    assert cases["name missing"].json() == {"inner": {"id": "x"}}
    assert cases["inner.id missing"].json() == {"name": "abc", "inner": {}}


def test_each_property_gets_each_wrong_type_and_null() -> None:
    cases = _by_id()
    assert cases["name is integer"].json()["name"] == 123
    assert cases["flag is string"].json()["flag"] == ""
    assert cases["inner is array"].json()["inner"] == []
    assert cases["name is null"].json()["name"] is None
    assert "name is string" not in cases
    # A nullable property gets no null case, and an integer property no number case.
    assert "count is null" not in cases
    assert "count is integer" not in cases
    assert "count is string" in cases


def test_enum_length_and_closed_schema_cases() -> None:
    cases = _by_id()
    assert cases["kind not in enum"].json()["kind"] not in ("A", "B")
    assert cases["name under minLength 2"].json()["name"] == "x"
    assert cases["name over maxLength 4"].json()["name"] == "xxxxx"
    assert cases["body has an unknown property"].json()[UNKNOWN_PROPERTY] == "text"


def test_body_level_cases() -> None:
    cases = _by_id()
    assert cases["empty body"].raw == b""
    assert cases["body is an array"].json() == [EXAMPLE]
    assert cases["body is a string"].json() == "text"
    assert cases["body is null"].raw == b"null"
    assert cases["body is not JSON"].raw == NOT_JSON
    not_utf8 = cases["body is not UTF-8"].raw
    assert not_utf8 == b'{"name": "\xff\xfe\xfd", "inner": {"id": "x"}}'
    with pytest.raises(UnicodeDecodeError):
        not_utf8.decode("utf-8")
    assert invalid_bodies({"type": "object"}, {})[-1].raw == NOT_UTF8
    with pytest.raises(json.JSONDecodeError):
        json.loads(NOT_JSON)


def test_every_json_case_is_invalid_against_the_schema() -> None:
    validator = Draft202012Validator(SCHEMA)
    for case in invalid_bodies(SCHEMA, EXAMPLE):
        if case.kind in ("not-json", "not-utf8", "empty-body"):
            continue
        assert not validator.is_valid(case.json()), case.id


def test_no_empty_body_case_when_nothing_is_required() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert "empty body" not in {case.id for case in invalid_bodies(schema, {})}


def test_valid_bodies_add_required_only_and_defaults() -> None:
    bodies = {case.id: case.json() for case in valid_bodies(SCHEMA)}
    assert bodies == {
        "example 1": EXAMPLE,
        "required properties only": {"name": "abc"},
        "defaults spelled out": {"name": "abc", "flag": False},
    }
    for body in bodies.values():
        assert Draft202012Validator(SCHEMA).is_valid(body)


def test_every_derived_request_case_is_invalid_for_its_media_type() -> None:
    store = SchemaStore()
    cases = invalid_cases(store, OperationTable.load())
    assert len(cases) > 100
    for case in cases:
        if case.body.kind in ("not-json", "not-utf8", "empty-body"):
            continue
        selected = request_schema_for(case.operation.method, case.media_type)
        assert not store.is_valid(case.body.json(), selected), case.id


def test_a_self_change_body_without_current_password_is_not_sent_as_invalid() -> None:
    ids = {case.id for case in invalid_cases(SchemaStore(), OperationTable.load())}
    assert "resetSelf: currentPassword missing" not in ids
    assert "resetSelf: newPassword missing" in ids


def test_every_valid_request_case_validates() -> None:
    store = SchemaStore()
    for case in valid_cases(store, OperationTable.load()):
        assert case.operation.request_schema is not None
        assert store.is_valid(case.body.json(), case.operation.request_schema), case.id


def test_bodyless_operations_get_no_invalid_bodies() -> None:
    names = {case.operation.name for case in invalid_cases(SchemaStore(), OperationTable.load())}
    assert not names & {"forceChange", "unlock", "sendRecoveryCode"}
    assert {"set", "check", "recover"} <= names
