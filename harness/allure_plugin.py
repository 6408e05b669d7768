"""How suite tests read in Allure: readable parameters and named teardown steps.

- A parametrized test whose parameter is a structure (a behaviour case, a derived body) shows
  the parameter as the test's readable id (`check: a wrong password answers 400 …`), not as a
  truncated Python dict.
- allure-pytest names a fixture's finalizers after their `__name__`, which for pytest's own
  finalizers is `<lambda>` or a number: they read "tear down <fixture>" here. What a teardown
  does inside is its own steps ("delete user p1conf-…").
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import allure as _allure
import pytest

allure: Any = _allure
UNNAMED = re.compile(r"^(?P<fixture>[^:]+)::(?:<lambda>|\d+)$")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Show structured parameters as the test's readable id."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return
    for name, value in callspec.params.items():
        if isinstance(value, dict | list | tuple):
            allure.dynamic.parameter(name, callspec.id)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(fixturedef: Any) -> Generator[None, Any, Any]:
    """Rename the finalizers allure-pytest wrapped with a meaningless name."""
    result = yield
    for finalizer in getattr(fixturedef, "_finalizers", []):
        name = getattr(finalizer, "_name", None)
        match = UNNAMED.match(name) if isinstance(name, str) else None
        if match:
            finalizer._name = f"tear down {match.group('fixture')}"
    return result
