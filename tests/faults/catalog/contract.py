"""Contract faults: defects a stateless mock or a hasty server makes in bodies, types and shapes.

Each is applied to the reference from outside (a response rewrite of the password URL) and must
be caught by the contract suite (`suites/contract/`). The request-side faults decide what kind of
invalid body they see by validating it against the schema its media type selects in
`schemas/openapi.yaml`, the same table the suite reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError

from harness.operations import SCHEMAS_DIR
from harness.schemas import SchemaStore
from tests.faults.fault import Fault, wire_fault
from tests.faults.rewriting import ASGIApp, Exchange, Match, rewrite

# The conformance class whose suite catches these faults (the full matrix runs that suite).
CONFORMANCE_CLASS = "contract"

OPENAPI = SCHEMAS_DIR / "openapi.yaml"
PASSWORD_CALLS = Match.password_calls()
JSON_HEADERS = [(b"content-type", b"application/json")]


@cache
def _store() -> SchemaStore:
    return SchemaStore()


@cache
def _request_schemas() -> dict[tuple[str, str], str]:
    """(METHOD, lower-case media type) → request schema file, from openapi.yaml."""
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    item = document["paths"]["/environments/{envID}/users/{userID}/password"]
    found: dict[tuple[str, str], str] = {}
    for method in ("put", "post"):
        for media, entry in item[method]["requestBody"]["content"].items():
            found[(method.upper(), media.lower())] = Path(entry["schema"]["$ref"]).name
    return found


def _flatten(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        yield error
        yield from _flatten(iter(error.context or []))


def _request_errors(exchange: Exchange) -> list[ValidationError]:
    """Schema errors of a JSON object request body; empty when it is valid or not an object."""
    schema = _request_schemas().get((exchange.method, exchange.media_type))
    if schema is None or not isinstance(exchange.request_body, dict):
        return []
    return list(_flatten(_store().validator(schema).iter_errors(exchange.request_body)))


def _state_body(exchange: Exchange) -> dict[str, Any]:
    parts = exchange.path.strip("/").split("/")
    env_id = parts[parts.index("environments") + 1]
    user_id = parts[parts.index("users") + 1]
    return {"environment": {"id": env_id}, "user": {"id": user_id}, "status": "OK"}


def _accept(exchange: Exchange) -> None:
    exchange.status = 200
    exchange.headers = list(JSON_HEADERS)
    exchange.body = _state_body(exchange)


def _refused(exchange: Exchange, validator: str, instance_is_null: bool | None = None) -> bool:
    if exchange.status != 400:
        return False
    for error in _request_errors(exchange):
        if error.validator != validator:
            continue
        if instance_is_null is None or (error.instance is None) == instance_is_null:
            return True
    return False


def _server_error_on_wrong_type(exchange: Exchange) -> None:
    if _refused(exchange, "type", instance_is_null=False):
        exchange.status = 500
        exchange.headers = list(JSON_HEADERS)
        exchange.body = {"id": "f0", "code": "UNEXPECTED_ERROR", "message": "Unexpected error"}


def _null_accepted(exchange: Exchange) -> None:
    if _refused(exchange, "type", instance_is_null=True):
        _accept(exchange)


def _required_not_enforced(exchange: Exchange) -> None:
    if _refused(exchange, "required"):
        _accept(exchange)


def _min_length_not_enforced(exchange: Exchange) -> None:
    if _refused(exchange, "minLength"):
        _accept(exchange)


def _malformed_body_crashes(exchange: Exchange) -> None:
    if exchange.status == 400 and not isinstance(exchange.request_body, dict):
        exchange.status = 500
        exchange.headers = [(b"content-type", b"text/html")]
        exchange.body = b"<html><body>Internal Server Error</body></html>"


def _wrong_media_type_accepted(exchange: Exchange) -> None:
    if exchange.status == 415:
        _accept(exchange)


def _user_id_as_number(exchange: Exchange) -> None:
    body = exchange.body
    if exchange.status == 200 and isinstance(body, dict) and isinstance(body.get("user"), dict):
        body["user"]["id"] = 4242


def _text_plain_success(exchange: Exchange) -> None:
    if exchange.status == 200 and isinstance(exchange.body, dict):
        exchange.headers = [(k, v) for k, v in exchange.headers if k.lower() != b"content-type"]
        exchange.headers.append((b"content-type", b"text/plain; charset=utf-8"))
        exchange.body = json.dumps(exchange.body).encode()


def _last_changed_not_a_date_time(exchange: Exchange) -> None:
    body = exchange.body
    if isinstance(body, dict) and isinstance(body.get("lastChangedAt"), str):
        body["lastChangedAt"] = "2025-04-11 at 16:02"


def _two_default_policies(exchange: Exchange) -> None:
    policies = (exchange.body or {}).get("_embedded", {}).get("passwordPolicies")
    if exchange.status == 200 and isinstance(policies, list):
        for policy in policies:
            if isinstance(policy, dict):
                policy["default"] = True


POLICY_LIST_CALLS = Match(method="GET", path_suffix="/passwordPolicies")


def _on_password_responses(change: Callable[[Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, PASSWORD_CALLS, on_response=change)


FAULTS: tuple[Fault, ...] = (
    wire_fault(
        "contract-5xx-on-wrong-type",
        "A body field of the wrong JSON type makes the server answer 500 instead of 400.",
        ("P1-CT-002",),
        _on_password_responses(_server_error_on_wrong_type),
    ),
    wire_fault(
        "contract-null-accepted",
        "null is accepted where the schema wants a string, boolean or object.",
        ("P1-CT-002",),
        _on_password_responses(_null_accepted),
    ),
    wire_fault(
        "contract-required-not-enforced",
        "A body without a required field is accepted with 200.",
        ("P1-CT-002",),
        _on_password_responses(_required_not_enforced),
    ),
    wire_fault(
        "contract-min-length-not-enforced",
        "An empty string is accepted where the schema sets minLength 1.",
        ("P1-CT-002",),
        _on_password_responses(_min_length_not_enforced),
    ),
    wire_fault(
        "contract-malformed-body-crashes",
        "An empty, non-object, non-JSON or non-UTF-8 body answers a 500 HTML page.",
        ("P1-CT-002",),
        _on_password_responses(_malformed_body_crashes),
    ),
    wire_fault(
        "contract-wrong-media-type-accepted",
        "A Content-Type that selects no operation of the method (another method's, unknown, "
        "application/json, none) is served with 200.",
        ("P1-MT-002",),
        _on_password_responses(_wrong_media_type_accepted),
    ),
    wire_fault(
        "contract-response-user-id-a-number",
        "Successful password answers carry user.id as a number, not a string.",
        ("P1-CT-003",),
        _on_password_responses(_user_id_as_number),
    ),
    wire_fault(
        "contract-text-plain-response",
        "Successful password answers are labelled text/plain.",
        ("P1-CT-004",),
        _on_password_responses(_text_plain_success),
    ),
    wire_fault(
        "contract-last-changed-not-a-date-time",
        "lastChangedAt is not an RFC 3339 date-time.",
        ("P1-CT-003",),
        _on_password_responses(_last_changed_not_a_date_time),
    ),
    wire_fault(
        "contract-every-policy-the-default",
        "The password-policy list marks every policy default: true.",
        ("P1-POLICY-001",),
        lambda app: rewrite(app, POLICY_LIST_CALLS, on_response=_two_default_policies),
    ),
)
