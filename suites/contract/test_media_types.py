"""Media types: the wrong or an unknown type is refused; parameters and letter case are not fatal.

Sources: the set page ("The request requires the application/vnd.pingidentity.password.set+json
custom content type to be set in the Content-Type HTTP header."). Ping does not document the
status of a refused type; 400, 405 and 415 with the error envelope all pass (P1-MT-002).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import pytest

from harness.body_derivation import encode
from harness.client import ApiClient
from harness.contract_cases import error_envelope_problems
from harness.data_files import read_yaml
from harness.operations import Operation, OperationTable
from harness.schemas import SchemaStore
from harness.users import UserFactory, UserUnderTest

_SCHEMAS = SchemaStore()
_OPERATIONS = [op for op in OperationTable.load() if op.media_type and op.request_schema]
_METHODS = sorted({op.method for op in _OPERATIONS})
REFUSED = (400, 405, 415)
UNKNOWN_TYPE = "application/vnd.pingidentity.password.noSuchOperation+json"
SENDING: dict[str, Any] = read_yaml(Path(__file__).parent / "cases" / "valid-bodies.yaml")[
    "operations"
]


@dataclass(frozen=True)
class Refused:
    """A request whose Content-Type selects no operation of its method."""

    id: str
    method: str
    content_type: str | None
    body: bytes


def _example(operation: Operation) -> bytes:
    assert operation.request_schema is not None
    return encode(_SCHEMAS.schema(operation.request_schema)["examples"][0])


def _refused_cases() -> list[Refused]:
    cases = []
    for operation in _OPERATIONS:
        for method in _METHODS:
            if method != operation.method:
                cases.append(
                    Refused(
                        f"{operation.name} type on {method}",
                        method,
                        operation.media_type,
                        _example(operation),
                    )
                )
    set_body = _example(_OPERATIONS[0])
    for method in _METHODS:
        cases += [
            Refused(f"unknown vnd.pingidentity type on {method}", method, UNKNOWN_TYPE, set_body),
            Refused(f"application/json on {method}", method, "application/json", set_body),
            Refused(f"no Content-Type on {method}", method, None, set_body),
        ]
    return cases


# By id only: the bodies hold example passwords, and test parameters reach reports unredacted.
REFUSED_CASES = {case.id: case for case in _refused_cases()}


def _variations() -> list[tuple[str, Operation, str]]:
    found = []
    for operation in _OPERATIONS:
        assert operation.media_type is not None
        found.append(
            (f"{operation.name} with charset", operation, f"{operation.media_type}; charset=UTF-8")
        )
        found.append((f"{operation.name} in upper case", operation, operation.media_type.upper()))
    return found


@pytest.mark.requirement("P1-MT-002", "P1-CT-003", "P1-CT-004")
@pytest.mark.parametrize(
    "case_id", [pytest.param(case_id, id=case_id) for case_id in REFUSED_CASES]
)
def test_a_type_that_selects_no_operation_is_refused(
    case_id: str, api: ApiClient, refusing_user: UserUnderTest, schemas: SchemaStore
) -> None:
    """A Content-Type naming no operation of the method answers 400, 405 or 415 with the envelope.

    "The request requires the application/vnd.pingidentity.password.set+json custom content
    type to be set in the Content-Type HTTP header." Never 2xx, never 5xx.
    """
    case = REFUSED_CASES[case_id]
    allure.dynamic.title(case.id)
    response = api.request(
        case.method,
        api.password_url(refusing_user.id),
        raw_body=case.body,
        content_type=case.content_type,
    )
    exchange = api.last_exchange()
    where = exchange.summary() if exchange else ""
    assert response.status_code in REFUSED, (
        f"{case.id} answered {response.status_code}, not one of {REFUSED}\n{where}"
    )
    problems = error_envelope_problems(schemas, response.status_code, response.content)
    assert not problems, f"{case.id}: the refusal is not the error envelope: {problems}\n{where}"


@pytest.mark.requirement("P1-CT-005", "P1-CT-003", "P1-CT-004")
@pytest.mark.parametrize(
    ("operation", "content_type"),
    [pytest.param(op, content_type, id=name) for name, op, content_type in _variations()],
)
def test_a_spelling_variation_of_the_type_is_served_or_refused_cleanly(
    operation: Operation,
    content_type: str,
    api: ApiClient,
    user_factory: UserFactory,
    schemas: SchemaStore,
) -> None:
    """`; charset=UTF-8` or upper case: the operation's own answer, or a clean 400/415 refusal.

    Ping's pages are silent on both, so either passes; a 5xx, a non-JSON answer or a body that
    breaks its schema does not.
    """
    sending = SENDING[operation.name]
    user = user_factory.create(password="valid" if sending["user"] == "with-password" else None)
    response = api.request(
        operation.method,
        api.password_url(user.id),
        raw_body=_example(operation),
        content_type=content_type,
    )
    exchange = api.last_exchange()
    where = exchange.summary() if exchange else ""
    status = response.status_code
    if 200 <= status < 300:
        return
    assert status in (400, 415), f"{content_type} answered {status}, not 2xx, 400 or 415\n{where}"
    problems = error_envelope_problems(schemas, status, response.content)
    assert not problems, (
        f"{content_type}: the {status} is not the error envelope: {problems}\n{where}"
    )
