"""The reference's two request validators agree: the fast one never accepts what the Python one
refuses, and the Python one still words every refusal.

``request_schemas.validate`` answers a body the fast (``jsonschema_rs``) validator accepts at
once; anything else goes to the Python ``jsonschema`` validator, the authority. So a body the fast
one accepts and the Python one refuses would be let through: these tests draw bodies shaped like
each schema's own (its property names, its examples with one value changed or dropped) and
arbitrary JSON, and require the same answer from both, format assertions included.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import request_schemas

SCHEMA_FILES = sorted(
    path.name
    for folder in (request_schemas.SCHEMAS_DIR, request_schemas.LOCAL_SCHEMAS_DIR)
    for path in folder.glob("*.schema.json")
)
# The schemas the reference validates request bodies with: every operation's and the user ones.
REQUEST_SCHEMAS = sorted(
    {op.request for op in request_schemas.operations() if op.request}
    | {"reference-user.request.schema.json", "user-create.request.schema.json"}
)


def _walk(value: Any) -> Any:
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@functools.cache
def _words() -> list[str]:
    """Property names and enum strings of every schema file (any of them may be reached)."""
    words: set[str] = set()
    for name in SCHEMA_FILES:
        for item in _walk(request_schemas.load_schema(name)):
            if isinstance(item, dict):
                words.update(k for k in item.get("properties", {}) if isinstance(k, str))
                words.update(v for v in item.get("enum", []) if isinstance(v, str))
    return sorted(words)


def _python_accepts(file_name: str, body: Any) -> bool:
    return next(iter(request_schemas.validator(file_name).iter_errors(body)), None) is None


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([1.0, -0.0, 0.5, 1e308, 2.0**64])
    | st.text(max_size=12)
    | st.sampled_from(["", "a@b", "ab", "@", "2026-12-07T10:00:00Z", "not a date", "/x", "é"])
)


def _bodies(file_name: str) -> st.SearchStrategy[Any]:
    words = _words()
    keys = st.sampled_from(words) | st.text(max_size=6)
    values = st.recursive(
        SCALARS | st.sampled_from(words),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=10,
    )
    examples = request_schemas.load_schema(file_name).get("examples") or [{}]
    return values | st.builds(_mutated, st.sampled_from(examples), st.randoms(), values)


def _mutated(example: Any, random: Any, replacement: Any) -> Any:
    """The example with one value (at any depth) replaced, dropped, or joined by a new key."""
    body = copy.deepcopy(example)
    containers = [item for item in _walk(body) if isinstance(item, dict) and item]
    if not containers:
        return replacement
    target = random.choice(containers)
    key = random.choice(sorted(target))
    action = random.choice(["replace", "drop", "add"])
    if action == "replace":
        target[key] = replacement
    elif action == "drop":
        del target[key]
    else:
        target[f"{key}Extra"] = replacement
    return body


@pytest.mark.parametrize("file_name", SCHEMA_FILES)
def test_the_fast_validator_agrees_with_the_python_one(file_name: str) -> None:
    @settings(
        max_examples=150 if file_name in REQUEST_SCHEMAS else 40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=_bodies(file_name))
    def agree(body: Any) -> None:
        fast = request_schemas.accepts(file_name, body)
        assert fast == _python_accepts(file_name, body), json.dumps(body, default=repr)[:300]

    agree()


@pytest.mark.parametrize("file_name", REQUEST_SCHEMAS)
def test_every_example_of_a_request_schema_is_accepted_by_both(file_name: str) -> None:
    examples = request_schemas.load_schema(file_name).get("examples") or []
    for example in examples:
        assert request_schemas.accepts(file_name, example)
        assert _python_accepts(file_name, example)


@pytest.mark.parametrize(
    ("email", "valid"), [("someone@example.com", True), ("a@b", True), ("no-at-sign", False)]
)
def test_both_assert_the_email_format_alike(email: str, valid: bool) -> None:
    body = {"username": "someone", "email": email}
    assert request_schemas.accepts("user-create.request.schema.json", body) is valid
    assert _python_accepts("user-create.request.schema.json", body) is valid


def test_formats_other_than_email_are_annotations_in_both() -> None:
    # password-state declares date-time (lastChangedAt) and, through links, uri-reference.
    assert {"date-time", "uri-reference", "email"} <= request_schemas._declared_formats()
    state = copy.deepcopy(request_schemas.load_schema("password-state.schema.json")["examples"][0])
    state["lastChangedAt"] = "not a date"
    assert request_schemas.accepts("password-state.schema.json", state)
    assert _python_accepts("password-state.schema.json", state)


def test_a_valid_body_is_answered_without_the_python_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(file_name: str) -> Any:
        raise AssertionError("the Python validator was consulted for a valid body")

    monkeypatch.setattr(request_schemas, "validator", refuse)
    assert request_schemas.validate("password-check.request.schema.json", {"password": "x"}) == []


def test_an_invalid_body_is_worded_by_the_python_validator() -> None:
    details = request_schemas.validate("password-check.request.schema.json", {"password": 5})
    assert details == [
        {
            "code": "INVALID_VALUE",
            "target": "password",
            "message": "password must be of type string",
        }
    ]


@pytest.mark.parametrize("body", [{"password": "x"}, {"password": 5}, {}])
def test_a_body_the_fast_validator_cannot_take_goes_to_the_python_one(
    monkeypatch: pytest.MonkeyPatch, body: Any
) -> None:
    file_name = "password-check.request.schema.json"
    expected = request_schemas.validate(file_name, body)

    class Fails:
        def is_valid(self, instance: Any) -> bool:
            raise ValueError("cannot convert")

    monkeypatch.setattr(request_schemas, "fast_validator", lambda name: Fails())
    assert request_schemas.accepts(file_name, body) is False
    assert request_schemas.validate(file_name, body) == expected


def test_schema_files_are_all_covered() -> None:
    assert set(REQUEST_SCHEMAS) <= set(SCHEMA_FILES)
    assert all(Path(request_schemas._schema_path(name)).exists() for name in SCHEMA_FILES)
