"""Running the reference on loopback: in a background thread (``start_reference``) or the CLI.

The listening socket is bound before uvicorn starts, so port 0 yields a real free port that is
known at once; connections made before uvicorn accepts wait in the listen backlog.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from reference.app import create_app
from reference.config import ReferenceConfig

AppWrapper = Callable[[Starlette], Any]
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """Returns a listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio recognise accepted connections as TCP and set TCP_NODELAY;
    # with proto 0 small responses wait on Nagle + delayed ACK (about 40 ms each).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def uvicorn_server(asgi_app: Any) -> uvicorn.Server:
    """Returns a quiet uvicorn server for an ASGI app (no access log: paths only, no bodies)."""
    config = uvicorn.Config(
        asgi_app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
    )
    return uvicorn.Server(config)


class RunningReference:
    """A reference serving in a background thread; ``stop()`` or use it as a context manager."""

    def __init__(
        self,
        config: ReferenceConfig,
        app: Starlette,
        server: uvicorn.Server,
        thread: threading.Thread,
        host: str,
        port: int,
    ) -> None:
        self.config = config
        self.app = app
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port

    @property
    def auth_base_url(self) -> str:
        """Returns ``http://host:port`` (token endpoint: ``{auth_base_url}/{env_id}/as/token``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """Returns ``http://host:port/v1``."""
        return f"{self.auth_base_url}/v1"

    @property
    def env_id(self) -> str:
        """Returns the environment id."""
        return self.config.env_id

    @property
    def client_id(self) -> str:
        """Returns the worker client id."""
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        """Returns the worker client secret."""
        return self.config.client_secret

    def stop(self) -> None:
        """Asks uvicorn to finish, waits for the thread, closes the database."""
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self.app.state.store.close()

    def __enter__(self) -> RunningReference:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningReference(api_base_url={self.api_base_url!r}, env_id={self.env_id!r})"


def start_reference(
    config: ReferenceConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    app_wrapper: AppWrapper | None = None,
) -> RunningReference:
    """Starts the reference in a background thread and returns once it accepts requests."""
    config = config or ReferenceConfig()
    app = create_app(config)
    served = app_wrapper(app) if app_wrapper is not None else app
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn_server(served)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"reference-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(STOP_TIMEOUT_SECONDS)
            app.state.store.close()
            raise RuntimeError("the reference server did not start") from (
                failure[0] if failure else None
            )
        time.sleep(0.01)
    return RunningReference(config, app, server, thread, host, bound_port)
