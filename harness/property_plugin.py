"""pytest hooks for the property suite: load schemathesis only when it is wanted, seed, record.

- `pytest.ini` disables plugin autoload, so schemathesis's pytest plugin is imported here, and
  only when the run's arguments include `suites/property` (or `suites` as a whole, or nothing,
  which collects `suites`). A `pytest suites/behaviour` or `pytest tests` run never imports
  schemathesis or Hypothesis.
- Hypothesis profiles: `quick` (the default; `make run`, `make test`) and `thorough` (release),
  chosen by `--hypothesis-profile-name`. Both use no example database and the run's seed
  (`--property-seed`, default fixed), so a failure reproduces with the seed the header prints.
- A failing generated case attaches its redacted curl reproducer to the Allure result once (the
  minimal example Hypothesis replays last); the property record (seed, profile, cases sent,
  failures) is written to `property-run.json` in the summary directory and to the Allure
  environment as `property_seed` / `property_profile`.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.requirements import FULL
from harness.run_context import RunContext, context_of
from harness.target_plugin import CONFIG_FAILURE, is_worker
from harness.users import UserFactory

PROPERTY_DIR = Path("suites") / "property"
PROFILES: dict[str, dict[str, Any]] = {
    # A handful of examples per generated operation, a few short scenarios: seconds in all.
    "quick": {
        "max_examples": 6,
        "stateful_steps": 16,
        "scenarios": 25,
        "coverage": False,
        "shrink_seconds": 3,
    },
    # The pre-release run: many examples, long scenarios.
    "thorough": {
        "max_examples": 150,
        "stateful_steps": 25,
        "scenarios": 200,
        "coverage": True,
        "shrink_seconds": 300,
    },
}
RECORD_FILE = "property-run.json"
PROPERTY_SUITE = "property"
WANTED = pytest.StashKey[bool]()


def wants_property_suite(config: pytest.Config) -> bool:
    """True when the run's arguments reach `suites/property` and `--conformance` keeps it."""
    option = getattr(config, "option", None)
    text = str(getattr(option, "conformance", FULL) or FULL)
    claimed = {part.strip() for part in text.split(",")}
    if not claimed & {FULL, PROPERTY_SUITE}:
        return False  # the property suite would be left out: no need to import it
    root = Path(str(config.rootpath))
    target = (root / PROPERTY_DIR).resolve()
    args = [a for a in config.args if not a.startswith("-")] or [str(root / "suites")]
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        resolved = path if path.is_absolute() else Path(str(config.invocation_params.dir)) / path
        resolved = resolved.resolve()
        if resolved == target or target.is_relative_to(resolved) or resolved.is_relative_to(target):
            return True
    return False


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Import the schemathesis plugin and register the Hypothesis profiles when wanted."""
    # The target was refused before collection (harness.target_plugin): nothing will run.
    refused = config.stash.get(CONFIG_FAILURE, None) is not None
    wanted = wants_property_suite(config) and not refused
    config.stash[WANTED] = wanted
    if not wanted:
        return
    config.pluginmanager.import_plugin("schemathesis.pytest.plugin")
    from hypothesis import HealthCheck, Phase, settings

    for name, values in PROFILES.items():
        settings.register_profile(
            f"pingone-{name}",
            max_examples=values["max_examples"],
            stateful_step_count=values["stateful_steps"],
            deadline=None,
            database=None,
            print_blob=False,
            report_multiple_bugs=False,
            # No explain phase: it replays the failing case many times to annotate it.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
            ],
        )
    context = context_of(config)
    profile = context.options.property_profile if context is not None else "quick"
    settings.load_profile(f"pingone-{profile}")
    _bound_shrinking(PROFILES[profile]["shrink_seconds"])
    from harness import property as property_machinery

    property_machinery.configure(
        context.options.property_seed if context is not None else 0,
        coverage=PROFILES[profile]["coverage"],
        scenarios=PROFILES[profile]["scenarios"],
    )


def _bound_shrinking(seconds: int) -> None:
    """Cap Hypothesis's shrinking time per test (its default is 300 s).

    Under a fault, every generated test fails and shrinks; in the quick profile the reproducer
    is as minimal as Hypothesis gets it in a few seconds. Hypothesis has no setting for this, so
    its engine's module constant is set (checked to exist, so an upgrade that drops it fails
    loudly here instead of silently shrinking for minutes).
    """
    from hypothesis.internal.conjecture import engine

    if not hasattr(engine, "MAX_SHRINKING_SECONDS"):
        raise pytest.UsageError("hypothesis no longer has MAX_SHRINKING_SECONDS; update harness")
    engine.MAX_SHRINKING_SECONDS = seconds


def pytest_report_header(config: pytest.Config) -> str | None:
    """Print the seed and profile, so a failing run can be replayed exactly."""
    context = context_of(config)
    if not config.stash.get(WANTED, False) or context is None:
        return None
    options = context.options
    if not (Path(str(config.rootpath)) / PROPERTY_DIR).is_dir():
        return None
    return (
        f"property suite: seed {options.property_seed}, "
        f"profile {options.property_profile} (replay: --property-seed {options.property_seed})"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Attach the minimal failing case's redacted reproducer to the test's Allure result."""
    try:
        return (yield)
    except BaseException as error:
        curl = getattr(error, "curl", None)
        if isinstance(curl, str):
            import allure

            allure.attach(curl, "minimal reproducer (curl)", allure.attachment_type.TEXT)
            record = item.config.stash.get(RECORD, None)
            if record is not None:
                record.failures[item.nodeid] = str(error).splitlines()[0]
        raise


