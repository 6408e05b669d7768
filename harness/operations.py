"""The operation table (`schemas/operations.yaml`): which method and media type each password
operation on `/environments/{envID}/users/{userID}/password` uses, and its body schemas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
OPERATIONS_FILE = SCHEMAS_DIR / "operations.yaml"


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
        """Read the table from `path`."""
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = document.get("operations") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path.name}: expected a top-level 'operations' list")
        return cls([_operation(entry, path) for entry in entries])

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


def _operation(entry: Any, path: Path) -> Operation:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"{path.name}: every operation needs a name")
    method = entry.get("method")
    if method not in ("GET", "PUT", "POST", "DELETE", "PATCH"):
        raise ValueError(f"{path.name}: {entry['name']}: bad method {method!r}")
    return Operation(
        name=entry["name"],
        title=str(entry.get("title") or entry["name"]),
        method=method,
        media_type=entry.get("mediaType"),
        alt_media_types=tuple(entry.get("altMediaTypes") or ()),
        request_schema=entry.get("request"),
        response_schema=entry.get("response"),
        likely_response_schema=entry.get("likelyResponse"),
        doc=str(entry.get("doc", "")),
    )
