"""A pytest plugin the fault runner loads into suite runs: records outcomes, narrows the run.

`-p tests.faults.recorder --fault-record PATH` writes a JSON object
`{nodeid: {"requirements": [...], "outcome": "notrun|passed|skipped|failed|error"}}` at session
end. A test that errors in setup (the target refused to create a user, say) is recorded as
"error", apart from a failed assertion, so the runner can tell a fault caught by a check from a
fault that merely broke the plumbing. A test the session never reached stays "notrun".

Two options make the catch check of `make test` cheap:

- `--fault-only-requirements P1-A,P1-B` keeps only the tests that cover at least one of those
  requirements and deselects the rest.
- `--fault-stop-when-covered` ends the session as soon as every requirement named by
  `--fault-only-requirements` has a failing test. This is `-x` generalised: with one requirement
  it stops at the first failure like `-x`, with several it keeps going until each has one (plain
  `-x` could stop on a test of the first and never reach a test of the second).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_RANK = {"notrun": 0, "passed": 1, "skipped": 2, "failed": 3, "error": 4}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fault-recorder", "fault catalog runs (tests/faults)")
    group.addoption("--fault-record", default=None, help="write per-test outcomes as JSON here")
    group.addoption(
        "--fault-only-requirements",
        default=None,
        help="comma-separated requirement ids: run only the tests that cover one of them",
    )
    group.addoption(
        "--fault-stop-when-covered",
        action="store_true",
        default=False,
        help="stop once every --fault-only-requirements id has a failing test",
    )


def requirements_of(item: pytest.Item) -> list[str]:
    """The requirement ids of a test's `requirement` markers."""
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(str(arg) for arg in mark.args)
    return sorted(set(ids))


class _Selector:
    def __init__(self, wanted: set[str], stop_when_covered: bool) -> None:
        self.wanted = wanted
        self.stop_when_covered = stop_when_covered
        self.covered: set[str] = set()
        self.requirements: dict[str, set[str]] = {}
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept, dropped = [], []
        for item in items:
            ids = set(requirements_of(item))
            (kept if ids & self.wanted else dropped).append(item)
            self.requirements[item.nodeid] = ids
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (self.stop_when_covered and report.when == "call" and report.failed):
            return
        self.covered |= self.requirements.get(report.nodeid, set()) & self.wanted
        if self.covered >= self.wanted and self.session is not None:
            # shouldfail (not shouldstop) ends the run as -x does: exit status "tests failed".
            self.session.shouldfail = "every named requirement has a failing test"


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, object]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Whether this runs before or after the selector, pytest_deselected below drops
        # what the selector removes.
        for item in items:
            self.records[item.nodeid] = {"requirements": requirements_of(item), "outcome": "notrun"}

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.records.pop(item.nodeid, None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.setdefault(report.nodeid, {"requirements": [], "outcome": "notrun"})
        if report.when == "call":
            outcome = "failed" if report.failed else ("skipped" if report.skipped else "passed")
        elif report.failed:
            outcome = "error"
        elif report.skipped:
            outcome = "skipped"
        else:
            return
        if _RANK[outcome] > _RANK[str(record["outcome"])]:
            record["outcome"] = outcome

    def pytest_sessionfinish(self) -> None:
        self.path.write_text(json.dumps(self.records, indent=1, sort_keys=True))


def pytest_configure(config: pytest.Config) -> None:
    only = config.getoption("--fault-only-requirements")
    if only is not None:
        wanted = {rid.strip() for rid in only.split(",") if rid.strip()}
        if not wanted:
            raise pytest.UsageError("--fault-only-requirements names no requirement id")
        stop = bool(config.getoption("--fault-stop-when-covered"))
        config.pluginmanager.register(_Selector(wanted, stop), "fault-selector")
    elif config.getoption("--fault-stop-when-covered"):
        raise pytest.UsageError("--fault-stop-when-covered needs --fault-only-requirements")
    path = config.getoption("--fault-record")
    if path:
        config.pluginmanager.register(_Recorder(Path(path)), "fault-recorder")