RECORD = pytest.StashKey[Any]()


@pytest.fixture
def property_user(user_factory: UserFactory) -> Any:
    """The user a generated-request test addresses: one per test, with a valid password."""
    return user_factory.create(password="valid")


@pytest.fixture(scope="session")
def property_runner(request: pytest.FixtureRequest, run_context: RunContext) -> Any:
    """Sends generated cases to the target with the run's token; failures come out redacted."""
    from harness.property import PropertyRunner

    return PropertyRunner(
        run_context.api,
        run_context.target.api_base_url,
        run_context.redactor,
        property_record(request.config),
        run_context.users,
    )


def property_record(config: pytest.Config) -> Any:
    """The run's `PropertyRecord` (created on first use)."""
    record = config.stash.get(RECORD, None)
    if record is None:
        from harness.property import PropertyRecord

        context = context_of(config)
        seed = context.options.property_seed if context is not None else 0
        profile = context.options.property_profile if context is not None else "quick"
        record = PropertyRecord(seed=seed, profile=profile)
        config.stash[RECORD] = record
    return record


def property_facts(config: pytest.Config) -> dict[str, Any] | None:
    """This process's property record as data (a worker's share under -n: the requirement
    tracker carries it to the controller with the test records, and merges); None when the
    property suite sent nothing here."""
    record = config.stash.get(RECORD, None)
    if record is None:
        return None
    return {
        "seed": record.seed,
        "profile": record.profile,
        "cases": record.cases,
        "statuses": dict(record.statuses),
        "failures": dict(record.failures),
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the property record for the summary and the Allure environment."""
    config = session.config
    context = context_of(config)
    if context is None or is_worker(config):
        return  # the controller writes the record once, for the whole run
    tracker = config.pluginmanager.get_plugin("requirement-tracker")
    summary = getattr(tracker, "summary", None)
    facts = summary.property_run if summary is not None else None
    if facts is None:
        return
    directory = context.options.summary_dir
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD_FILE).write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
    alluredir = context.options.alluredir
    if alluredir is not None and alluredir.is_dir():
        with (alluredir / "environment.properties").open("a", encoding="utf-8") as out:
            out.write(f"property_seed={facts['seed']}\nproperty_profile={facts['profile']}\n")
            out.write(f"property_cases={facts['cases']}\n")
