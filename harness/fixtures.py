"""Fixtures the suites ask for: `target`, `api`, `user_factory`, `password_policy`, `passwords`,
`sources`.

They are layered over the run context: `run_context` opens it (target, token, preflight) once
per session; `target` and `api` expose what it resolved; `user_factory` hands each test users
that are deleted when the test ends, whatever its outcome.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.client import ApiClient
from harness.config import ConfigError, Target
from harness.operations import OperationTable
from harness.passwords import PasswordBook, PasswordPolicy
from harness.requirements import RequirementCatalog
from harness.run_context import RunContext, context_of
from harness.schemas import SchemaStore
from harness.sources import Sources
from harness.target_plugin import stop_run
from harness.users import UserFactory


@pytest.fixture(scope="session")
def run_context(request: pytest.FixtureRequest) -> RunContext:
    """The opened run context; a configuration failure ends the run with its exit code."""
    context = context_of(request.config)
    if context is None:
        pytest.fail("the harness run context is not installed (root conftest.py not loaded)")
    try:
        context.open()
    except ConfigError as failure:
        stop_run(context, failure)
    return context


@pytest.fixture(scope="session")
def target(run_context: RunContext) -> Target:
    """The target under test: URLs, environment id, how it authenticates, reference or not."""
    return run_context.target


@pytest.fixture(scope="session")
def api(run_context: RunContext) -> ApiClient:
    """The API client: bearer token, 429 handling, every exchange recorded (redacted)."""
    return run_context.api


@pytest.fixture(scope="session")
def password_policy(run_context: RunContext) -> PasswordPolicy:
    """The environment's default password policy, as the target reports it."""
    return run_context.policies.default()


@pytest.fixture(scope="session")
def passwords(run_context: RunContext) -> PasswordBook:
    """Makes policy-conformant and wrong passwords; each is registered with redaction."""
    return run_context.passwords


@pytest.fixture(scope="session")
def schemas(run_context: RunContext) -> SchemaStore:
    """The `schemas/` files, ready to validate bodies (Draft 2020-12, formats checked)."""
    return run_context.schemas


@pytest.fixture(scope="session")
def operations(run_context: RunContext) -> OperationTable:
    """The operation table of `schemas/operations.yaml`."""
    return run_context.operations


@pytest.fixture(scope="session")
def sources(target: Target, request: pytest.FixtureRequest) -> Sources:
    """What the run has beyond a worker token: recovery codes, a clock, an external IdP, a
    self-service actor (harness/sources.py); a case that lacks one skips as not assessed.

    Under -n against an external target the workers share it, so its clock is no source."""
    shared = hasattr(request.config, "workerinput") and not target.is_reference
    return Sources.from_target(target, shared_by_workers=shared)


@pytest.fixture(scope="session")
def requirement_catalog() -> RequirementCatalog:
    """The requirement catalog of `schemas/requirements.yaml`."""
    return RequirementCatalog.load()


@pytest.fixture
def user_factory(run_context: RunContext) -> Iterator[UserFactory]:
    """Creates users under test for one test and deletes them when it ends, pass or fail."""
    factory = UserFactory(run_context.users)
    try:
        yield factory
    finally:
        failed = factory.cleanup()
        if failed:
            run_context.undeleted = sorted(set(run_context.undeleted) | set(failed))
