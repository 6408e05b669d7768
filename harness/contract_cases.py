"""The contract suite's request-body cases: which bodies each password operation is sent.

Valid bodies are each request schema's examples plus the bodies `valid_bodies` generates; invalid
bodies are those `invalid_bodies` derives from the operation's request schema and first example,
minus any that still validate against the schema the media type selects in `openapi.yaml` (one
media type may carry several operations: reset+json is both the self and the admin change, so a
self-change body without `currentPassword` is a valid admin change). A request sent twice (the
same media type and bytes) is kept once.

Operations whose schema declares no properties are documented without a body (force change,
unlock, send recovery code): they get valid cases only, since a server may ignore a body it does
not read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.body_derivation import DerivedBody, invalid_bodies, valid_bodies
from harness.data_files import read_yaml
from harness.operations import SCHEMAS_DIR, Operation, OperationTable
from harness.schemas import SchemaStore

OPENAPI_FILE = SCHEMAS_DIR / "openapi.yaml"
PASSWORD_PATH = "/environments/{envID}/users/{userID}/password"


@dataclass(frozen=True)
class BodyCase:
    """One body to send for one operation, under the operation's media type and method."""

    operation: Operation
    body: DerivedBody

    @property
    def id(self) -> str:
        """`set: value missing`."""
        return f"{self.operation.name}: {self.body.id}"

    @property
    def media_type(self) -> str:
        """The Content-Type the case is sent with."""
        assert self.operation.media_type is not None
        return self.operation.media_type


def request_schema_for(method: str, media_type: str, openapi_path: Path = OPENAPI_FILE) -> str:
    """The schema file openapi.yaml gives the password request body of `method` + `media_type`."""
    document: dict[str, Any] = read_yaml(openapi_path)
    content = document["paths"][PASSWORD_PATH][method.lower()]["requestBody"]["content"]
    return Path(content[media_type]["schema"]["$ref"]).name


def _with_body(operations: OperationTable) -> list[Operation]:
    return [op for op in operations if op.request_schema and op.media_type]


def valid_cases(schemas: SchemaStore, operations: OperationTable) -> list[BodyCase]:
    """Every valid body of every operation that takes one."""
    cases = []
    for operation in _with_body(operations):
        assert operation.request_schema is not None
        schema = schemas.inlined(operation.request_schema)
        cases += [BodyCase(operation, body) for body in valid_bodies(schema)]
    return cases


def takes_invalid_bodies(schemas: SchemaStore, operation: Operation) -> bool:
    """False for operations documented without a body (no property in their schema)."""
    if not operation.request_schema:
        return False
    return bool(schemas.inlined(operation.request_schema).get("properties"))


def invalid_cases(schemas: SchemaStore, operations: OperationTable) -> list[BodyCase]:
    """Every derived invalid body, of every operation that reads a body."""
    cases: list[BodyCase] = []
    sent: set[tuple[str, bytes]] = set()
    for operation in _with_body(operations):
        if not takes_invalid_bodies(schemas, operation):
            continue
        assert operation.request_schema is not None
        assert operation.media_type is not None
        schema = schemas.inlined(operation.request_schema)
        selected = request_schema_for(operation.method, operation.media_type)
        for body in invalid_bodies(schema, schema["examples"][0]):
            if _still_valid(schemas, body, selected):
                continue
            key = (operation.media_type, body.raw)
            if key in sent:
                continue
            sent.add(key)
            cases.append(BodyCase(operation, body))
    return cases


def _still_valid(schemas: SchemaStore, body: DerivedBody, schema_name: str) -> bool:
    try:
        instance = body.json()
    except ValueError:
        return False
    return schemas.is_valid(instance, schema_name)


def error_envelope_problems(schemas: SchemaStore, status: int, body: bytes) -> list[str]:
    """Why an error answer's body is not the PingOne error envelope; empty when it is.

    403 and 429 use the limited envelope (code and message), every other status the full one.
    """
    schema = "error-limited.schema.json" if status in (403, 429) else "error.schema.json"
    try:
        instance = json.loads(body) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        return [f"the body is not JSON, so not the error envelope ({schema})"]
    if instance is None:
        return [f"the body is empty, not the error envelope ({schema})"]
    return [f"{schema}: {error}" for error in schemas.errors(instance, schema)]
