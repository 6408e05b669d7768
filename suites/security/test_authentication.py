"""Authentication: every password operation refuses a request without a valid access token.

Every request Ping documents for the password operations carries "Authorization Bearer
{{accessToken}}"; Ping's official Go client spec answers a missing or invalid token with 401 and
the top-level code ACCESS_FAILED. The operations come from schemas/operations.yaml; the refused
credentials from harness/security_probes.py.
"""

from __future__ import annotations

import pytest

from harness.client import ApiClient
from harness.operations import Operation, OperationTable
from harness.passwords import PasswordBook
from harness.schemas import SchemaStore
from harness.security_probes import (
    BAD_CREDENTIALS,
    BadCredential,
    CredentialContext,
    envelope_problems,
    example_body,
    password_state,
)
from harness.users import UserFactory

ACCESS_FAILED = "ACCESS_FAILED"
CASES = [
    pytest.param(
        operation,
        credential,
        id=f"{operation.name}: {credential.id}",
        marks=pytest.mark.requirement(credential.requirement, "P1-ERR-001"),
    )
    for operation in OperationTable.load()
    for credential in BAD_CREDENTIALS
]


@pytest.mark.parametrize(("operation", "credential"), CASES)
def test_password_operation_refuses_a_request_without_a_valid_token(
    operation: Operation,
    credential: BadCredential,
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
    credential_context: CredentialContext,
) -> None:
    """A password operation without a valid access token answers 401 ACCESS_FAILED and changes
    nothing.

    "Headers Authorization Bearer {{accessToken}}" (every password operation's page). The body
    sent is one the operation accepts, for a real user with a password, so a server that skipped
    authentication would carry it out. A token of another environment may also answer 403.
    """
    if credential.needs and credential_context.controls is None:
        pytest.skip(
            f"needs a source: {credential.needs} (only the reference's test routes mint an "
            f"{credential.id}; this target offers none)"
        )
    user = user_factory.create(password="valid")
    body = example_body(
        operation, schemas, passwords, user_factory.policy_of(user), user.password, api.redactor
    )
    before = password_state(api, user.id)
    header = credential.make(credential_context)
    response = api.request(
        operation.method,
        api.password_url(user.id),
        json_body=body,
        content_type=operation.media_type if body is not None else None,
        headers={"Authorization": header} if header is not None else None,
        authenticated=False,
    )
    exchange = api.last_exchange()
    assert exchange is not None
    assert response.status_code in credential.statuses, (
        f"{operation.name} with {credential.id}: expected HTTP "
        f"{' or '.join(map(str, credential.statuses))}\n{exchange.summary()}"
    )
    problems = envelope_problems(response, schemas, ACCESS_FAILED)
    assert not problems, f"{'; '.join(problems)}\n{exchange.summary()}"
    assert password_state(api, user.id) == before, (
        f"{operation.name} with {credential.id} was refused but changed the password state"
    )
