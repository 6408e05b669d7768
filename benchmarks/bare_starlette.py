"""The ceiling for the latency benchmark: a bare Starlette handler served like the reference.

Same uvicorn configuration and listening socket as ``python -m reference`` (one worker, no access
log, TCP_NODELAY), and a handler that does the least a JSON API can: a GET answers a small JSON
object; a POST reads and parses its JSON body and answers the same. No authorization, no
storage, no hashing, no thread pool. Prints one JSON line ``{"base_url": ...}`` once it listens
on loopback, then serves until terminated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference.server import bind_socket, uvicorn_server  # noqa: E402

BODY = {"status": "OK"}


async def bare(request: Request) -> Response:
    """GET: a small JSON object; POST: parse the JSON body first."""
    if request.method == "POST":
        json.loads(await request.body() or b"{}")
    return JSONResponse(BODY)


def app() -> Starlette:
    """Returns the bare application: one route, GET and POST."""
    return Starlette(routes=[Route("/bare", bare, methods=["GET", "POST"])])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = bind_socket("127.0.0.1", args.port)
    port = sock.getsockname()[1]
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
    try:
        uvicorn_server(app()).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
