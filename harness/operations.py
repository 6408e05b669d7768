"""The operation table (`schemas/operations.yaml`): which method and media type each password
operation on `/environments/{envID}/users/{userID}/password` uses, and its body schemas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data_files import SCHEMAS_DIR, load_checked

__all__ = ["OPERATIONS_FILE", "OPERATIONS_SCHEMA", "SCHEMAS_DIR", "Operation", "OperationTable"]

OPERATIONS_FILE = SCHEMAS_DIR / "operations.yaml"
OPERATIONS_SCHEMA = SCHEMAS_DIR / "operations.schema.json"


@dataclass(frozen=True)
class Operation:
    """One password operation: a method plus a media type on the shared `/password` URL."""

    name: str
    title: str
    method: str
    media_type: str | None
    alt_media_types: tuple[str, ...]
    request_schema: str | None
    response_schema: str | None
    likely_response_schema: str | None
    doc: str


class OperationTable:
    """The operations by name, loaded from `operations.yaml`."""

    def __init__(self, operations: list[Operation]) -> None:
        self._by_name = {op.name: op for op in operations}
        if len(self._by_name) != len(operations):
            raise ValueError("operations.yaml names an operation twice")

    @classmethod
    def load(cls, path: Path = OPERATIONS_FILE) -> OperationTable:
        """Read the table from `path`; a file not matching operations.schema.json is refused."""
        document = load_checked(path, OPERATIONS_SCHEMA)
        return cls([_operation(entry) for entry in document["operations"]])

    def get(self, name: str) -> Operation:
        """The operation called `name`; KeyError lists the known names."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise KeyError(f"unknown password operation {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._by_name.values())


def _operation(entry: dict[str, Any]) -> Operation:
    """One entry, already valid against operations.schema.json."""
    return Operation(
        name=entry["name"],
        title=entry["title"],
        method=entry["method"],
        media_type=entry["mediaType"],
        alt_media_types=tuple(entry.get("altMediaTypes") or ()),
        request_schema=entry["request"],
        response_schema=entry.get("response"),
        likely_response_schema=entry.get("likelyResponse"),
        doc=entry["doc"],
    )
