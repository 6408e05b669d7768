"""pytest hooks that scrub registered secrets from test reports before anyone reads them.

Tests build their messages from redacted data already; this is the second line. Before pytest
builds a report, the exception's message is scrubbed (Allure reads it from the exception);
after, the long representation (tracebacks, `--showlocals` values) and the captured output
sections are replaced with scrubbed text. Allure, JUnit XML and the terminal all read these.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.run_context import context_of


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
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
            report.longrepr = scrubbed
    report.sections = [(name, redactor.text(content)) for name, content in report.sections]
    return report
