"""pytest hooks for requirements: marker checks, selection, Allure labels, grading, the summary.

- Collection: every `@pytest.mark.requirement(...)` id must exist in schemas/requirements.yaml;
  an unknown id (or a marker without ids) stops the run as a usage error. Known ids become
  Allure labels, level and class markers, and -k keywords; `--conformance` and `--requirement`
  leave tests out (see `harness.selection`).
- Grading, in one place: at session end, when the only failures are tests whose requirements
  all sit below the `--gate` level, the exit status becomes 0; an INCOMPLETE verdict becomes
  exit 14 under `--require-complete`. Test outcomes are never changed.
- Summary: a run that collected suite tests always replaces the previous summary: with
  verdicts when tests ran, with NO VERDICT and the reason when the run ended before any test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.allure_labels import label_marks
from harness.config import ExitCode
from harness.deviations import DeviationBook, DeviationFileError, load_deviations
from harness.failures import UNAVAILABLE_HEADING
from harness.grading import GateDecision, ItemRecord, decide, merge_records
from harness.requirements import (
    MARKER,
    REQUIREMENTS_FILE,
    CatalogError,
    RequirementCatalog,
    marked_requirements,
)
from harness.run_context import RunContext, context_of
from harness.selection import OUTSIDE_CLASS_REASON, Selection, mark_item, suite_of
from harness.summary import (
    INCOMPLETE,
    ConformanceSummary,
    build_summary,
    merge_property_runs,
    no_verdict_summary,
    remove_reports,
    terminal_lines,
    write_environment_properties,
    write_reports,
)
from harness.target_plugin import (
    COLLECTION_REFUSED,
    CONFIG_FAILURE,
    is_controller,
    is_worker,
    suite_items,
)

# Exit statuses after which tests ran and the summary holds verdicts.
RAN = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)
WHY_NO_TEST = {
    pytest.ExitCode.INTERRUPTED: "the run was interrupted",
    pytest.ExitCode.INTERNAL_ERROR: "pytest hit an internal error",
    pytest.ExitCode.USAGE_ERROR: "pytest usage error",
}


class RequirementTracker:
    """The catalog, each collected test's requirement ids and outcome, and the final verdicts."""

    def __init__(self, catalog_path: Path = REQUIREMENTS_FILE) -> None:
        self.catalog_path = catalog_path
        self._catalog: RequirementCatalog | None = None
        self.records: dict[str, ItemRecord] = {}
        self.has_suite_items = False
        self.decision: GateDecision | None = None
        self.deviations: DeviationBook | None = None
        self.summary: ConformanceSummary | None = None
        self.written: list[Path] = []
        # Under -n: what the workers reported (expired deviations, 429 record, property run).
        self.expired_from_workers: list[str] = []
        self.property_from_workers: list[dict[str, object]] = []
        self.rate_limit_from_workers: dict[str, float] = {
            "retries": 0,
            "waited_seconds": 0.0,
            "unavailable_retries": 0,
        }

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
        suites = suite_items(config, items)
        self.has_suite_items = bool(suites)
        context = context_of(config)
        if context is not None and context.options.sweep_age is not None:
            self.has_suite_items = False  # a sweep is no conformance run: reports/ stays
            return
        if self.has_suite_items and context is not None:
            remove_reports(context.options.summary_dir)
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
                requirements = [self.catalog.get(rid) for rid in ids]
                for mark in label_marks(requirements):
                    item.add_marker(mark)
                levels = {r.level.value.lower() for r in requirements}
                mark_item(item, suite_of(item, Path(str(config.rootpath))), ids, levels)
                # JUnit XML properties (junit_family xunit1), one per requirement id.
                item.user_properties.extend(("requirement", rid) for rid in ids)
            self.records[item.nodeid] = ItemRecord(item.nodeid, ids)
        if problems:
            config.stash[COLLECTION_REFUSED] = True
            listed = "\n  ".join(problems)
            raise pytest.UsageError(
                f"requirement markers must name ids from {self.catalog_path.name}:\n  {listed}"
            )
        if context is not None and suites:
            self._select(config, items, context)

    def _select(self, config: pytest.Config, items: list[pytest.Item], context: RunContext) -> None:
        options = context.options
        selection = Selection.build(
            options.conformance, options.requirement_filters, self.catalog, options.shard
        )
        root = Path(str(config.rootpath))
        kept: list[pytest.Item] = []
        left_out: dict[str, list[pytest.Item]] = {
            OUTSIDE_CLASS_REASON: [],
            "deselected": [],
            "in another shard": [],
        }
        for item in items:
            record = self.records.get(item.nodeid)
            suite = suite_of(item, root)
            if not selection.keeps_class(suite):
                left_out[OUTSIDE_CLASS_REASON].append(item)
            elif (
                record is not None
                and suite
                and not selection.keeps_requirements(record.requirements)
            ):
                left_out["deselected"].append(item)
            elif suite and not selection.keeps_shard(item.nodeid):
                left_out["in another shard"].append(item)
            else:
                kept.append(item)
        for reason, dropped in left_out.items():
            for item in dropped:
                self.records[item.nodeid].deselect(reason)
            if dropped:
                config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        try:
            entries = load_deviations(options.deviations_file)
        except (OSError, DeviationFileError) as error:
            raise pytest.UsageError(f"cannot read the known deviations: {error}") from None
        self.deviations = DeviationBook.for_target(entries, context.target_name())
        for item in kept:
            record = self.records.get(item.nodeid)
            if record is None:
                continue
            applied = self.deviations.apply(item, record.requirements)
            if applied is not None:
                record.deviation = applied.label

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            record = self.records.get(item.nodeid)
            if record is not None:
                record.deselect("deselected")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is not None:
            longrepr = report.longrepr
            record.update(
                report.when,
                report.passed,
                report.failed,
                report.skipped,
                _skip_reason(report),
                xfailed=report.skipped and hasattr(report, "wasxfail"),
                xpassed_strict=report.failed
                and isinstance(longrepr, str)
                and longrepr.startswith("[XPASS(strict)]"),
                unavailable=report.failed
                and isinstance(longrepr, str)
                and longrepr.startswith(UNAVAILABLE_HEADING),
            )

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """Under -n: fold a finished worker's records into the controller's."""
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if not output:
            return
        self.has_suite_items = self.has_suite_items or bool(output["has_suite_items"])
        incoming = [ItemRecord.from_json(data) for data in output["records"]]
        self.records = merge_records([*self.records.values(), *incoming])
        for label in output["expired"]:
            if label not in self.expired_from_workers:
                self.expired_from_workers.append(label)
        for key in self.rate_limit_from_workers:
            self.rate_limit_from_workers[key] += float(output["rate_limit"].get(key, 0))
        if output.get("property_run"):
            self.property_from_workers.append(output["property_run"])

    def _send_to_controller(self, config: pytest.Config, context: RunContext) -> None:
        output: dict[str, object] = {
            "has_suite_items": self.has_suite_items,
            "records": [record.to_json() for record in self.records.values()],
            "expired": [d.label for d in self.deviations.expired] if self.deviations else [],
            "rate_limit": context.rate_limit_record(),
            "property_run": _property_run(config),
        }
        config.workeroutput[WORKER_OUTPUT] = output  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        config = session.config
        context = context_of(config)
        if config.option.collectonly or context is None:
            return
        if is_worker(config):
            self._send_to_controller(config, context)
            return  # the controller grades and writes the summary, once, for the whole run
        if not self.has_suite_items and config.stash.get(CONFIG_FAILURE, None) is None:
            return
        options = context.options
        failure = config.stash.get(CONFIG_FAILURE, None)
        facts = context.describe()
        if failure is not None or exitstatus not in RAN:
            if failure is not None:
                why, code = f"configuration: {failure.message}", int(failure.exit_code)
            else:
                why = WHY_NO_TEST.get(pytest.ExitCode(exitstatus), "the run stopped")
                code = int(exitstatus)
            self.summary = no_verdict_summary(
                why, code, facts, options.gate, options.conformance.split(",")
            )
            self.written = write_reports(self.summary, options.summary_dir, context.redactor)
            return
        expired = [d.label for d in self.deviations.expired] if self.deviations else []
        expired += [label for label in self.expired_from_workers if label not in expired]
        self.decision = decide(
            self.records.values(),
            self.catalog,
            options.gate,
            expired_deviations=expired,
            strict_deviations=options.strict_deviations,
        )
        if exitstatus == pytest.ExitCode.TESTS_FAILED and self.decision.passes:
            session.exitstatus = pytest.ExitCode.OK
        elif exitstatus == pytest.ExitCode.OK and not self.decision.passes:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.decision.passes and self.decision.unavailable:
            session.exitstatus = int(ExitCode.TARGET_UNAVAILABLE)
        self.summary = build_summary(
            self.catalog,
            self.records.values(),
            self.decision,
            facts,
            conformance=Selection.build(options.conformance, (), self.catalog).classes,
            rate_limit=self._rate_limit(context, config),
            property_run=merge_property_runs([_property_run(config), *self.property_from_workers]),
        )
        if self.summary.verdict == INCOMPLETE and options.require_complete:
            session.exitstatus = int(ExitCode.INCOMPLETE)
        self.written = write_reports(self.summary, options.summary_dir, context.redactor)
        if options.alluredir is not None:
            properties = {
                "target.kind": facts.get("kind", "?"),
                "target.api_base_url": facts.get("api_base_url", "?"),
                "target.env_id": facts.get("env_id", "?"),
                "suite.commit": facts.get("suite_commit", "unknown"),
                "conformance": ",".join(self.summary.conformance),
                "gate": options.gate,
                "verdict": self.summary.verdict,
            }
            write_environment_properties(options.alluredir, properties, context.redactor)

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

    def _rate_limit(self, context: RunContext, config: pytest.Config) -> dict[str, float]:
        if is_controller(config):
            return dict(self.rate_limit_from_workers)
        return context.rate_limit_record()


WORKER_OUTPUT = "p1conf-records"


def _property_run(config: pytest.Config) -> dict[str, object] | None:
    """This process's property record (a worker's share under -n)."""
    from harness.property_plugin import property_facts  # a plugin of its own, loaded by pytest

    return property_facts(config)


def _skip_reason(report: pytest.TestReport) -> str:
    """The text of a skip (`needs a source: recovery-code …`), empty for other reports."""
    if not report.skipped:
        return ""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
        return text.removeprefix("Skipped: ").strip()
    return ""


def pytest_configure(config: pytest.Config) -> None:
    """Register the tracker as a plugin of this run."""
    config.pluginmanager.register(RequirementTracker(), "requirement-tracker")
