"""Secret and error hygiene on probes likely to leak: every operation of schemas/operations.yaml
that takes a password, sent with a fresh password as the body says, with the password in an
array (a type error many validators echo), and as broken JSON (a parse error many parsers
echo); and a pre-encoded value imported, read back and checked.

No Ping page states these rules; the closest Ping text is that the user's password sub-object
is "never returned in the response" (the Go SDK spec written by a Ping engineer). The run-wide
audit (test_run_audit.py) checks the same on every response of the run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from harness.client import ApiClient
from harness.exchange_audit import response_leaks
from harness.operations import Operation, OperationTable
from harness.passwords import PasswordBook
from harness.schemas import SchemaStore
from harness.security_probes import example_body, password_fields
from harness.users import UserFactory

SHAPES: dict[str, Callable[[dict[str, Any], str, str], tuple[Any, str | None]]] = {
    # (json body, raw body): exactly one of them is used.
    "as sent": lambda body, field, probe: ({**body, field: probe}, None),
    "in an array": lambda body, field, probe: ({**body, field: [probe]}, None),
    "in broken JSON": lambda body, field, probe: (
        None,
        json.dumps({**body, field: probe})[:-1] + ',"',
    ),
}
PROBES = [
    pytest.param(operation, field, shape, id=f"{operation.name}: {field} {shape}")
    for operation in OperationTable.load()
    for field in password_fields(operation, SchemaStore())
    for shape in SHAPES
]


@pytest.mark.requirement("P1-SEC-004", "P1-SEC-005", "P1-SEC-006")
@pytest.mark.parametrize(("operation", "field", "shape"), PROBES)
def test_an_answer_gives_away_no_password_hash_or_internals(
    operation: Operation,
    field: str,
    shape: str,
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
) -> None:
    """The answer to a password operation carries neither the password sent, nor a password
    hash, nor a stack trace or internal path, whether the request was right, mistyped or broken.

    "never returned in the response" (the User password sub-object, Go SDK spec).
    """
    user = user_factory.create(password="valid")
    policy = user_factory.policy_of(user)
    body = example_body(operation, schemas, passwords, policy, user.password, api.redactor)
    probe = passwords.valid(policy)
    json_body, raw_body = SHAPES[shape](body, field, probe)
    response = api.request(
        operation.method,
        api.password_url(user.id),
        json_body=json_body,
        raw_body=raw_body,
        content_type=operation.media_type,
    )
    exchange = api.last_exchange()
    assert exchange is not None
    secrets = {probe, user.password} if user.password else {probe}
    leaks = response_leaks(response, secrets)
    assert not leaks, f"the answer carries {', '.join(leaks)}\n{exchange.summary()}"
    if shape != "as sent":
        assert 400 <= response.status_code < 500, (
            f"a {shape} password is refused with a 4xx\n{exchange.summary()}"
        )


def ssha512(password: str) -> str:
    """The LDAP {SSHA512} encoding of `password` with a random salt."""
    salt = os.urandom(8)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode("ascii")


@pytest.mark.requirement("P1-SEC-004", "P1-SEC-005", "P1-SEC-006")
def test_a_pre_encoded_password_is_never_returned(
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
) -> None:
    """A pre-encoded value, once set, appears in no answer: not the set, the password state, a
    check, or the user resource; and no answer carries any password hash.

    "The password can be either cleartext or pre-encoded." (set page) with "never returned in
    the response" (the User password sub-object, Go SDK spec).
    """
    user = user_factory.create(password="valid")
    cleartext = passwords.valid(user_factory.policy_of(user))
    encoded = ssha512(cleartext)
    api.redactor.register(encoded)
    answers = [
        api.password_operation(user.id, "set", {"value": encoded, "forceChange": False}),
        api.password_operation(user.id, "read"),
        api.get(api.password_url(user.id), params={"expand": "passwordPolicy"}),
        api.password_operation(user.id, "check", {"password": cleartext}),
        api.get(api.user_url(user.id)),
    ]
    # Whether the target accepts {SSHA512} is P1-SET-007's concern; a refusal must not leak either.
    for answer in answers:
        leaks = response_leaks(answer, {encoded, cleartext, encoded.removeprefix("{SSHA512}")})
        title = f"{answer.request.method} {answer.status_code}" if answer.request else ""
        assert not leaks, f"{title}: the answer carries {', '.join(leaks)}"
