"""Every response a suite receives is checked against the schema of its operation and status.

The schema comes from the two tables that already map them, never from a copy here:
`schemas/openapi.yaml` gives, for a path template, a method and a status, the schema file of
each response media type; for the 200 of a password operation, `schemas/operations.yaml` names
the operation the request's `Content-Type` selects and, where Ping documents that body
(`response`), the stricter schema of it. Validation is Draft 2020-12 with formats checked
(date-time by rfc3339-validator, uri-reference by rfc3986-validator, both pinned).

The response `Content-Type` must be JSON (`application/json` or an `application/…+json` type,
parameters ignored) whenever the response has a body. Extra properties and extra `_links`
relations are the schemas' business, and the schemas allow them.

`ResponseContract.violations()` lists what is wrong with one exchange (empty when nothing is);
the API client raises `ResponseContractViolation` with that list, so the test that received the
response fails, naming the JSON path of each offending value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data_files import read_yaml
from harness.failures import ConformanceFailure
from harness.operations import SCHEMAS_DIR, OperationTable
from harness.schemas import SchemaStore

OPENAPI_FILE = SCHEMAS_DIR / "openapi.yaml"
_JSON_TYPE = re.compile(r"^application/([a-z0-9.\-]+\+)?json$")


class ResponseContractViolation(ConformanceFailure):
    """A response does not match its documented contract; the message lists each violation."""


def media_type(content_type: str | None) -> str | None:
    """The lower-cased media type of a Content-Type value, parameters removed."""
    if content_type is None:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    return base or None


def is_json_media_type(value: str | None) -> bool:
    """True for `application/json` and the `application/…+json` types (HAL included)."""
    return value is not None and _JSON_TYPE.match(value) is not None


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    methods: Mapping[str, Any]


class ResponseContract:
    """Knows, for each path, method and status, which schema file a response body must match."""

    def __init__(
        self,
        schemas: SchemaStore,
        operations: OperationTable,
        openapi_path: Path = OPENAPI_FILE,
    ) -> None:
        self.schemas = schemas
        self.operations = operations
        self._document: dict[str, Any] = read_yaml(openapi_path)
        self._routes = sorted(
            (self._route(template, item) for template, item in self._document["paths"].items()),
            key=lambda route: -len(route.template),
        )

    @staticmethod
    def _route(template: str, item: Mapping[str, Any]) -> _Route:
        parts = re.split(r"\{[^}]+\}", template)
        pattern = "[^/]+".join(re.escape(part) for part in parts)
        return _Route(template, re.compile(f"{pattern}/?$"), item)

    def route(self, path: str) -> str | None:
        """The OpenAPI path template a URL path ends with, or None."""
        for route in self._routes:
            if route.pattern.search(path):
                return route.template
        return None

    def _responses(self, path: str, method: str) -> Mapping[str, Any] | None:
        for route in self._routes:
            if route.pattern.search(path):
                operation = route.methods.get(method.lower())
                if isinstance(operation, Mapping):
                    responses = operation.get("responses")
                    return responses if isinstance(responses, Mapping) else None
                return None
        return None

    def _deref(self, node: Any) -> Any:
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/"):
                return node
            target: Any = self._document
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
        return node

    def declared_schemas(self, path: str, method: str, status: int) -> dict[str, str] | None:
        """Response media type → schema file that openapi.yaml declares; None if undeclared."""
        responses = self._responses(path, method)
        if responses is None:
            return None
        response = self._deref(responses.get(str(status)))
        if not isinstance(response, Mapping):
            return None
        content = response.get("content")
        if not isinstance(content, Mapping):
            return {}
        declared: dict[str, str] = {}
        for media, entry in content.items():
            schema = entry.get("schema") if isinstance(entry, Mapping) else None
            ref = schema.get("$ref") if isinstance(schema, Mapping) else None
            if isinstance(ref, str):
                declared[str(media).lower()] = Path(ref).name
        return declared

    def operation_schema(self, method: str, request_content_type: str | None) -> str | None:
        """The documented 200 schema of the password operation a method and media type select.

        None when the media type selects no operation, or selects several that do not share one
        documented body (reset+json: self and admin), or the operation's body is undocumented.
        """
        wanted = media_type(request_content_type)
        selected = [
            op
            for op in self.operations
            if op.method == method.upper()
            and wanted is not None
            and wanted in {m.lower() for m in (op.media_type, *op.alt_media_types) if m}
        ]
        if method.upper() == "GET":
            selected = [op for op in self.operations if op.method == "GET"]
        documented = {op.response_schema for op in selected}
        if len(selected) == 0 or len(documented) != 1:
            return None
        return documented.pop()

    def schema_for(
        self,
        path: str,
        method: str,
        status: int,
        request_content_type: str | None,
        response_media_type: str | None,
    ) -> str | None:
        """The schema file the body must validate against, or None when none is declared."""
        declared = self.declared_schemas(path, method, status)
        if not declared:
            return None
        chosen = declared.get(response_media_type or "") or next(iter(declared.values()))
        if status == 200 and self.route(path) == "/environments/{envID}/users/{userID}/password":
            chosen = self.operation_schema(method, request_content_type) or chosen
        return chosen

    def violations(
        self,
        *,
        method: str,
        path: str,
        request_content_type: str | None,
        status: int,
        response_content_type: str | None,
        body: bytes,
    ) -> list[str]:
        """What is wrong with one response; empty when it keeps its contract."""
        found: list[str] = []
        received = media_type(response_content_type)
        if body.strip() and not is_json_media_type(received):
            found.append(
                f"Content-Type is {response_content_type or 'missing'}, "
                "not JSON (application/json or application/hal+json)"
            )
        schema = self.schema_for(path, method, status, request_content_type, received)
        if schema is None:
            return found
        if not body.strip():
            found.append(f"the body is empty where {schema} is declared")
            return found
        try:
            instance = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            found.append(f"the body is not JSON where {schema} is declared")
            return found
        errors = self.schemas.errors(instance, schema)
        found += [f"{schema}: {error}" for error in errors]
        return found
