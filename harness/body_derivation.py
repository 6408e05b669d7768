"""Invalid and valid request bodies derived from a request body's JSON Schema.

`invalid_bodies(schema, example, resolve)` starts from one valid example and changes one thing
at a time, so a rejection can only come from that change: each required property missing, each
property of each wrong JSON type, `null` where the schema does not allow it, a value outside an
`enum`, a string under `minLength` or over `maxLength`, an unknown property where the schema is
closed (`additionalProperties: false`), nested objects of the example alike (dotted paths), and
the body as a whole: empty (where the schema requires a property), a JSON array or scalar instead
of an object, bytes that are not JSON, and bytes that are not UTF-8.

`valid_bodies(schema)` is every `examples` entry plus, where the examples leave them out, the
body with only the required properties and the body with every defaulted property at its default.

Each body carries a short readable id (`value missing`, `password is integer`) and is already
encoded as the bytes to send. The functions are pure: the suites decide what to send and expect.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
Resolver = Callable[[Schema], Schema]

# The one sample value of each JSON type a wrong-type case puts in place of the right one. The
# string is empty so that no made-up value lands in a secret field (`password` is an object in
# set): whatever crosses the wire in a password field is a secret that no report may show.
TYPE_SAMPLES: dict[str, Any] = {
    "string": "",
    "integer": 123,
    "boolean": True,
    "array": [],
    "object": {},
}
# Types that satisfy a declared type (an integer is a number in JSON Schema).
_SATISFIES: dict[str, set[str]] = {"number": {"integer", "number"}}
UNKNOWN_PROPERTY = "unexpectedProperty"
NOT_JSON = b"value=not-json"
NOT_UTF8 = b'{"value": "\xff\xfe\xfd"}'
_INVALID_UTF8 = b"\xff\xfe\xfd"
_MARK = "__not_utf8__"


@dataclass(frozen=True)
class DerivedBody:
    """One request body: a readable id, what kind of change it is, and the bytes to send."""

    id: str
    kind: str
    raw: bytes

    def json(self) -> Any:
        """The body as JSON (raises ValueError for the non-JSON kinds)."""
        return json.loads(self.raw)


def encode(value: Any) -> bytes:
    """The UTF-8 JSON bytes of a value, as a client sends them."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def no_refs(schema: Schema) -> Schema:
    """A resolver for schemas without `$ref`: returns its argument."""
    return schema


def _types(schema: Schema) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


def _accepts(types: set[str], candidate: str) -> bool:
    return any(candidate == t or candidate in _SATISFIES.get(t, set()) for t in types)


