"""How a failing suite test reads: its explanation, not the harness's source.

A `ConformanceFailure` (the target answered against a requirement), a `TargetUnreachable` (the
target stopped answering) and a `UserSetupError` (the target refused to prepare a user under
test) each carry a complete, redacted explanation. For those, the report's long representation
becomes that explanation plus the test's own location: pytest's traceback through the harness
would bury it in forty lines of `_check` source. Other exceptions keep pytest's usual output.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.failures import UNAVAILABLE_HEADING, ConformanceFailure
from harness.http_errors import TargetUnreachable
from harness.users import UserSetupError

EXPLAINED = (ConformanceFailure, TargetUnreachable, UserSetupError)
# How each explained failure is introduced; the Allure categories and grading match these words.
HEADINGS = {
    ConformanceFailure: "conformance failure",
    TargetUnreachable: UNAVAILABLE_HEADING,
    UserSetupError: "user under test could not be prepared",
}


def explanation(error: BaseException) -> str:
    """`<heading>: <message>` for an explained failure."""
    heading = next(text for kind, text in HEADINGS.items() if isinstance(error, kind))
    return f"{heading}: {error}"


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Replace the traceback of an explained failure with its explanation."""
    report = yield
    excinfo = call.excinfo
    if report.failed and excinfo is not None and isinstance(excinfo.value, EXPLAINED):
        path, line, _ = item.location
        where = f"{path}:{(line or 0) + 1}" if line is not None else path
        report.longrepr = f"{explanation(excinfo.value)}\n({where}, {report.when})"
    return report
