"""The run's exchange audit: what it looks for, what it leaves alone, and that findings never
quote the leaked text; and the security probes' credentials and bodies."""

from __future__ import annotations

import base64
import json

import requests

from harness.config import ClientCredentials, Target
from harness.exchange_audit import ExchangeAudit, response_leaks
from harness.operations import OperationTable
from harness.passwords import PasswordBook, PasswordPolicy
from harness.redaction import Redactor
from harness.schemas import SchemaStore
from harness.security_probes import (
    BAD_CREDENTIALS,
    CredentialContext,
    example_body,
    forged_token,
    password_fields,
    unsigned_token,
)

SECRET = "Spruce-Harbor-71k!"
TARGET = Target(
    api_base_url="http://127.0.0.1:9/v1",
    auth_base_url="http://127.0.0.1:9",
    env_id="env-1",
    credentials=ClientCredentials("client", "client-secret-value"),
    is_reference=True,
)


def response(status: int, body: object, url: str = "http://h/v1/x/password") -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.url = url
    answer._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer.headers["Content-Type"] = "application/json"
    return answer


def audited(*exchanges: tuple[object, requests.Response]) -> ExchangeAudit:
    audit = ExchangeAudit(Redactor())
    for sent, answer in exchanges:
        data = json.dumps(sent).encode() if sent is not None else None
        audit.observe("PUT", {"Authorization": "Bearer tok-EN.value-123"}, data, answer)
    return audit


def test_an_echoed_password_is_found_without_being_quoted() -> None:
    audit = audited(
        ({"value": SECRET}, response(200, {"status": "OK"})),
        ({"password": "x"}, response(400, {"code": "INVALID_DATA", "message": f"bad {SECRET}"})),
    )
    findings = audit.secret_echoes()
    assert len(findings) == 1
    assert SECRET not in findings[0]
    assert "→ 400" in findings[0]


def test_json_escaped_and_nested_passwords_are_found() -> None:
    nested = {"username": "u", "password": {"value": 'Quote"d-Pass/9x'}}
    audit = audited((nested, response(400, b'{"message": "Quote\\"d-Pass\\/9x"}')))
    assert audit.secret_echoes()


def test_a_bearer_token_echoed_is_found() -> None:
    audit = audited((None, response(401, {"code": "ACCESS_FAILED", "message": "tok-EN.value-123"})))
    assert audit.secret_echoes()


def test_short_plain_or_public_values_are_not_looked_for() -> None:
    audit = audited(
        ({"password": "password"}, response(400, {"target": "password"})),
        ({"value": "abc1"}, response(400, {"message": "abc1"})),
        (
            {"username": "Same-As-Pass-1", "value": "Same-As-Pass-1"},
            response(201, {"username": "Same-As-Pass-1"}),
        ),
    )
    assert audit.secret_echoes() == []


def test_the_response_that_issues_a_token_is_not_an_echo() -> None:
    audit = audited((None, response(200, {"access_token": "tok-EN.value-123"})))
    assert audit.secret_echoes() == []


def test_hashes_traces_and_paths_are_found_and_urls_are_not() -> None:
    audit = audited(
        (None, response(200, {"hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})),
        (
            None,
            response(
                500, {"message": 'Traceback (most recent call last):\n  File "/app/x.py", line 3'}
            ),
        ),
        (None, response(404, {"message": "not found in /srv/app/store.py"})),
        (None, response(200, {"_links": {"self": {"href": "https://api.example.com/v1/users/1"}}})),
        (None, response(400, {"message": "unsupported scheme {SSHA512}"})),
    )
    assert [f.split(":")[0] for f in audit.hashes()] == ["PUT /v1/x/password → 200"]
    internals = audit.internals()
    assert len(internals) == 2
    assert "a Python traceback" in internals[0]
    assert "an internal Unix path" in internals[1]


def test_errors_and_429s_are_listed() -> None:
    audit = audited(
        (None, response(400, {"id": "a", "code": "INVALID_DATA", "message": "m"})),
        (None, response(429, {"code": "REQUEST_LIMITED", "message": "m"})),
        (None, response(200, {"status": "OK"})),
    )
    assert [error_id for _, error_id in audit.errors()] == ["a", None]
    assert [observed.status for observed in audit.rate_limited()] == [429]


def test_test_route_answers_are_not_audited() -> None:
    url = "http://h/__reference/recovery-codes/u"
    audit = audited((None, response(200, {"recoveryCode": "AB12CD34"}, url)))
    assert audit.responses == []


def test_response_leaks_names_kinds_only() -> None:
    leaks = response_leaks(
        response(400, {"message": f"{SECRET} at java.lang.Thread.run("}), {SECRET}
    )
    assert leaks == ["a password sent in the request", "a Java stack frame"]


def test_forged_and_unsigned_tokens_are_registered_for_redaction() -> None:
    redactor = Redactor()
    context = CredentialContext(TARGET, redactor, None)
    for token in (unsigned_token(context), forged_token(context)):
        header, payload, _ = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        assert claims["env"] == "env-1"
        assert redactor.text(f"x {token} y") == "x [REDACTED] y"
    assert (
        json.loads(base64.urlsafe_b64decode(unsigned_token(context).split(".")[0] + "=="))["alg"]
        == "none"
    )


def test_bad_credentials_have_unique_readable_ids() -> None:
    ids = [credential.id for credential in BAD_CREDENTIALS]
    assert len(ids) == len(set(ids))
    assert all(credential.needs in (None, "token-minting") for credential in BAD_CREDENTIALS)


def test_bodies_come_from_the_schema_examples_with_fresh_passwords() -> None:
    table, schemas = OperationTable.load(), SchemaStore()
    book = PasswordBook(Redactor())
    policy = PasswordPolicy.from_json({"length": {"min": 8, "max": 255}})
    redactor = Redactor()
    check = example_body(table.get("check"), schemas, book, policy, "Current-Pass-1", redactor)
    assert check == {"password": "Current-Pass-1"}
    admin = example_body(table.get("resetAdmin"), schemas, book, policy, "Current-Pass-1", redactor)
    assert admin["newPassword"] not in ("Current-Pass-1", "Temp-Lantern-58w")
    assert example_body(table.get("read"), schemas, book, policy, None, redactor) is None
    recover = example_body(table.get("recover"), schemas, book, policy, None, redactor)
    assert recover["recoveryCode"] != "7KQ2M9XA"
    assert redactor.text(recover["recoveryCode"]) == "[REDACTED]"
    assert password_fields(table.get("resetSelf"), schemas) == ["currentPassword", "newPassword"]
    assert password_fields(table.get("recover"), schemas) == ["newPassword"]
