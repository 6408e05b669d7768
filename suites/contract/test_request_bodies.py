"""Request bodies: every valid one is accepted, every derived invalid one answers 400.

Sources: each operation's page (request model and body sample); the cases are derived from the
request schemas in schemas/ (harness/body_derivation.py) and the per-operation data in
cases/valid-bodies.yaml. The answer's body is validated against its schema by the API client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest

from harness.client import ApiClient
from harness.contract_cases import (
    BodyCase,
    error_envelope_problems,
    invalid_cases,
    valid_cases,
)
from harness.data_files import read_yaml
from harness.operations import OperationTable
from harness.schemas import SchemaStore
from harness.users import UserFactory, UserUnderTest

_SCHEMAS = SchemaStore()
_OPERATIONS = OperationTable.load()
# Parametrized by id only: a case's body holds example passwords, and test parameters are
# written into reports unredacted.
VALID = {case.id: case for case in valid_cases(_SCHEMAS, _OPERATIONS)}
INVALID = {case.id: case for case in invalid_cases(_SCHEMAS, _OPERATIONS)}
SENDING: dict[str, Any] = read_yaml(Path(__file__).parent / "cases" / "valid-bodies.yaml")[
    "operations"
]
_MISSING = sorted({case.operation.name for case in VALID.values()} - set(SENDING))
if _MISSING:
    raise pytest.UsageError(f"cases/valid-bodies.yaml has no entry for {_MISSING}")


def _send(api: ApiClient, user_id: str, case: BodyCase) -> Any:
    return api.request(
        case.operation.method,
        api.password_url(user_id),
        raw_body=case.body.raw,
        content_type=case.media_type,
    )


@pytest.mark.requirement("P1-CT-001", "P1-CT-003", "P1-CT-004")
@pytest.mark.parametrize("case_id", [pytest.param(case_id, id=case_id) for case_id in VALID])
def test_valid_body_is_accepted(
    case_id: str, api: ApiClient, user_factory: UserFactory, schemas: SchemaStore
) -> None:
    """A documented body under its media type is never refused as unsupported nor with a 5xx.

    "The request requires the application/vnd.pingidentity.password.set+json custom content
    type to be set in the Content-Type HTTP header." Where the user's state or the target's
    policy decides, a 400 with the error envelope is accepted, for the reason the case data gives.
    """
    case = VALID[case_id]
    sending = SENDING[case.operation.name]
    refusal = sending.get("refusal")
    allure.dynamic.title(case.id)
    if refusal:
        allure.dynamic.description(f"A 400 is accepted ({refusal['because']}): {refusal['reason']}")
    user = user_factory.create(password="valid" if sending["user"] == "with-password" else None)
    response = _send(api, user.id, case)
    exchange = api.last_exchange()
    where = exchange.summary() if exchange else ""
    status = response.status_code
    if refusal and status == 400:
        problems = error_envelope_problems(schemas, status, response.content)
        assert not problems, (
            f"a 400 ({refusal['because']} decides) without the envelope: {problems}\n{where}"
        )
        return
    assert 200 <= status < 300, (
        f"a valid {case.operation.name} body answered {status}"
        + (" (400 accepted only because: " + refusal["reason"] + ")" if refusal else "")
        + f"\n{where}"
    )


@pytest.mark.requirement("P1-CT-002", "P1-CT-003", "P1-CT-004")
@pytest.mark.parametrize("case_id", [pytest.param(case_id, id=case_id) for case_id in INVALID])
def test_invalid_body_answers_400_with_the_envelope(
    case_id: str, api: ApiClient, refusing_user: UserUnderTest, schemas: SchemaStore
) -> None:
    """A body that breaks the operation's request model answers 400 with the error envelope.

    "Request Model Property Type Required? password String Required" (the check page; each
    operation's page has its model). Never 2xx, never 5xx; any error code passes.
    """
    case = INVALID[case_id]
    allure.dynamic.title(case.id)
    response = _send(api, refusing_user.id, case)
    exchange = api.last_exchange()
    where = exchange.summary() if exchange else ""
    assert response.status_code == 400, (
        f"{case.id} ({case.body.kind}) answered {response.status_code}, not 400\n{where}"
    )
    problems = error_envelope_problems(schemas, response.status_code, response.content)
    assert not problems, f"{case.id}: the 400 is not the error envelope: {problems}\n{where}"
