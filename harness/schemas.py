"""JSON Schema validation against the files in `schemas/`.

Every `*.json` file in the schema folder is loaded into one `referencing.Registry`, keyed by its
bare file name (the files carry no `$id`; cross-file references are relative names such as
`common.schema.json#/$defs/link`). Validation uses Draft 2020-12 with format checking; a failure
reports every error with the JSON path of the offending value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.operations import SCHEMAS_DIR
from harness.redaction import Redactor


class SchemaStore:
    """The schema files of one folder, ready to validate instances by file name."""

    def __init__(self, directory: Path = SCHEMAS_DIR, redactor: Redactor | None = None) -> None:
        self.directory = directory
        self._redactor = redactor or Redactor()
        self._schemas: dict[str, dict[str, Any]] = {}
        for path in sorted(directory.glob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(contents, dict):
                raise ValueError(f"{path.name}: a schema file must hold a JSON object")
            self._schemas[path.name] = contents
        self._registry: Registry[Any] = Registry().with_resources(
            (name, Resource.from_contents(schema, default_specification=DRAFT202012))
            for name, schema in self._schemas.items()
        )
        self._validators: dict[str, Draft202012Validator] = {}

    @property
    def names(self) -> list[str]:
        """The file names of every loaded schema."""
        return sorted(self._schemas)

    def validator(self, name: str) -> Draft202012Validator:
        """A Draft 2020-12 validator for the schema file `name`, with format checking on."""
        if name not in self._validators:
            if name not in self._schemas:
                raise KeyError(f"no schema file {name!r} in {self.directory}")
            self._validators[name] = Draft202012Validator(
                self._schemas[name],
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[name]

    def schema(self, name: str) -> dict[str, Any]:
        """The contents of the schema file `name`, as loaded."""
        if name not in self._schemas:
            raise KeyError(f"no schema file {name!r} in {self.directory}")
        return self._schemas[name]

    def inlined(self, name: str) -> dict[str, Any]:
        """The schema file `name` with every `$ref` replaced by what it points at (no cycles)."""
        inlined: dict[str, Any] = _inline(self.schema(name), self._registry.resolver(base_uri=name))
        return inlined

    def errors(self, instance: Any, name: str) -> list[str]:
        """Every validation error as `at $.json.path: message`, redacted; empty when valid."""
        found = sorted(
            self.validator(name).iter_errors(instance),
            key=lambda error: (list(map(str, error.absolute_path)), error.message),
        )
        return [self._redactor.text(f"at {error.json_path}: {error.message}") for error in found]

    def is_valid(self, instance: Any, name: str) -> bool:
        """True when `instance` validates against the schema file `name`."""
        return not self.errors(instance, name)

    def assert_valid(self, instance: Any, name: str, what: str = "body") -> None:
        """Raise AssertionError naming every error and its JSON path if `instance` is invalid."""
        errors = self.errors(instance, name)
        if errors:
            raise AssertionError(describe_errors(what, name, errors))


def _inline(node: Any, resolver: Any, depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("schema references nest too deeply (a cycle?)")
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            target = resolver.lookup(node["$ref"])
            merged = {k: v for k, v in node.items() if k != "$ref"}
            return {**_inline(target.contents, target.resolver, depth + 1), **merged}
        return {key: _inline(value, resolver, depth) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, resolver, depth) for item in node]
    return node


def describe_errors(what: str, name: str, errors: Iterable[str]) -> str:
    """A failure message: one line per validation error."""
    lines = list(errors)
    listed = "\n".join(f"  - {line}" for line in lines)
    return f"{what} does not validate against {name} ({len(lines)} error(s)):\n{listed}"
