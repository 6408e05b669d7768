"""Allure labels for a test, derived from the requirements it names.

epic "PingOne user passwords"; feature = the readable name of each requirement's operation
(`Password Check` from operations.yaml, `Create User` from openapi.yaml's summary, "Every
password operation" for `all`); story = its title; severity from the highest level (MUST →
critical, SHOULD → normal, OBSERVED → minor); a link to each source; a `requirement` label per
id. Level and class tags come from the pytest markers the selection adds (`must`, `contract`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import allure as _allure
import pytest

from harness.data_files import read_yaml
from harness.operations import SCHEMAS_DIR, OperationTable
from harness.requirements import Level, Requirement

# allure's decorators are untyped; they are called through this alias.
allure: Any = _allure

EPIC = "PingOne user passwords"
# Names for the operation values of requirements.yaml that neither table defines.
SPANNING = {"all": "Every password operation", "token": "Token endpoint"}
SEVERITY = {
    Level.MUST: allure.severity_level.CRITICAL,
    Level.SHOULD: allure.severity_level.NORMAL,
    Level.OBSERVED: allure.severity_level.MINOR,
}


@functools.cache
def feature_titles() -> dict[str, str]:
    """Operation name or operationId → the name people read."""
    titles = {op.name: op.title for op in OperationTable.load()}
    document = read_yaml(SCHEMAS_DIR / "openapi.yaml")
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                summary = str(operation.get("summary") or operation["operationId"])
                titles.setdefault(operation["operationId"], summary)
    titles.update(SPANNING)
    return titles


def feature_title(operation: str) -> str:
    """`Password Check` for `check`; the operation itself when no table names it."""
    return feature_titles().get(operation, operation)


def label_marks(requirements: Iterable[Requirement]) -> list[pytest.MarkDecorator]:
    """The allure-pytest marks that label a test covering `requirements`.

    Empty when allure-pytest is not active (its decorators then return plain functions).
    """
    covered = list(requirements)
    if not covered:
        return []
    highest = max(covered, key=lambda r: r.level.rank).level
    candidates = [
        allure.epic(EPIC),
        allure.feature(*dict.fromkeys(feature_title(r.operation) for r in covered)),
        allure.story(*dict.fromkeys(r.title for r in covered)),
        allure.severity(SEVERITY[highest]),
        allure.label("requirement", *(r.id for r in covered)),
    ]
    candidates += [allure.link(r.source, name=f"{r.id} source") for r in covered]
    return [mark for mark in candidates if isinstance(mark, pytest.MarkDecorator)]
