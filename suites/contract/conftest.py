"""Fixtures of the contract suite: one user per module for bodies that are meant to be refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.run_context import RunContext
from harness.users import UserFactory, UserUnderTest


@pytest.fixture(scope="module")
def refusing_user(run_context: RunContext) -> Iterator[UserUnderTest]:
    """A user with a policy-conformant password that every invalid body of a module is sent to.

    A refused body changes nothing, so the cases can share it; it is deleted when the module
    ends, whatever the outcome.
    """
    factory = UserFactory(run_context.users)
    try:
        yield factory.create(password="valid")
    finally:
        failed = factory.cleanup()
        if failed:
            run_context.undeleted = sorted(set(run_context.undeleted) | set(failed))
