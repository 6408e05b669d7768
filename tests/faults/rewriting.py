"""An ASGI wrapper that lets a fault rewrite matching exchanges of the reference from outside it.

A fault names which exchanges it touches (method, media type, path suffix) and how: the request
body before the reference sees it, and/or the response (status, headers, JSON body) before the
client sees it. The reference's own code is never edited.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from harness.operations import OperationTable

# Every password operation shares one URL, `…/users/{userID}/password`; the method and the media
# type (from the operation table) tell them apart.
PASSWORD_PATH_SUFFIX = "/password"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Exchange:
    """One request/response pair as a fault sees it. Mutate `status`, `headers` or `body`."""

    method: str
    path: str
    media_type: str
    request_body: Any
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: Any = None

    def header(self, name: str) -> str | None:
        """The first response header of that name, decoded."""
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


@cache
def operation_table() -> OperationTable:
    """The operation table (`schemas/operations.yaml`), read once per process."""
    return OperationTable.load()


@dataclass(frozen=True)
class Match:
    """Which exchanges a rewrite applies to. Empty fields match anything.

    Build it from the operation table rather than spelling methods and media types out:
    `Match.for_operation("check")`, `Match.for_operations("set", "setValue")`,
    `Match.password_calls()` (every operation on `…/password`), `Match()` (every exchange).
    """

    method: str = ""
    media_type: str = ""
    path_suffix: str = ""
    alt_media_types: tuple[str, ...] = ()

    @classmethod
    def for_operation(cls, name: str) -> Match:
        """The exchanges of one password operation, as `schemas/operations.yaml` defines it.

        An operation without a body (read) matches on method and path only. Operations that
        share a media type (resetSelf and resetAdmin) cannot be told apart here.
        """
        operation = operation_table().get(name)
        return cls(
            method=operation.method,
            media_type=operation.media_type or "",
            path_suffix=PASSWORD_PATH_SUFFIX,
            alt_media_types=operation.alt_media_types,
        )

    @classmethod
    def password_calls(cls) -> Match:
        """Every exchange on `…/users/{userID}/password`, whatever the operation."""
        return cls(path_suffix=PASSWORD_PATH_SUFFIX)

    def accepts(self, method: str, path: str, media_type: str) -> bool:
        """True when the exchange is one this rewrite is for."""
        wanted = {t.lower() for t in (self.media_type, *self.alt_media_types) if t}
        return (
            (not self.method or method == self.method)
            and (not wanted or media_type in wanted)
            and (not self.path_suffix or path.endswith(self.path_suffix))
        )


RequestRewrite = Callable[[Any], Any]
ResponseRewrite = Callable[[Exchange], None]


def _media_type(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def rewrite(
    app: ASGIApp,
    match: Match,
    *,
    on_request: RequestRewrite | None = None,
    on_response: ResponseRewrite | None = None,
) -> ASGIApp:
    """Wrap `app` so that matching exchanges pass through the given rewrites."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        method, path, media_type = scope["method"], scope["path"], _media_type(scope)
        if not match.accepts(method, path, media_type):
            await app(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        request_body = _decode(raw)
        if on_request is not None and isinstance(request_body, dict):
            request_body = on_request(request_body)
            raw = _encode(request_body)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}

        exchange = Exchange(method, path, media_type, request_body)
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, replay, capture)
        exchange.body = _decode(b"".join(chunks))
        if on_response is not None:
            on_response(exchange)
        payload = _encode(exchange.body)
        headers = [(k, v) for k, v in exchange.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send(
            {
                "type": "http.response.start",
                "status": exchange.status,
                "headers": headers,
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return wrapped
