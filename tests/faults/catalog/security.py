"""Security faults: authentication, isolation, secret and error hygiene, and rate-limit defects a
real server could have, applied to the reference from outside its code.

Two kinds of wrapper: `rewrite` (tests/faults/rewriting.py) changes what matching responses say;
the request wrappers here change what the reference is asked, the way a defective gateway or
handler would (a missing token treated as the service's own, a path's environment id ignored).
The reference's own token service mints the tokens such a defective server would accept, so the
reference then carries the request out exactly as the defective server would.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from reference.tokens import TokenError, TokenService
from tests.faults.fault import Fault, wire_fault
from tests.faults.rewriting import (
    PASSWORD_PATH_SUFFIX,
    ASGIApp,
    Exchange,
    Match,
    Message,
    Receive,
    Scope,
    Send,
    rewrite,
)

# The conformance class whose suite catches these faults (the full matrix runs that suite).
CONFORMANCE_CLASS = "security"

PASSWORD_CALLS = Match.password_calls()
EVERY_CALL = Match()
SECRET_FIELDS = ("value", "password", "currentPassword", "newPassword")
ENVIRONMENT_IN_PATH = re.compile(r"^/v1/environments/([^/]+)/")

# --- requests the defective server would accept ------------------------------------------------
TokenCheck = Callable[[str | None, TokenService, str], bool]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _with_header(scope: Scope, name: bytes, value: str) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != name]
    return {**scope, "headers": [*headers, (name, value.encode("latin-1"))]}


def _bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _claims(token: str | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The JWT's header and claims, decoded without checking anything."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2]]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    header, claims = decoded
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def _verification_error(token: str | None, tokens: TokenService) -> str | None:
    """Why the reference refuses the token ('missing', 'malformed token', 'expired token', …)."""
    if token is None:
        return "missing"
    try:
        tokens.verify(token)
    except TokenError as error:
        return str(error)
    return None


def _authorizing(check: TokenCheck, paths: Match = PASSWORD_CALLS) -> Callable[[ASGIApp], ASGIApp]:
    """A server that lets `check`-matching credentials through as the worker application."""

    def wrap(app: ASGIApp) -> ASGIApp:
        state = app.state  # type: ignore[attr-defined]
        tokens: TokenService = state.tokens
        environment = state.environment

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and paths.accepts(scope["method"], scope["path"], "")
                and check(_header(scope, b"authorization"), tokens, environment.id)
            ):
                issued = tokens.issue(
                    issuer="fault", env_id=environment.id, client_id=environment.client_id
                )
                scope = _with_header(scope, b"authorization", f"Bearer {issued.access_token}")
            await app(scope, receive, send)

        return wrapped

    return wrap


def _missing(header: str | None, tokens: TokenService, env_id: str) -> bool:
    return header is None


def _present_but_invalid(header: str | None, tokens: TokenService, env_id: str) -> bool:
    if header is None:
        return False
    token = _bearer(header)
    if _verification_error(token, tokens) is not None:
        return True
    decoded = _claims(token)
    return decoded is not None and decoded[1].get("env") != env_id


def _unsigned(header: str | None, tokens: TokenService, env_id: str) -> bool:
    decoded = _claims(_bearer(header))
    return decoded is not None and str(decoded[0].get("alg", "")).lower() == "none"


def _signature_ignored(header: str | None, tokens: TokenService, env_id: str) -> bool:
    decoded = _claims(_bearer(header))
    if decoded is None:
        return False
    claims = decoded[1]
    exp = claims.get("exp")
    return claims.get("env") == env_id and isinstance(exp, int) and exp > time.time()


def _expiry_ignored(header: str | None, tokens: TokenService, env_id: str) -> bool:
    token = _bearer(header)
    decoded = _claims(token)
    return (
        _verification_error(token, tokens) == "expired token"
        and decoded is not None
        and decoded[1].get("env") == env_id
    )


def _environment_ignored(header: str | None, tokens: TokenService, env_id: str) -> bool:
    token = _bearer(header)
    decoded = _claims(token)
    return (
        _verification_error(token, tokens) is None
        and decoded is not None
        and decoded[1].get("env") != env_id
    )


def _tenant_blind(app: ASGIApp) -> ASGIApp:
    """Users are looked up by id alone: the path's environment id and the token's are ignored."""
    authorized = _authorizing(_environment_ignored)(app)
    environment = app.state.environment  # type: ignore[attr-defined]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            ENVIRONMENT_IN_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        )
        if (
            found
            and found.group(1) != environment.id
            and scope["path"].endswith(PASSWORD_PATH_SUFFIX)
        ):
            path = scope["path"].replace(found.group(1), environment.id, 1)
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await authorized(scope, receive, send)

    return wrapped


def _refused_after_the_change(app: ASGIApp) -> ASGIApp:
    """Authentication checked after the handler ran: the change is made, then 401 is answered."""
    authorized = _authorizing(lambda h, t, e: _present_but_invalid(h, t, e) or h is None)(app)
    tokens: TokenService = app.state.tokens  # type: ignore[attr-defined]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(PASSWORD_PATH_SUFFIX):
            await app(scope, receive, send)
            return
        token = _bearer(_header(scope, b"authorization"))
        if _verification_error(token, tokens) is None:
            await app(scope, receive, send)
            return

        async def discard(message: Message) -> None:
            return None

        await authorized(scope, receive, discard)
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "code": "ACCESS_FAILED",
                "message": "The request could not be completed. You do not have access.",
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


# --- answers the defective server would give ---------------------------------------------------
def _token_without_lifetime(exchange: Exchange) -> None:
    if exchange.status == 200 and isinstance(exchange.body, dict):
        exchange.body.pop("expires_in", None)
        exchange.body["token_type"] = "mac"


TOKEN_CALLS = Match(method="POST", path_suffix="/as/token")


def _details(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("details"), list):
        return [d for d in body["details"] if isinstance(d, dict)]
    return []


def _submitted_secrets(exchange: Exchange) -> dict[str, Any]:
    body = exchange.request_body
    if not isinstance(body, dict):
        return {}
    return {key: body[key] for key in SECRET_FIELDS if key in body}


def _echo_value_in_validation_error(exchange: Exchange) -> None:
    submitted = _submitted_secrets(exchange)
    if 400 <= exchange.status < 500 and isinstance(exchange.body, dict) and submitted:
        field, value = next(iter(submitted.items()))
        exchange.body.setdefault("details", []).append(
            {"code": "INVALID_VALUE", "target": field, "message": f"Rejected value: {value}"}
        )


def _echo_body_in_parse_error(exchange: Exchange) -> None:
    raw = exchange.request_body
    if 400 <= exchange.status < 500 and isinstance(raw, bytes) and isinstance(exchange.body, dict):
        text = raw.decode("utf-8", errors="replace")
        exchange.body["message"] = f"Unexpected end of JSON input while parsing: {text}"


def _echo_secrets_on_success(exchange: Exchange) -> None:
    submitted = _submitted_secrets(exchange)
    if exchange.status == 200 and isinstance(exchange.body, dict) and submitted:
        exchange.body.update(submitted)


ARGON2_SAMPLE = (
    "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$tM9AmAMqJ0PzJ9hKkKwnTQzJ+EJKkJ0rKZt7Q5QwZzE"
)


def _hash_in_state(exchange: Exchange) -> None:
    body = exchange.body
    if exchange.status == 200 and isinstance(body, dict) and "status" in body:
        body["passwordHash"] = ARGON2_SAMPLE


def _user_resource_returns_password() -> Callable[[ASGIApp], ASGIApp]:
    """The user resource serializes the password sub-object with the value last set."""

    def wrap(app: ASGIApp) -> ASGIApp:
        last_set: dict[str, Any] = {}

        def remember(exchange: Exchange) -> None:
            value = (
                exchange.request_body.get("value")
                if isinstance(exchange.request_body, dict)
                else None
            )
            if exchange.method == "PUT" and isinstance(value, str) and exchange.status == 200:
                last_set[exchange.path.removesuffix(PASSWORD_PATH_SUFFIX)] = value

        def serialize(exchange: Exchange) -> None:
            if (
                exchange.method == "GET"
                and exchange.path in last_set
                and isinstance(exchange.body, dict)
            ):
                exchange.body["password"] = {"value": last_set[exchange.path], "forceChange": False}

        return rewrite(
            rewrite(app, PASSWORD_CALLS, on_response=remember), EVERY_CALL, on_response=serialize
        )

    return wrap


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/reference/http_support.py", line 107, in read_json\n'
    "    parsed = json.loads(raw)\n"
    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
)


def _trace_on_parse_error(exchange: Exchange) -> None:
    if 400 <= exchange.status < 500 and isinstance(exchange.request_body, bytes):
        exchange.status = 500
        exchange.body = {"id": str(uuid.uuid4()), "code": "UNEXPECTED_ERROR", "message": TRACEBACK}


def _path_in_not_found(exchange: Exchange) -> None:
    if exchange.status == 404 and isinstance(exchange.body, dict):
        exchange.body["message"] = (
            f"{exchange.body.get('message', '')} (lookup failed in /opt/reference/store.py:212)"
        )


def _example_error_id(exchange: Exchange) -> None:
    if exchange.status >= 400 and isinstance(exchange.body, dict) and "id" in exchange.body:
        exchange.body["id"] = "6c796712-0f16-4062-815a-e0a92f4a2143"


def _headers_without(exchange: Exchange, name: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in exchange.headers if k.lower() != name]


def _limited_without_retry_after(exchange: Exchange) -> None:
    if exchange.status == 429:
        exchange.headers = _headers_without(exchange, b"retry-after")


def _limited_with_http_date(exchange: Exchange) -> None:
    if exchange.status == 429:
        seconds = int(exchange.header("retry-after") or "1")
        when = formatdate(time.time() + seconds, usegmt=True).encode()
        exchange.headers = [*_headers_without(exchange, b"retry-after"), (b"retry-after", when)]


def _limited_with_zero_delay(exchange: Exchange) -> None:
    if exchange.status == 429:
        exchange.headers = [*_headers_without(exchange, b"retry-after"), (b"retry-after", b"0")]


def _limited_with_other_code(exchange: Exchange) -> None:
    if exchange.status == 429 and isinstance(exchange.body, dict):
        exchange.body["code"] = "TOO_MANY_REQUESTS"


def _unauthorized_code(exchange: Exchange) -> None:
    if exchange.status == 401 and isinstance(exchange.body, dict):
        exchange.body["code"] = "UNAUTHORIZED"


def _unauthorized_as_text(exchange: Exchange) -> None:
    if exchange.status == 401:
        exchange.headers = [
            *_headers_without(exchange, b"content-type"),
            (b"content-type", b"text/plain; charset=utf-8"),
        ]
        exchange.body = b"Unauthorized"


def _unknown_user_crashes(exchange: Exchange) -> None:
    if exchange.status == 404:
        exchange.status = 500
        exchange.body = {
            "id": str(uuid.uuid4()),
            "code": "UNEXPECTED_ERROR",
            "message": "An unexpected error occurred.",
        }


def _responses(match: Match, change: Callable[[Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, match, on_response=change)


FAULTS: tuple[Fault, ...] = (
    wire_fault(
        "password-ops-ignore-a-missing-token",
        "A password request without an Authorization header is served as the worker application.",
        ("P1-AUTH-001",),
        _authorizing(_missing),
    ),
    wire_fault(
        "password-ops-check-only-that-a-token-is-present",
        "Any Authorization header passes: empty, not a token, Basic, forged, expired, foreign.",
        ("P1-AUTH-002", "P1-SEC-001", "P1-SEC-002"),
        _authorizing(_present_but_invalid),
    ),
    wire_fault(
        "password-ops-accept-unsigned-tokens",
        "A JWT with alg none is trusted (the classic algorithm-confusion defect).",
        ("P1-AUTH-002",),
        _authorizing(_unsigned),
    ),
    wire_fault(
        "password-ops-ignore-the-token-signature",
        "Claims are read without verifying the signature: forged and unsigned tokens pass.",
        ("P1-AUTH-002",),
        _authorizing(_signature_ignored),
    ),
    wire_fault(
        "password-ops-accept-expired-tokens",
        "The signature is verified but exp is not checked.",
        ("P1-SEC-001",),
        _authorizing(_expiry_ignored),
    ),
    wire_fault(
        "password-ops-accept-another-environments-token",
        "A well-signed token of any environment is accepted for this environment.",
        ("P1-SEC-002",),
        _authorizing(_environment_ignored),
    ),
    wire_fault(
        "users-found-through-any-environment",
        "Users are looked up by id alone; the path's and the token's environment are ignored.",
        ("P1-AUTH-003", "P1-SEC-003"),
        _tenant_blind,
    ),
    wire_fault(
        "password-change-made-before-the-401",
        "Authentication is checked after the handler ran: the change is made, then 401 answered.",
        ("P1-AUTH-001", "P1-AUTH-002"),
        _refused_after_the_change,
    ),
    wire_fault(
        "auth-failure-code-unauthorized",
        "A refused token answers code UNAUTHORIZED, which is not in Ping's codes (ACCESS_FAILED).",
        ("P1-AUTH-001", "P1-AUTH-002"),
        _responses(EVERY_CALL, _unauthorized_code),
    ),
    wire_fault(
        "auth-failure-as-plain-text",
        "A refused token answers a text/plain 'Unauthorized' instead of the error envelope.",
        ("P1-AUTH-001", "P1-ERR-001"),
        _responses(EVERY_CALL, _unauthorized_as_text),
    ),
    wire_fault(
        "unknown-user-crashes-password-ops",
        "A password operation on an unknown user answers 500 instead of 404.",
        ("P1-ERR-004",),
        _responses(PASSWORD_CALLS, _unknown_user_crashes),
    ),
    wire_fault(
        "validation-error-echoes-the-password",
        "A refused password request names the submitted password in an error detail.",
        ("P1-SEC-004",),
        _responses(PASSWORD_CALLS, _echo_value_in_validation_error),
    ),
    wire_fault(
        "parse-error-echoes-the-body",
        "A body that is not JSON is quoted back, password and all, in the error message.",
        ("P1-SEC-004",),
        _responses(PASSWORD_CALLS, _echo_body_in_parse_error),
    ),
    wire_fault(
        "success-echoes-the-password",
        "A successful password operation returns the submitted password fields in its body.",
        ("P1-SEC-004",),
        _responses(PASSWORD_CALLS, _echo_secrets_on_success),
    ),
    wire_fault(
        "password-state-carries-the-hash",
        "The password-state resource serializes the stored argon2 hash.",
        ("P1-SEC-005",),
        _responses(PASSWORD_CALLS, _hash_in_state),
    ),
    wire_fault(
        "user-resource-returns-the-password",
        "The user resource returns the password sub-object with the value last set (a pre-encoded "
        "value included).",
        ("P1-SEC-004", "P1-SEC-005"),
        _user_resource_returns_password(),
    ),
    wire_fault(
        "parse-error-is-a-500-with-a-traceback",
        "A body that is not JSON crashes the handler: 500 with the Python traceback as message.",
        ("P1-SEC-006",),
        _responses(PASSWORD_CALLS, _trace_on_parse_error),
    ),
    wire_fault(
        "not-found-names-an-internal-path",
        "A 404 message names the server's source file and line.",
        ("P1-SEC-006",),
        _responses(EVERY_CALL, _path_in_not_found),
        catch_with=("P1-ERR-004",),  # the audit needs 404s: the unknown-user tests make them
    ),
    wire_fault(
        "every-error-has-the-example-id",
        "Every error carries the same id (the documentation's example) instead of its own.",
        ("P1-ERR-002",),
        _responses(EVERY_CALL, _example_error_id),
        catch_with=("P1-AUTH-001",),  # the audit needs errors: the no-token tests make them
    ),
    wire_fault(
        "rate-limited-without-retry-after",
        "A 429 leaves out the Retry-After header.",
        ("P1-RL-001",),
        _responses(EVERY_CALL, _limited_without_retry_after),
    ),
    wire_fault(
        "rate-limited-with-an-http-date",
        "A 429's Retry-After is an HTTP date, not the documented delay in seconds.",
        ("P1-RL-001",),
        _responses(EVERY_CALL, _limited_with_http_date),
    ),
    wire_fault(
        "rate-limited-with-a-zero-delay",
        "A 429's Retry-After is 0 although the limit still holds, so the retry is refused again.",
        ("P1-SEC-007",),
        _responses(EVERY_CALL, _limited_with_zero_delay),
    ),
    wire_fault(
        "rate-limited-with-another-code",
        "A 429 carries code TOO_MANY_REQUESTS instead of REQUEST_LIMITED.",
        ("P1-RL-001",),
        _responses(EVERY_CALL, _limited_with_other_code),
    ),
    wire_fault(
        "token-without-bearer-type-or-lifetime",
        "The token endpoint answers token_type mac and no expires_in.",
        ("P1-TOKEN-001",),
        lambda app: rewrite(app, TOKEN_CALLS, on_response=_token_without_lifetime),
    ),
)