def _with(body: Any, path: tuple[str, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


def _without(body: Any, path: tuple[str, ...]) -> Any:
    changed = copy.deepcopy(body)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return changed


def _property_cases(
    schema: Schema, body: Any, here: Any, path: tuple[str, ...], resolve: Resolver
) -> Iterator[DerivedBody]:
    """Cases for the object `schema` whose instance in the example is `here`, at `path`."""
    schema = resolve(schema)
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if isinstance(here, dict) and name in here:
            yield DerivedBody(
                f"{'.'.join((*path, name))} missing",
                "missing",
                encode(_without(body, (*path, name))),
            )
    for name, raw_property in properties.items():
        prop = resolve(raw_property)
        where = (*path, name)
        label = ".".join(where)
        types = _types(prop)
        present = isinstance(here, dict) and name in here
        if types:
            for candidate, sample in TYPE_SAMPLES.items():
                if not _accepts(types, candidate):
                    yield DerivedBody(
                        f"{label} is {candidate}", "wrong-type", encode(_with(body, where, sample))
                    )
            if "null" not in types:
                yield DerivedBody(f"{label} is null", "null", encode(_with(body, where, None)))
        if isinstance(prop.get("enum"), list) and "string" in types:
            outside = "NOT_" + "_".join(str(v) for v in prop["enum"])[:40]
            yield DerivedBody(f"{label} not in enum", "enum", encode(_with(body, where, outside)))
        if "string" in types and isinstance(prop.get("minLength"), int) and prop["minLength"] > 0:
            short = "x" * (prop["minLength"] - 1)
            yield DerivedBody(
                f"{label} under minLength {prop['minLength']}",
                "min-length",
                encode(_with(body, where, short)),
            )
        if "string" in types and isinstance(prop.get("maxLength"), int):
            long = "x" * (prop["maxLength"] + 1)
            yield DerivedBody(
                f"{label} over maxLength {prop['maxLength']}",
                "max-length",
                encode(_with(body, where, long)),
            )
        if present and "object" in types and isinstance(here[name], dict):
            yield from _property_cases(prop, body, here[name], where, resolve)
    if schema.get("additionalProperties") is False and isinstance(here, dict):
        where = (*path, UNKNOWN_PROPERTY)
        label = ".".join(path) or "body"
        yield DerivedBody(
            f"{label} has an unknown property",
            "unknown-property",
            encode(_with(body, where, "text")),
        )


def not_utf8(example: Any) -> bytes:
    """The example with its first string property's value replaced by bytes that are not UTF-8.

    Everything else stays valid, so a server that decodes leniently would accept the body; an
    example without a string property gives a small fixed body.
    """
    if isinstance(example, dict):
        for key, value in example.items():
            if isinstance(value, str):
                marked = encode({**example, key: _MARK})
                return marked.replace(_MARK.encode(), _INVALID_UTF8, 1)
    return NOT_UTF8


def invalid_bodies(schema: Schema, example: Any, resolve: Resolver = no_refs) -> list[DerivedBody]:
    """Every invalid body derived from `schema`, each one change away from `example`.

    `resolve` follows a `$ref` (returns the schema it points at; the schema itself otherwise).
    Ids are unique; a body derived twice is kept once.
    """
    root = resolve(schema)
    found: list[DerivedBody] = list(_property_cases(root, example, example, (), resolve))
    if root.get("required"):
        found.append(DerivedBody("empty body", "empty-body", b""))
    if "object" in _types(root):
        found += [
            DerivedBody("body is an array", "not-an-object", encode([example])),
            DerivedBody("body is a string", "not-an-object", encode("text")),
            DerivedBody("body is a number", "not-an-object", encode(123)),
            DerivedBody("body is null", "not-an-object", encode(None)),
        ]
    found += [
        DerivedBody("body is not JSON", "not-json", NOT_JSON),
        DerivedBody("body is not UTF-8", "not-utf8", not_utf8(example)),
    ]
    unique: dict[str, DerivedBody] = {}
    for case in found:
        unique.setdefault(case.id, case)
    return list(unique.values())


def valid_bodies(schema: Schema, resolve: Resolver = no_refs) -> list[DerivedBody]:
    """The schema's examples, then the required-only and all-defaults bodies they leave out.

    Generated bodies take their values from the first example that has the property; they are
    kept only when no example already is that body.
    """
    root = resolve(schema)
    examples = [e for e in root.get("examples") or [] if isinstance(e, dict)]
    found = [
        DerivedBody(f"example {index + 1}", "example", encode(example))
        for index, example in enumerate(examples)
    ]
    if not examples:
        return found
    properties = root.get("properties") or {}
    values: dict[str, Any] = {}
    for example in examples:
        for key, value in example.items():
            values.setdefault(key, value)
    required = [name for name in root.get("required") or [] if name in values]
    minimal = {name: values[name] for name in required}
    defaults = dict(minimal)
    for name, raw_property in properties.items():
        prop = resolve(raw_property)
        if "default" in prop:
            defaults[name] = prop["default"]
    seen = [json.loads(case.raw) for case in found]
    for label, body in (("required properties only", minimal), ("defaults spelled out", defaults)):
        if body not in seen:
            found.append(DerivedBody(label, "generated", encode(body)))
            seen.append(body)
    return found
