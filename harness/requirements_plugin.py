"""pytest hooks for requirements: marker checks, Allure labels, grading and the summary.

- Collection: every `@pytest.mark.requirement(...)` id must exist in schemas/requirements.yaml;
  an unknown id (or a marker without ids) stops the run as a usage error. Known ids become
  Allure labels.
- Grading, in one place: at session end, when the only failures are tests whose requirements
  all sit below the `--gate` level, the exit status becomes 0. Test outcomes are never changed.
- Summary: when suite tests were collected, a per-requirement table is printed and written as
  conformance-summary.json / .md, and `environment.properties` goes into the Allure results.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.allure_labels import label_marks
from harness.grading import GateDecision, ItemRecord, decide
from harness.requirements import (
    MARKER,
    REQUIREMENTS_FILE,
    CatalogError,
    RequirementCatalog,
    marked_requirements,
)
from harness.run_context import context_of
from harness.summary import (
    ConformanceSummary,
    build_summary,
    terminal_lines,
    write_environment_properties,
    write_reports,
)
from harness.target_plugin import COLLECTION_REFUSED, suite_items


class RequirementTracker:
    """The catalog, each collected test's requirement ids and outcome, and the final verdicts."""

    def __init__(self, catalog_path: Path = REQUIREMENTS_FILE) -> None:
        self.catalog_path = catalog_path
        self._catalog: RequirementCatalog | None = None
        self.records: dict[str, ItemRecord] = {}
        self.has_suite_items = False
        self.decision: GateDecision | None = None
        self.summary: ConformanceSummary | None = None
        self.written: list[Path] = []

    @property
    def catalog(self) -> RequirementCatalog:
        """The requirement catalog, read on first use."""
        if self._catalog is None:
            try:
                self._catalog = RequirementCatalog.load(self.catalog_path)
            except (OSError, CatalogError) as error:
                raise pytest.UsageError(f"cannot read the requirement catalog: {error}") from None
        return self._catalog

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        problems: list[str] = []
        for item in items:
            markers = list(item.iter_markers(MARKER))
            ids = marked_requirements(markers)
            if any(not mark.args for mark in markers):
                problems.append(f"{item.nodeid}: @pytest.mark.{MARKER}() names no requirement id")
            if ids:
                unknown = self.catalog.unknown(ids)
                if unknown:
                    problems.append(f"{item.nodeid}: unknown requirement id(s) {unknown}")
                    continue
                for mark in label_marks(self.catalog.get(rid) for rid in ids):
                    item.add_marker(mark)
            self.records[item.nodeid] = ItemRecord(item.nodeid, ids)
        if problems:
            config.stash[COLLECTION_REFUSED] = True
            listed = "\n  ".join(problems)
            raise pytest.UsageError(
                f"requirement markers must name ids from {self.catalog_path.name}:\n  {listed}"
            )
        self.has_suite_items = bool(suite_items(config, items))

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.records.pop(item.nodeid, None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is not None:
            record.update(report.when, report.passed, report.failed, report.skipped)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if session.config.option.collectonly:
            return  # nothing ran: no verdicts, and an earlier run's summary stays as it was
        if not self.has_suite_items or exitstatus not in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
        ):
            return
        context = context_of(session.config)
        gate = context.options.gate if context is not None else "must"
        self.decision = decide(self.records.values(), self.catalog, gate)
        if exitstatus == pytest.ExitCode.TESTS_FAILED and self.decision.passes:
            session.exitstatus = pytest.ExitCode.OK
        if context is None:
            return
        facts = context.describe()
        self.summary = build_summary(self.catalog, self.records.values(), self.decision, facts)
        self.written = write_reports(self.summary, context.options.summary_dir, context.redactor)
        if context.options.alluredir is not None:
            properties = {
                "target.kind": facts.get("kind", "?"),
                "target.api_base_url": facts.get("api_base_url", "?"),
                "target.env_id": facts.get("env_id", "?"),
                "suite.commit": facts.get("suite_commit", "unknown"),
                "gate": gate,
            }
            write_environment_properties(context.options.alluredir, properties, context.redactor)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.summary is None:
            return
        context = context_of(terminalreporter.config)
        terminalreporter.section("conformance summary")
        for line in terminal_lines(self.summary):
            terminalreporter.write_line(context.redactor.text(line) if context else line)
        for path in self.written:
            terminalreporter.write_line(f"written: {path}")
        if context is not None and context.undeleted:
            terminalreporter.write_line(
                f"users under test that could not be deleted: {', '.join(context.undeleted)}"
            )


def pytest_configure(config: pytest.Config) -> None:
    """Register the tracker as a plugin of this run."""
    config.pluginmanager.register(RequirementTracker(), "requirement-tracker")
