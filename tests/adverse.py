"""An adverse network between the suites and the reference, started and stopped by a test.

Two parts, both seeded so a run reproduces:
- `adverse_app`: an ASGI wrapper (the reference's `app_wrapper` seam) that adds latency to every
  request and answers a share of them 429 (with Retry-After) or 503 *before* the reference sees
  them, as a rate limiter or a load balancer in front of a real service does; and that closes a
  share of connections after their answer (`Connection: close`), so clients reconnect often;
- `ResettingProxy`: a TCP proxy on loopback that resets a share of the connections it accepts
  before reading a byte (RST), the way a flaky network or a restarting balancer does.
Nothing here changes what the reference does with a request it receives: every injected
answer replaces the request, never follows it, so a correct client that retries sees a
correct server.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType

from tests.faults.rewriting import ASGIApp, Message, Receive, Scope, Send


@dataclass
class AdverseSettings:
    """Shares of requests that get each treatment, and the latency."""

    seed: int = 20261201
    rate_limited: float = 0.10
    unavailable: float = 0.03
    close_after: float = 0.25
    latency_seconds: float = 0.1
    # 0 s keeps the whole-suite run short; that the client waits what Retry-After says is
    # tests/harness/test_client.py's concern.
    retry_after: str = "0"
    counts: dict[str, int] = field(default_factory=lambda: {"429": 0, "503": 0, "close": 0})


def adverse_app(app: ASGIApp, settings: AdverseSettings) -> ASGIApp:
    """Wrap the reference's ASGI app with latency, injected 429/503 and closed connections."""
    chooser = random.Random(settings.seed)
    lock = threading.Lock()

    async def answer(
        send: Send, status: int, code: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        body = json.dumps({"id": f"adverse-{chooser.random()}", "code": code, "message": code})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/__reference"):
            await app(scope, receive, send)
            return
        with lock:
            roll, close_roll = chooser.random(), chooser.random()
        await asyncio.sleep(settings.latency_seconds)
        if roll < settings.rate_limited:
            settings.counts["429"] += 1
            await answer(
                send, 429, "REQUEST_LIMITED", [(b"retry-after", settings.retry_after.encode())]
            )
            return
        if roll < settings.rate_limited + settings.unavailable:
            settings.counts["503"] += 1
            await answer(send, 503, "SERVICE_UNAVAILABLE", [(b"retry-after", b"0")])
            return
        if close_roll >= settings.close_after:
            await app(scope, receive, send)
            return
        settings.counts["close"] += 1

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await app(scope, receive, closing_send)

    return wrapped


class ResettingProxy:
    """A loopback TCP proxy to `upstream_port` that resets a share of new connections."""

    def __init__(self, upstream_port: int, reset_share: float = 0.08, seed: int = 7) -> None:
        self.upstream_port = upstream_port
        self.reset_share = reset_share
        self._chooser = random.Random(seed)
        self.resets = 0
        self.accepted = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> ResettingProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _serve(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        if self._chooser.random() < self.reset_share:
            self.resets += 1
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, nothing read or forwarded
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    def stop(self) -> None:
        """Close the listener and every connection, then the loop; nothing is left open."""

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ResettingProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass
