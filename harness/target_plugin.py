"""pytest hooks for the target: preflight before the first suite test, recording around tests.

Preflight runs once collection is done and only when suite tests (items under `suites/`) were
collected, so the project's own tests never contact a target. A failure prints one line on
stderr, leaves every test out and ends the run with its exit code (10-13), before any test
runs. It is said once: not again as a pytest `Exit` banner.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.config import ConfigError
from harness.run_context import RunContext, context_of
from harness.users import USERNAME_PREFIX

SUITES_DIR = "suites"
LINE_PREFIX = "pingone-conformance"
# Set when collection was refused (e.g. an unknown requirement id): no test will run, so the
# target is not contacted. pytest calls pytest_collection_finish even then.
COLLECTION_REFUSED = pytest.StashKey[bool]()
# The configuration failure that stopped the run before any test (its exit code is the run's).
CONFIG_FAILURE = pytest.StashKey[ConfigError]()
# Set by a --sweep run: it ran no test on purpose and succeeds.
SWEPT = pytest.StashKey[bool]()


def suite_items(config: pytest.Config, items: list[pytest.Item]) -> list[pytest.Item]:
    """The collected items that live under the repository's `suites/` folder."""
    root = Path(str(config.rootpath)) / SUITES_DIR
    return [item for item in items if Path(str(item.path)).is_relative_to(root)]


def failure_line(context: RunContext, failure: ConfigError) -> str:
    """The failure as one redacted line."""
    return context.redactor.text(f"{LINE_PREFIX}: {failure.message}".replace("\n", " "))


def stop_run(context: RunContext, failure: ConfigError) -> None:
    """End the run now with the failure's exit code (a fixture found it: tests were running).

    The line goes to stderr; pytest's own `Exit` banner repeats it on the terminal, which is
    the price of stopping mid-run. Before any test, `pytest_collection_finish` stops quietly.
    """
    line = failure_line(context, failure)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    pytest.exit(line, returncode=int(failure.exit_code))


def is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker process."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """True in the pytest-xdist controller of a `-n N` run (it runs no test itself)."""
    return config.pluginmanager.has_plugin("dsession")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Under -n: every worker's users carry the run's id, with the worker's name after it."""
    context = context_of(node.config)
    if context is not None:
        node.workerinput[RUN_ID_KEY] = context.run_id


RUN_ID_KEY = "p1conf_run_id"


def adopt_run_id(config: pytest.Config, context: RunContext) -> None:
    """In a worker: `<run id>-gw0`, so usernames stay unique and name their run."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get(RUN_ID_KEY):
        context.run_id = f"{workerinput[RUN_ID_KEY]}-{workerinput.get('workerid', 'gw')}"


def will_distribute(config: pytest.Config) -> bool:
    """True in a process that is about to become the xdist controller of a `-n N` run."""
    option = config.option
    return (
        not is_worker(config)
        and getattr(option, "dist", "no") != "no"
        and bool(getattr(option, "tx", None))
        and not option.collectonly
    )


def targets_suites(config: pytest.Config) -> bool:
    """True when the run's paths reach `suites/` (or pytest falls back to `testpaths`)."""
    root = Path(str(config.rootpath))
    suites = (root / SUITES_DIR).resolve()
    paths = [a for a in config.args if not a.startswith("-")] or [str(suites)]
    for arg in paths:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = Path(str(config.invocation_params.dir)) / path
        path = path.resolve()
        if path == suites or suites.is_relative_to(path) or path.is_relative_to(suites):
            return True
    return False


