"""An ASGI wrapper that lets a fault rewrite matching exchanges of the reference from outside it.

A fault names which exchanges it touches (method, media type, path suffix) and how: the request
body before the reference sees it, and/or the response (status, headers, JSON body) before the
client sees it. The reference's own code is never edited.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Match:
    """Which exchanges a rewrite applies to. Empty fields match anything."""

    method: str = ""
    media_type: str = ""
    path_suffix: str = ""

    def accepts(self, method: str, path: str, media_type: str) -> bool:
        """True when the exchange is one this rewrite is for."""
        return (
            (not self.method or method == self.method)
            and (not self.media_type or media_type == self.media_type.lower())
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
