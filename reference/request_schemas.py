"""The operation table and request-body validation, read from ``schemas/``.

Schemas are registered by bare file name so relative ``$ref``s such as
``common.schema.json#/$defs/link`` resolve without any network access. Validation failures become
PingOne ``details`` entries: REQUIRED_VALUE for a missing property, INVALID_VALUE otherwise, with
``target`` the dotted path of the field. Messages describe the expectation, never the value sent.

Two validators read each schema. ``jsonschema`` (Python) is the authority: it finds every problem
and words the details. The same schema compiled by ``jsonschema_rs`` answers only "valid", in
well under a microsecond where the Python one takes 7 to 20: most bodies are valid, and this was
as much of a Password Check's cost as the argon2 verification (reference/README.md, "Check under
load"). A body the fast one does not accept, or cannot take, goes to the Python one, so refusals
and their details are unchanged; the two are built to assert the same formats (only ``email``),
and ``tests/reference/test_request_schemas.py`` checks that they agree.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from reference.errors import Detail, detail

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
EMAIL_ONLY = FormatChecker(formats=("email",))
LOCAL_SCHEMAS_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Operation:
    """One row of ``operations.yaml``."""

    name: str
    method: str
    media_types: tuple[str, ...]
    request: str | None

    @property
    def bodyless(self) -> bool:
        """True for operations the docs show without a body (their schema has no properties)."""
        if self.request is None:
            return True
        return "properties" not in load_schema(self.request)


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Returns the password operations from ``schemas/operations.yaml``."""
    table = yaml.safe_load((SCHEMAS_DIR / "operations.yaml").read_text(encoding="utf-8"))
    result = []
    for row in table["operations"]:
        media = [row["mediaType"], *(row.get("altMediaTypes") or [])]
        result.append(
            Operation(
                name=row["name"],
                method=row["method"].upper(),
                media_types=tuple(m.lower() for m in media if m),
                request=row.get("request"),
            )
        )
    return tuple(result)


@functools.cache
def _by_method_and_media_type() -> dict[tuple[str, str], tuple[Operation, ...]]:
    table: dict[tuple[str, str], tuple[Operation, ...]] = {}
    for op in operations():
        for media in op.media_types:
            table[(op.method, media)] = (*table.get((op.method, media), ()), op)
    return table


def operations_for(method: str, media_type: str) -> tuple[Operation, ...]:
    """Returns the operations a method and a lower-cased media type select (reset has two)."""
    return _by_method_and_media_type().get((method, media_type), ())


def media_types_known() -> set[str]:
    """Returns every media type the table names, lower-cased."""
    return {m for op in operations() for m in op.media_types}


def _schema_path(file_name: str) -> Path:
    local = LOCAL_SCHEMAS_DIR / file_name
    return local if local.exists() else SCHEMAS_DIR / file_name


@functools.cache
def load_schema(file_name: str) -> dict[str, Any]:
    """Returns a schema file's contents (``schemas/`` or the reference's own ``data/``)."""
    loaded: dict[str, Any] = json.loads(_schema_path(file_name).read_text(encoding="utf-8"))
    return loaded


def _retrieve(uri: str) -> Resource[Any]:
    """Loads a referenced schema by bare file name, only when a ``$ref`` needs it."""
    name = uri.split("#", 1)[0]
    if "/" in name or not name.endswith(".json"):
        raise LookupError("schemas are referenced by bare file name only")
    return Resource.from_contents(load_schema(name))


@functools.cache
def registry() -> Registry[Any]:
    """Returns a registry that resolves bare file names from ``schemas/`` (or ``data/``)."""
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


@functools.cache
def validator(file_name: str) -> Draft202012Validator:
    """Returns a Draft 2020-12 validator for one schema file."""
    # The one format the reference asserts: an email address needs an "@" (a malformed address
    # is invalid data for Create User, as the schema says); other formats stay annotations.
    return Draft202012Validator(
        load_schema(file_name), registry=registry(), format_checker=EMAIL_ONLY
    )


@functools.cache
def _declared_formats() -> frozenset[str]:
    """Every ``format`` name any schema file the reference can load declares."""
    names: set[str] = set()
    for path in (*SCHEMAS_DIR.glob("*.json"), *LOCAL_SCHEMAS_DIR.glob("*.json")):
        stack: list[Any] = [load_schema(path.name)]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if isinstance(item.get("format"), str):
                    names.add(item["format"])
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return frozenset(names)


def _asserts_format(name: str) -> Any:
    # The Python validator's own check for the one asserted format; any other format passes, as
    # an annotation does there.
    return lambda instance: EMAIL_ONLY.conforms(instance, name)


def _retrieve_contents(uri: str) -> Any:
    # A relative "$ref" to a bare file name arrives resolved against the default base URI.
    return _retrieve(uri.rsplit("/", 1)[-1]).contents


@functools.cache
def fast_validator(file_name: str) -> jsonschema_rs.Validator:
    """Returns the schema compiled by jsonschema_rs, asserting the same formats as ``validator``.

    Every format a schema file declares is given the Python validator's own check, so that the
    fast validator asserts ``email`` the same way and no other format at all.
    """
    return jsonschema_rs.Draft202012Validator(
        load_schema(file_name),
        retriever=_retrieve_contents,
        validate_formats=True,
        formats={name: _asserts_format(name) for name in _declared_formats()},
    )


def accepts(file_name: str, body: Any) -> bool:
    """True when the fast validator finds ``body`` valid; False when it does not, or cannot tell."""
    try:
        return fast_validator(file_name).is_valid(body)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False  # a value it cannot take (the Python validator decides)


def validate(file_name: str, body: Any) -> list[Detail]:
    """Returns PingOne details for every way ``body`` violates the schema (empty when valid)."""
    if accepts(file_name, body):
        return []
    errors = sorted(validator(file_name).iter_errors(body), key=lambda e: list(e.path))
    details: list[Detail] = []
    seen: set[tuple[str, str | None]] = set()
    for error in errors:
        for entry in _details_for(error):
            key = (entry["code"], entry.get("target"))
            if key not in seen:
                seen.add(key)
                details.append(entry)
    return details


def _target(path: Any) -> str | None:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else None


def _details_for(error: ValidationError) -> list[Detail]:
    base = _target(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        return [
            detail(
                "REQUIRED_VALUE",
                f"{name} is required",
                f"{base}.{name}" if base else str(name),
            )
            for name in missing
        ]
    return [detail("INVALID_VALUE", _expectation(error, base), base)]


def _expectation(error: ValidationError, target: str | None) -> str:
    subject = target or "The request body"
    keyword = error.validator
    if keyword == "type":
        return f"{subject} must be of type {error.validator_value}"
    if keyword == "minLength":
        return f"{subject} must be at least {error.validator_value} characters long"
    if keyword == "enum":
        return f"{subject} must be one of {', '.join(map(str, error.validator_value))}"
    return f"{subject} is not valid ({keyword})"