def check_before_workers(config: pytest.Config) -> None:
    """Check the target once, before collection (and, under -n, before xdist starts workers).

    The root conftest calls this from its `pytest_configure`, which runs before xdist's and the
    property plugin's (both `trylast`): a bad configuration is then told in about the time
    pytest itself takes to start, nothing heavy is imported, no test is collected and no worker
    is started. Runs that do not reach `suites/` (the project's own tests) never contact a
    target.

    On a configuration failure the run is turned into a plain one (no workers) that runs no
    test: one stderr line, the failure's exit code, a NO VERDICT summary. Each worker opens its
    own context later (its own embedded reference, its own users under test).
    """
    context = context_of(config)
    if context is None or is_worker(config) or config.option.collectonly:
        return
    distributing = will_distribute(config)
    if not distributing and not targets_suites(config):
        return
    try:
        if distributing and context.options.settings.wants_embedded_reference:
            context.options.settings.check_embedded()  # each worker starts its own reference
        else:
            context.open()
    except ConfigError as failure:
        sys.stderr.write(failure_line(context, failure) + "\n")
        sys.stderr.flush()
        config.stash[CONFIG_FAILURE] = failure
        config.option.dist = "no"
        config.option.tx = []
        config.option.numprocesses = 0


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """A worker takes the run's id; the controller names the target once."""
    config = session.config
    context = context_of(config)
    if context is None:
        return
    if is_worker(config):
        adopt_run_id(config, context)
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not is_controller(config) or reporter is None:
        return
    if context.opened:
        reporter.write_line(target_line(context) + "; each worker has its own users under test")
    else:
        reporter.write_line(
            f"{LINE_PREFIX}: embedded reference target, one per worker, run id {context.run_id}"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> bool | None:
    """No collection when the target was refused before it: nothing would run."""
    if session.config.stash.get(CONFIG_FAILURE, None) is None:
        return None
    session.items = []
    return True


def pytest_collection_finish(session: pytest.Session) -> None:
    """Open the run context (target + preflight) when suite tests were collected."""
    config = session.config
    context = context_of(config)
    if context is None or config.option.collectonly or config.stash.get(COLLECTION_REFUSED, False):
        return
    if config.stash.get(CONFIG_FAILURE, None) is not None:
        session.items[:] = []  # the controller found it already: no test runs
        return
    if session.testsfailed and not config.option.continue_on_collection_errors:
        return  # collection errors: pytest stops before running any test
    if not suite_items(config, session.items):
        return
    try:
        context.open()
    except ConfigError as failure:
        if is_worker(config):
            # The controller checked the target; a worker that now fails cannot drop the tests
            # xdist already scheduled, so it stops, and the controller reports the worker.
            stop_run(context, failure)
        sys.stderr.write(failure_line(context, failure) + "\n")
        sys.stderr.flush()
        config.stash[CONFIG_FAILURE] = failure
        session.items[:] = []  # no test runs; pytest_sessionfinish sets the exit code
        return
    reporter = None if is_worker(config) else config.pluginmanager.get_plugin("terminalreporter")
    if context.options.sweep_age is not None:
        line = (
            f"{LINE_PREFIX}: sweep: deleted {context.stale_removed} leftover user(s) of earlier "
            f"runs (username {USERNAME_PREFIX}…, created over {context.options.sweep_age} ago); "
            "no test ran"
        )
        sys.stdout.write(context.redactor.text(line) + "\n")
        config.stash[SWEPT] = True
        session.items[:] = []
        return
    if reporter is not None:
        reporter.write_line(target_line(context))


def target_line(context: RunContext) -> str:
    """`pingone-conformance: external target …, environment …, token via …, run id …`."""
    facts = context.describe()
    line = (
        f"{LINE_PREFIX}: {facts['kind']} target {facts['api_base_url']}, "
        f"environment {facts['env_id']}, token via {facts['token_method']}, "
        f"{len(context.policies.known)} password policies read, run id {context.run_id}"
    )
    if context.stale_removed:
        line += f", {context.stale_removed} stale users of earlier runs deleted"
    return context.redactor.text(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Record API exchanges into Allure only while a test and its fixtures run."""
    context = context_of(item.config)
    if context is not None:
        context.set_recording(True)
    try:
        return (yield)
    finally:
        if context is not None:
            context.set_recording(False)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Delete users under test still left; a configuration failure's code is the exit code."""
    failure = session.config.stash.get(CONFIG_FAILURE, None)
    if failure is not None:
        session.exitstatus = int(failure.exit_code)
    elif session.config.stash.get(SWEPT, False):
        session.exitstatus = pytest.ExitCode.OK
    context = context_of(session.config)
    if context is not None and context.opened:
        context.delete_leftovers()
