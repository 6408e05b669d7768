"""Isolation: a user is reachable only through its own environment, and an unknown user is not
found, on every password operation of schemas/operations.yaml.

Ping's official Go client spec notes that a 403 "may occur if the environment doesn't exist", and
declares 404 NOT_FOUND for a missing resource; the error-codes page reserves the right to move
codes within the 4xx class. So another environment's id passes on 403 or 404, an unknown user on
404, each with the error envelope, and never with the user's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import requests

from harness.client import ApiClient
from harness.config import Target
from harness.operations import Operation, OperationTable
from harness.passwords import PasswordBook, PasswordPolicy
from harness.schemas import SchemaStore
from harness.security_probes import (
    ReferenceControls,
    carries_user_data,
    envelope_problems,
    example_body,
    password_state,
)
from harness.users import UserFactory

OPERATIONS = [pytest.param(op, id=op.name) for op in OperationTable.load()]


def send(
    api: ApiClient,
    operation: Operation,
    url: str,
    body: object,
    authorization: str | None = None,
) -> tuple[requests.Response, str]:
    """Send `operation` to `url`; the response and a redacted summary for messages."""
    response = api.request(
        operation.method,
        url,
        json_body=body,
        content_type=operation.media_type if body is not None else None,
        headers={"Authorization": authorization} if authorization else None,
        authenticated=authorization is None,
    )
    exchange = api.last_exchange()
    assert exchange is not None
    return response, exchange.summary()


@pytest.mark.requirement("P1-AUTH-003", "P1-ERR-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_user_is_not_reachable_through_another_environments_id(
    operation: Operation,
    api: ApiClient,
    target: Target,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
) -> None:
    """A real user addressed through another environment's id answers 403 or 404, with the error
    envelope, and nothing changes.

    "may occur if the environment doesn't exist" (Ping's official Go client spec, on 403).
    """
    _assert_other_environment_refused(
        operation, api, target, user_factory, passwords, schemas, (403, 404)
    )


@pytest.mark.requirement("P1-SEC-003", "P1-ERR-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_token_of_another_environment_does_not_reach_this_environments_users(
    operation: Operation,
    api: ApiClient,
    target: Target,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
    reference_controls: ReferenceControls | None,
) -> None:
    """A user addressed through another environment's id, with a valid token of that
    environment, answers 401, 403 or 404 with the error envelope, and nothing changes.

    "may occur if the environment doesn't exist" (Ping's official Go client spec, on 403).
    """
    if reference_controls is None:
        pytest.skip(
            "needs a source: token-minting (only the reference's test routes mint a token of "
            "another environment; this target offers none)"
        )
    _assert_other_environment_refused(
        operation,
        api,
        target,
        user_factory,
        passwords,
        schemas,
        (401, 403, 404),
        mint=reference_controls.mint_token,
    )


def _assert_other_environment_refused(
    operation: Operation,
    api: ApiClient,
    target: Target,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
    statuses: tuple[int, ...],
    mint: Callable[..., str] | None = None,
) -> None:
    """A real user of this environment, addressed through another environment's id (with this
    run's token, or with one `mint` made for that other environment), answers one of `statuses`
    with the error envelope and without the user's data; the password state does not change."""
    user = user_factory.create(password="valid")
    body = example_body(
        operation, schemas, passwords, user_factory.policy_of(user), user.password, api.redactor
    )
    before = password_state(api, user.id)
    other = str(uuid.uuid4())
    authorization = None if mint is None else f"Bearer {mint(environment_id=other)}"
    url = f"{target.api_base_url}/environments/{other}/users/{user.id}/password"
    response, summary = send(api, operation, url, body, authorization=authorization)
    expected = ", ".join(map(str, statuses[:-1])) + f" or {statuses[-1]}"
    assert response.status_code in statuses, f"expected HTTP {expected}\n{summary}"
    problems = envelope_problems(response, schemas)
    assert not problems, f"{'; '.join(problems)}\n{summary}"
    assert not carries_user_data(response, user), f"the answer carries the user's data\n{summary}"
    assert password_state(api, user.id) == before, "the password state changed"


@pytest.mark.requirement("P1-ERR-004", "P1-ERR-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unknown_user_is_not_found(
    operation: Operation,
    api: ApiClient,
    passwords: PasswordBook,
    password_policy: PasswordPolicy,
    schemas: SchemaStore,
) -> None:
    """A password operation on a user id the environment does not hold answers 404 with the error
    envelope.

    "Specific error codes within an error code class (such as, all 4xx error codes) are subject
    to change." (error-codes page; 404 NOT_FOUND is what Ping's specs declare.)
    """
    body = example_body(operation, schemas, passwords, password_policy, None, api.redactor)
    unknown = str(uuid.uuid4())
    response, summary = send(api, operation, api.password_url(unknown), body)
    assert response.status_code == 404, f"expected HTTP 404 for an unknown user\n{summary}"
    problems = envelope_problems(response, schemas)
    assert not problems, f"{'; '.join(problems)}\n{summary}"
