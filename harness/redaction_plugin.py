"""pytest hooks that scrub registered secrets from test reports before anyone reads them.

Tests build their messages from redacted data already; this is the second line. Before pytest
builds a report, the exception's message is scrubbed (Allure reads it from the exception);
after, the long representation (tracebacks, `--showlocals` values) and the captured output
sections are replaced with scrubbed text. Allure, JUnit XML and the terminal all read these.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from _pytest._code.code import ReprFileLocation, TerminalRepr

from harness.redaction import Redactor
from harness.run_context import context_of


class ScrubbedRepr(TerminalRepr):
    """A failure representation whose text had secrets removed; keeps the crash line for -ra."""

    def __init__(self, text: str, crash: ReprFileLocation | None) -> None:
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "ScrubbedRepr(...)"


def _scrubbed_crash(longrepr: object, redactor: Redactor) -> ReprFileLocation | None:
    crash = getattr(longrepr, "reprcrash", None)
    if not isinstance(crash, ReprFileLocation):
        return None
    return ReprFileLocation(crash.path, crash.lineno, redactor.text(crash.message))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Scrub the exception first, then the report built from it."""
    context = context_of(item.config)
    if context is None:
        return (yield)
    redactor = context.redactor
    if call.excinfo is not None:
        redactor.scrub_exception(call.excinfo.value)
    report = yield
    if report.longrepr is not None and redactor.secret_count:
        text = report.longreprtext
        scrubbed = redactor.text(text)
        if scrubbed != text:
            report.longrepr = ScrubbedRepr(scrubbed, _scrubbed_crash(report.longrepr, redactor))
    report.sections = [(name, redactor.text(content)) for name, content in report.sections]
    return report
