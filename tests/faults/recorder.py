"""A pytest plugin the fault runner loads into suite runs: it records each suite test's outcome.

`-p tests.faults.recorder --fault-record PATH` writes a JSON object
`{nodeid: {"requirements": [...], "outcome": "passed|failed|error|skipped"}}` at session end.
A test that errors in setup (the target refused to create a user, say) is recorded as "error",
apart from a failed assertion, so the runner can tell a fault caught by a check from a fault that
merely broke the plumbing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fault-record", default=None, help="write per-test outcomes as JSON here")


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, object]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            ids: list[str] = []
            for mark in item.iter_markers("requirement"):
                ids.extend(str(arg) for arg in mark.args)
            self.records[item.nodeid] = {
                "requirements": sorted(set(ids)),
                "outcome": "passed",
            }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.setdefault(report.nodeid, {"requirements": [], "outcome": "passed"})
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
    path = config.getoption("--fault-record")
    if path:
        config.pluginmanager.register(_Recorder(Path(path)), "fault-recorder")
