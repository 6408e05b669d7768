"""The JSON Schema files in `schemas/` are valid, self-consistent and not vacuous.

Every file is a Draft 2020-12 schema with a title, a description citing its source and examples;
every example validates (formats checked); every `$ref` resolves through a registry keyed by bare
file name, the way the harness and the reference load them; hand-written invalid response and
resource bodies, each one change away from a valid example, are rejected; and the request-body
derivation of the contract suite still produces the invalid request bodies once written here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
SCHEMA_FILES = sorted(path.name for path in SCHEMAS_DIR.glob("*.json"))
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# Files of shared definitions: they cite no single page; the files using them do.
DEFINITIONS_ONLY = {"common.schema.json"}
# Schemas of the project's own data files: they describe this project, not a Ping page.
PROJECT_DATA = {"requirements.schema.json", "operations.schema.json", "untested.schema.json"}


def _load(name: str) -> dict[str, Any]:
    contents = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(contents, dict), f"{name} holds no JSON object"
    return contents


SCHEMAS = {name: _load(name) for name in SCHEMA_FILES}
REGISTRY: Registry[Any] = Registry().with_resources(
    (name, Resource.from_contents(schema, default_specification=DRAFT202012))
    for name, schema in SCHEMAS.items()
)


def validator(name: str) -> Draft202012Validator:
    """A format-checking validator for one schema file, resolving references by file name."""
    return Draft202012Validator(
        SCHEMAS[name], registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_schema_folder_holds_the_expected_files() -> None:
    expected = {
        "common.schema.json",
        "error.schema.json",
        "error-limited.schema.json",
        "password-state.schema.json",
        "password-check.response.schema.json",
        "password-result.response.schema.json",
        "password-policy.schema.json",
        "password-policies.collection.schema.json",
        "token.response.schema.json",
        "user.schema.json",
        "users.collection.schema.json",
        "user-create.request.schema.json",
        "user-import.request.schema.json",
    }
    assert expected <= set(SCHEMA_FILES), sorted(expected - set(SCHEMA_FILES))


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_against_the_2020_12_metaschema(name: str) -> None:
    schema = SCHEMAS[name]
    assert schema.get("$schema") == DRAFT_2020_12
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_has_title_description_and_examples(name: str) -> None:
    schema = SCHEMAS[name]
    assert isinstance(schema.get("title"), str)
    assert schema["title"].strip()
    assert isinstance(schema.get("description"), str)
    assert schema["description"].strip()
    assert isinstance(schema.get("examples"), list)
    assert schema["examples"], "no examples"
    if name not in DEFINITIONS_ONLY | PROJECT_DATA:
        assert "https://" in schema["description"], "the description cites no source"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_has_no_id_anywhere(name: str) -> None:
    def ids(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            if "$id" in node:
                yield node["$id"]
            for value in node.values():
                yield from ids(value)
        elif isinstance(node, list):
            for item in node:
                yield from ids(item)

    assert list(ids(SCHEMAS[name])) == [], "an $id would make tools fetch it"


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        pytest.param(name, ref, id=f"{name}->{ref}")
        for name in SCHEMA_FILES
        for ref in sorted(set(_refs(SCHEMAS[name])))
    ],
)
def test_every_ref_resolves_through_the_file_name_registry(name: str, ref: str) -> None:
    assert not ref.startswith(("http:", "https:")), "cross-file references use bare file names"
    resolved = REGISTRY.resolver(base_uri=name).lookup(ref)
    assert isinstance(resolved.contents, dict | bool)


@pytest.mark.parametrize(
    ("name", "index"),
    [
        pytest.param(name, index, id=f"{name}#{index}")
        for name in SCHEMA_FILES
        for index in range(len(SCHEMAS[name].get("examples", [])))
    ],
)
def test_every_example_validates(name: str, index: int) -> None:
    example = SCHEMAS[name]["examples"][index]
    errors = [
        f"{error.json_path}: {error.message}" for error in validator(name).iter_errors(example)
    ]
    assert errors == []


def test_the_set_pages_sample_response_is_the_first_password_state_example() -> None:
    sample = SCHEMAS["password-state.schema.json"]["examples"][0]
    assert sample["status"] == "OK"
    assert sample["lastChangedAt"] == "2025-04-11T16:02:03.217Z"
    assert list(sample) == [
        "_links",
        "environment",
        "user",
        "passwordPolicy",
        "status",
        "lastChangedAt",
    ]


# --- Invalid bodies -------------------------------------------------------------------------------
# Each case starts from one valid example of the schema and changes one thing, so a rejection can
# only come from that change.

_REMOVE = object()


@dataclass(frozen=True)
class Invalid:
    """One invalid body: `changes` maps a JSON path (tuple of keys/indexes) to a new value."""

    schema: str
    description: str
    changes: dict[tuple[str | int, ...], Any] = field(default_factory=dict)
    example: int = 0
    replace_with: Any = _REMOVE

    def instance(self) -> Any:
        if self.replace_with is not _REMOVE:
            return copy.deepcopy(self.replace_with)
        body = copy.deepcopy(SCHEMAS[self.schema]["examples"][self.example])
        for path, value in self.changes.items():
            parent = body
            for key in path[:-1]:
                parent = parent[key]
            if value is _REMOVE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        return body


def _drop(*path: str | int) -> dict[tuple[str | int, ...], Any]:
    return {path: _REMOVE}


def _set(value: Any, *path: str | int) -> dict[tuple[str | int, ...], Any]:
    return {path: value}


STATE = "password-state.schema.json"
CHECK = "password-check.response.schema.json"
RESULT = "password-result.response.schema.json"
ERROR = "error.schema.json"
LIMITED = "error-limited.schema.json"
CREATE = "user-create.request.schema.json"
IMPORT = "user-import.request.schema.json"
USER = "user.schema.json"
USERS = "users.collection.schema.json"
POLICY = "password-policy.schema.json"
POLICIES = "password-policies.collection.schema.json"
TOKEN = "token.response.schema.json"
SPECIAL_SET = "~!@#$%^&*()-_=+[]{}|;:,.<>/?"
INNER = ("details", 0, "innerError")

INVALID = [
    Invalid(STATE, "status in lowercase", _set("ok", "status")),
    Invalid(STATE, "status not in the data model", _set("LOCKED", "status")),
    Invalid(STATE, "missing user", _drop("user")),
    Invalid(STATE, "missing environment", _drop("environment")),
    Invalid(STATE, "missing status", _drop("status")),
    Invalid(STATE, "user without id", _set({}, "user")),
    Invalid(STATE, "empty user id", _set("", "user", "id")),
    Invalid(STATE, "user as a bare string", _set("46f500a3", "user")),
    Invalid(STATE, "lastChangedAt yesterday", _set("yesterday", "lastChangedAt")),
    Invalid(STATE, "lastChangedAt as epoch number", _set(1744387323, "lastChangedAt")),
    Invalid(STATE, "negative secondsUntilUnlock", _set(-1, "secondsUntilUnlock"), example=2),
    Invalid(STATE, "fractional secondsUntilUnlock", _set(1.5, "secondsUntilUnlock"), example=2),
    Invalid(STATE, "link without href", _set({}, "_links", "self")),
    Invalid(STATE, "link href not a string", _set(123, "_links", "self", "href")),
    Invalid(STATE, "embedded policy without id", _drop("_embedded", "passwordPolicy", "id"), 3),
    Invalid(STATE, "body is an array", replace_with=[]),
    Invalid(CHECK, "status NO_PASSWORD on a 200", _set("NO_PASSWORD", "status")),
    Invalid(CHECK, "status PASSWORD_LOCKED_OUT on a 200", _set("PASSWORD_LOCKED_OUT", "status")),
    Invalid(CHECK, "status outside the state enum", _set("VALID", "status")),
    Invalid(CHECK, "missing status", _drop("status")),
    Invalid(CHECK, "lastChangedAt yesterday", _set("yesterday", "lastChangedAt")),
    Invalid(RESULT, "status in lowercase", _set("ok", "status")),
    Invalid(RESULT, "user as a bare string", _set("46f500a3", "user")),
    Invalid(RESULT, "secondsUntilUnlock as a string", _set("10", "secondsUntilUnlock")),
    Invalid(RESULT, "body is an array", replace_with=[]),
    Invalid(ERROR, "missing code", _drop("code")),
    Invalid(ERROR, "missing id", _drop("id")),
    Invalid(ERROR, "missing message", _drop("message")),
    Invalid(ERROR, "empty id", _set("", "id")),
    Invalid(ERROR, "empty code", _set("", "code")),
    Invalid(ERROR, "numeric code", _set(400, "code")),
    Invalid(ERROR, "details not an array", _set({"code": "X", "message": "m"}, "details")),
    Invalid(ERROR, "detail without message", _drop("details", 0, "message"), example=1),
    Invalid(ERROR, "detail without code", _drop("details", 0, "code"), example=1),
    Invalid(ERROR, "negative failuresRemaining", _set(-1, *INNER, "failuresRemaining"), 1),
    Invalid(ERROR, "failuresRemaining as a string", _set("4", *INNER, "failuresRemaining"), 1),
    Invalid(ERROR, "unsatisfied list as a string", _set("x", *INNER, "unsatisfiedRequirements"), 2),
    Invalid(LIMITED, "missing code", _drop("code")),
    Invalid(LIMITED, "missing message", _drop("message")),
    Invalid(LIMITED, "numeric id", _set(5, "id"), example=1),
    Invalid(LIMITED, "retryAfter not a date-time", _set("soon", *INNER, "retryAfter")),
    Invalid(CREATE, "missing username", _drop("username")),
    Invalid(CREATE, "empty username", _set("", "username")),
    Invalid(CREATE, "email without @", _set("alice.example.com", "email")),
    Invalid(CREATE, "population without id", _set({}, "population")),
    Invalid(CREATE, "unknown identity provider type", _set("FOO", "identityProvider", "type"), 1),
    Invalid(CREATE, "enabled as a string", _set("yes", "enabled"), example=1),
    Invalid(IMPORT, "missing username", _drop("username")),
    Invalid(IMPORT, "password value as a number", _set(5, "password", "value")),
    Invalid(IMPORT, "forceChange as a string", _set("true", "password", "forceChange")),
    Invalid(IMPORT, "gateway without id", _drop("password", "external", "gateway", "id"), 2),
    Invalid(USER, "missing id", _drop("id")),
    Invalid(USER, "missing environment", _drop("environment")),
    Invalid(USER, "missing username", _drop("username")),
    Invalid(USER, "account status UNLOCKED", _set("UNLOCKED", "account", "status")),
    Invalid(USER, "account without canAuthenticate", _drop("account", "canAuthenticate")),
    Invalid(USER, "createdAt yesterday", _set("yesterday", "createdAt")),
    Invalid(USERS, "missing _embedded", _drop("_embedded")),
    Invalid(USERS, "user without username", _drop("_embedded", "users", 0, "username")),
    Invalid(USERS, "negative count", _set(-1, "count")),
    Invalid(POLICY, "missing name", _drop("name")),
    Invalid(POLICY, "missing notSimilarToCurrent", _drop("notSimilarToCurrent")),
    Invalid(POLICY, "excludesCommonlyUsed as a string", _set("yes", "excludesCommonlyUsed")),
    Invalid(POLICY, "length.min below 8", _set(7, "length", "min")),
    Invalid(POLICY, "length.min above 32", _set(33, "length", "min")),
    Invalid(POLICY, "minCharacters key outside the four sets", _set(1, "minCharacters", "abc")),
    Invalid(POLICY, "minCharacters count as a string", _set("1", "minCharacters", SPECIAL_SET)),
    Invalid(POLICY, "lockout.failureCount zero", _set(0, "lockout", "failureCount")),
    Invalid(POLICY, "history.count zero", _set(0, "history", "count")),
    Invalid(POLICY, "qwerty sequence maxLength 4", _set({"maxLength": 4}, "qwertySequenceRule")),
    Invalid(
        POLICY, "alphabet sequence maxLength 1", _set({"maxLength": 1}, "alphabetSequenceRule")
    ),
    Invalid(POLICY, "createdAt yesterday", _set("yesterday", "createdAt")),
    Invalid(POLICIES, "missing passwordPolicies", _drop("_embedded", "passwordPolicies")),
    Invalid(POLICIES, "policy without name", _drop("_embedded", "passwordPolicies", 1, "name")),
    Invalid(TOKEN, "token_type mac", _set("mac", "token_type")),
    Invalid(TOKEN, "token_type with padding", _set(" Bearer", "token_type")),
    Invalid(TOKEN, "expires_in zero", _set(0, "expires_in")),
    Invalid(TOKEN, "expires_in as a string", _set("3600", "expires_in")),
    Invalid(TOKEN, "missing access_token", _drop("access_token")),
]


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=f"{case.schema}: {case.description}") for case in INVALID]
)
def test_invalid_body_is_rejected(case: Invalid) -> None:
    assert case.schema in SCHEMAS, f"unknown schema {case.schema}"
    if case.replace_with is _REMOVE:
        original = SCHEMAS[case.schema]["examples"][case.example]
        assert validator(case.schema).is_valid(original), "the base example must be valid"
    assert not validator(case.schema).is_valid(case.instance())


def test_every_key_schema_has_invalid_cases() -> None:
    covered = {case.schema for case in INVALID}
    key_schemas = {STATE, CHECK, RESULT, ERROR, LIMITED, CREATE, IMPORT, USER, POLICY, TOKEN}
    assert key_schemas <= covered, sorted(key_schemas - covered)


# --- Invalid request bodies -----------------------------------------------------------------------
# They are the contract suite's now: derived from the request schemas (harness/body_derivation.py)
# and sent to the target. The bodies once written here by hand are its data; derivation must keep
# producing each of them.
KNOWN_INVALID_REQUESTS = Path(__file__).resolve().parents[1] / "suites/contract/cases"


def _known_invalid_requests() -> list[dict[str, Any]]:
    document = yaml.safe_load(
        (KNOWN_INVALID_REQUESTS / "known-invalid-bodies.yaml").read_text(encoding="utf-8")
    )
    cases: list[dict[str, Any]] = document["cases"]
    return cases


@pytest.mark.parametrize(
    "known", [pytest.param(case, id=case["case"]) for case in _known_invalid_requests()]
)
def test_the_derivation_still_produces_the_once_hand_written_invalid_request(
    known: dict[str, Any],
) -> None:
    from harness.contract_cases import invalid_cases
    from harness.operations import OperationTable
    from harness.schemas import SchemaStore

    derived = {case.id: case for case in invalid_cases(SchemaStore(), OperationTable.load())}
    assert known["case"] in derived, sorted(derived)
    case = derived[known["case"]]
    assert case.body.json() == known["body"]
    selected = case.operation.request_schema
    assert selected is not None
    assert not validator(selected).is_valid(known["body"])
