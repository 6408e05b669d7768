"""The response contract: which schema a response must match, and what breaks it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.operations import OperationTable
from harness.response_contract import ResponseContract, is_json_media_type
from harness.schemas import SchemaStore

PASSWORD = "/v1/environments/e1/users/u1/password"
SET = "application/vnd.pingidentity.password.set+json"
CHECK = "application/vnd.pingidentity.password.check+json"
STATE: dict[str, Any] = {
    "environment": {"id": "e1"},
    "user": {"id": "u1"},
    "status": "OK",
    "lastChangedAt": "2025-04-11T16:02:03.217Z",
    "_links": {"self": {"href": "https://api.example/v1/x"}},
}


@pytest.fixture(scope="module")
def contract() -> ResponseContract:
    return ResponseContract(SchemaStore(), OperationTable.load())


def _violations(
    contract: ResponseContract,
    body: Any,
    *,
    method: str = "PUT",
    path: str = PASSWORD,
    request_type: str | None = SET,
    status: int = 200,
    response_type: str | None = "application/hal+json",
) -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return contract.violations(
        method=method,
        path=path,
        request_content_type=request_type,
        status=status,
        response_content_type=response_type,
        body=raw,
    )


def test_schema_per_operation_and_status(contract: ResponseContract) -> None:
    assert contract.schema_for(PASSWORD, "PUT", 200, SET, None) == "password-state.schema.json"
    assert contract.schema_for(PASSWORD, "POST", 200, CHECK, None) == (
        "password-check.response.schema.json"
    )
    reset = "application/vnd.pingidentity.password.reset+json"
    assert contract.schema_for(PASSWORD, "PUT", 200, reset, None) == (
        "password-result.response.schema.json"
    )
    assert contract.schema_for(PASSWORD, "GET", 200, None, None) == "password-state.schema.json"
    assert contract.schema_for(PASSWORD, "PUT", 400, SET, None) == "error.schema.json"
    assert contract.schema_for(PASSWORD, "PUT", 429, SET, None) == "error-limited.schema.json"
    assert contract.schema_for("/v1/environments/e1/users", "POST", 201, None, None) == (
        "user.schema.json"
    )
    assert contract.schema_for("/v1/environments/e1/users/u1", "DELETE", 204, None, None) is None
    assert contract.schema_for(PASSWORD, "PUT", 405, SET, None) is None


def test_a_valid_body_with_extra_properties_and_links_passes(contract: ResponseContract) -> None:
    body = {**STATE, "extra": {"a": 1}, "_links": {"self": {"href": "/x"}, "other": {"href": "y"}}}
    assert _violations(contract, body) == []


def test_a_wrongly_typed_field_is_named_by_its_path(contract: ResponseContract) -> None:
    found = _violations(contract, {**STATE, "user": {"id": 7}})
    assert len(found) == 1
    assert "$.user.id" in found[0]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("lastChangedAt", "2025-04-11 at 16:02", "$.lastChangedAt"),
        ("_links", {"self": {"href": "http://exa mple/<>"}}, "$['_links'].self.href"),
    ],
)
def test_formats_are_checked(contract: ResponseContract, field: str, value: Any, path: str) -> None:
    found = _violations(contract, {**STATE, field: value})
    assert any(path in line for line in found), found


def test_the_email_format_is_checked() -> None:
    assert not SchemaStore().is_valid(
        {"username": "a", "email": "no-at-sign"}, "user-create.request.schema.json"
    )


def test_content_type_must_be_json(contract: ResponseContract) -> None:
    assert _violations(contract, STATE, response_type="application/json; charset=UTF-8") == []
    assert any("text/plain" in v for v in _violations(contract, STATE, response_type="text/plain"))
    assert _violations(contract, STATE, response_type=None)
    assert is_json_media_type("application/problem+json")
    assert not is_json_media_type("text/html")


def test_an_error_without_the_envelope_breaks_the_contract(contract: ResponseContract) -> None:
    assert _violations(contract, {"id": "1", "code": "X", "message": "m"}, status=400) == []
    found = _violations(contract, {"error": {"code": "invalid_json"}}, status=400)
    assert any("'id' is a required property" in line for line in found)


def test_an_undeclared_status_checks_only_the_content_type(contract: ResponseContract) -> None:
    assert _violations(contract, {"anything": 1}, status=405) == []
    assert _violations(contract, b"<html></html>", status=500, response_type="text/html")


def test_an_empty_or_non_json_body_where_one_is_declared(contract: ResponseContract) -> None:
    assert _violations(contract, b"")
    assert _violations(contract, b"{not json")
    assert (
        _violations(
            contract,
            b"",
            method="DELETE",
            path="/v1/environments/e/users/u",
            status=204,
            request_type=None,
            response_type=None,
        )
        == []
    )
