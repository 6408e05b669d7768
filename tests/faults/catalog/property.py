"""Faults that only generated traffic finds: the property suite (`suites/property/`) catches them.

Each is a plausible defect no hand-written case happens to trip: a crash on characters or
values nobody types, a type coercion, a state or counter bug that shows only after a particular
order of operations. The catalog test runs the suites against the reference with each fault and
checks that the requirements named here fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from harness.data_files import SCHEMAS_DIR
from reference.passwords import PasswordService, clear_lock, lock_active
from tests.faults.catalog.state_model import replace
from tests.faults.fault import Fault, state_fault, wire_fault
from tests.faults.rewriting import ASGIApp, Exchange, Match, Message, Receive, Scope, Send, rewrite

# Only generated traffic finds these: the full matrix runs the property suite under them.
CONFORMANCE_CLASS = "property"

RESET = "application/vnd.pingidentity.password.reset+json"
ERROR_500 = {
    "id": "00000000-0000-4000-8000-000000000500",
    "code": "UNEXPECTED_ERROR",
    "message": "Unexpected error",
}
LONG_VALUE = 200


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _astral_or_long(text: str) -> bool:
    return len(text) > LONG_VALUE or any(ord(char) > 0xFFFF for char in text)


def _null_below_top(value: Any, depth: int = 0) -> bool:
    if value is None:
        return depth >= 2
    if isinstance(value, dict):
        return any(_null_below_top(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_null_below_top(v, depth + 1) for v in value)
    return False


def _crash_when(predicate: Callable[[bytes, bytes], bool]) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI wrapper answering 500 when the request (query, body) satisfies `predicate`."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            raw = b""
            while True:
                message = await receive()
                raw += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if predicate(scope.get("query_string", b""), raw):
                payload = json.dumps(ERROR_500).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": payload})
                return
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if delivered:
                    return {"type": "http.disconnect"}
                delivered = True
                return {"type": "http.request", "body": raw, "more_body": False}

            await app(scope, replay, send)

        return wrapped

    return wrap


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _unusual_text(query: bytes, raw: bytes) -> bool:
    texts = _strings(_decoded(raw)) + [unquote_plus(query.decode("latin-1"))]
    return any(_astral_or_long(text) for text in texts)


def _nested_null(query: bytes, raw: bytes) -> bool:
    return _null_below_top(_decoded(raw))


class _PathState:
    """Per-user facts a stateful fault remembers between exchanges."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.stale: dict[str, str] = {}


def _stale_read_after_self_change() -> Callable[[Exchange], None]:
    state = _PathState()

    def rewrite_answer(exchange: Exchange) -> None:
        path, body = exchange.path, exchange.body
        if exchange.method == "GET":
            if exchange.status == 200 and path in state.stale and isinstance(body, dict):
                body["status"] = state.stale[path]
            return
        if exchange.status != 200:
            return
        before = state.status.get(path)
        request = exchange.request_body if isinstance(exchange.request_body, dict) else {}
        self_change = exchange.media_type == RESET and "currentPassword" in request
        state.stale.pop(path, None)
        if self_change and before == "MUST_CHANGE_PASSWORD":
            state.stale[path] = before
        if isinstance(body, dict) and isinstance(body.get("status"), str):
            state.status[path] = body["status"]

    return rewrite_answer


# The members of a password body a lenient parser reads by guesswork (schemas/common.schema.json).
PASSWORD_FLAGS = ("forceChange", "bypassPolicy")
EXTERNAL = Draft202012Validator(
    {"$ref": "common.schema.json#/$defs/passwordExternal"},
    registry=Registry().with_resource(
        "common.schema.json",
        Resource.from_contents(json.loads((SCHEMAS_DIR / "common.schema.json").read_text("utf-8"))),
    ),
)


def _lenient_password_body(body: Any) -> Any:
    """A password body as a lenient parser reads it instead of answering 400: a flag of any JSON
    type is taken for its truthiness ("no" and 1 alike), a malformed `password` (external
    gateway) member is ignored as if absent."""
    for key in PASSWORD_FLAGS:
        if key in body and not isinstance(body[key], bool):
            body[key] = bool(body[key])
    if "password" in body and not EXTERNAL.is_valid(body["password"]):
        del body["password"]
    return body


def _unlock_only_when_locked(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def unlock(env_id: str, user_id: str) -> Any:
        def change(tx: Any, user: Any, now: float) -> Any:
            if lock_active(user, now):
                clear_lock(user)
            user.updated_at = now
            return service.view(user, now)

        return service._write_user(env_id, user_id, change)

    return unlock


PASSWORDS = Match.password_calls()

FAULTS: tuple[Fault, ...] = (
    wire_fault(
        "server-error-on-unusual-text",
        "Any request with a character outside the Basic Multilingual Plane or a string over 200 "
        "characters (body or query) answers 500.",
        ("P1-PROP-001",),
        _crash_when(_unusual_text),
    ),
    wire_fault(
        "server-error-on-nested-null",
        "A null anywhere below the top level of a JSON body answers 500 instead of 400.",
        ("P1-PROP-001",),
        _crash_when(_nested_null),
    ),
    wire_fault(
        "read-keeps-must-change-after-self-change",
        "After a self change of a MUST_CHANGE_PASSWORD password, Read keeps reporting "
        "MUST_CHANGE_PASSWORD until the next password operation.",
        ("P1-PROP-002",),
        lambda app: rewrite(app, PASSWORDS, on_response=_stale_read_after_self_change()),
    ),
    wire_fault(
        "password-body-read-leniently",
        "A password body's members of the wrong type pass instead of a 400: forceChange or "
        "bypassPolicy of any JSON type is read for its truthiness, a malformed external "
        "`password` member is ignored as if absent.",
        ("P1-PROP-001",),
        lambda app: rewrite(app, PASSWORDS, on_request=_lenient_password_body),
    ),
    state_fault(
        "unlock-keeps-count-unless-locked",
        "Unlock clears the failed-check count only when the password is locked: after a wrong "
        "check, an unlock of the unlocked password and another wrong check, the countdown is "
        "one short.",
        ("P1-PROP-005",),
        replace("unlock", _unlock_only_when_locked),
    ),
)
