"""Allure labels for a test, derived from the requirements it names.

epic "PingOne user passwords"; feature = each requirement's operation; story = its title;
severity from the highest level (MUST → critical, SHOULD → normal, OBSERVED → minor); a link to
each source; a `requirement` label per id; a tag per level.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import allure as _allure
import pytest

from harness.requirements import Level, Requirement

# allure's decorators are untyped; they are called through this alias.
allure: Any = _allure

EPIC = "PingOne user passwords"
SEVERITY = {
    Level.MUST: allure.severity_level.CRITICAL,
    Level.SHOULD: allure.severity_level.NORMAL,
    Level.OBSERVED: allure.severity_level.MINOR,
}


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
        allure.feature(*dict.fromkeys(r.operation for r in covered)),
        allure.story(*dict.fromkeys(r.title for r in covered)),
        allure.severity(SEVERITY[highest]),
        allure.label("requirement", *(r.id for r in covered)),
        allure.tag(*dict.fromkeys(r.level.value for r in covered)),
    ]
    candidates += [allure.link(r.source, name=f"{r.id} source") for r in covered]
    return [mark for mark in candidates if isinstance(mark, pytest.MarkDecorator)]
