"""``python -m reference``: serve the reference on loopback until Ctrl-C.

Prints the API base URL, auth base URL, environment id, client id and client secret (or
"(as given)" when the secret came from the command line or REFERENCE_CLIENT_SECRET), or with
``--json`` one JSON line with the keys api_base_url, auth_base_url, env_id, client_id,
client_secret. Stdout is flushed before serving starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from reference.app import create_app
from reference.config import ReferenceConfig
from reference.policies import BUILT_IN_POLICIES
from reference.server import bind_socket, uvicorn_server

AS_GIVEN = "(as given)"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m reference",
        description="Serve the PingOne user-password API reference implementation.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--hash-cost",
        choices=["fast", "strong"],
        default="strong",
        help="argon2id cost for stored passwords (default strong)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="N",
        help="requests per second across the API (default: unlimited)",
    )
    parser.add_argument(
        "--enable-test-routes",
        action="store_true",
        help="serve /__reference/recovery-codes/{userID} and /__reference/clock",
    )
    parser.add_argument("--env-id", default=None, help="environment id (default: random)")
    parser.add_argument("--client-id", default=None, help="worker client id (default: random)")
    parser.add_argument(
        "--client-secret",
        default=None,
        help="worker client secret (default: $REFERENCE_CLIENT_SECRET, else random)",
    )
    parser.add_argument(
        "--default-policy",
        choices=sorted(BUILT_IN_POLICIES),
        default="Standard",
        help="the environment's default password policy",
    )
    parser.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime (s)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.rate_limit is not None and args.rate_limit <= 0:
        parser.error("--rate-limit must be positive")
    if args.token_ttl <= 0:
        parser.error("--token-ttl must be positive")
    return args


def config_from(args: argparse.Namespace) -> tuple[ReferenceConfig, bool]:
    """Returns the configuration and whether the client secret was given by the user."""
    config = ReferenceConfig(
        db_path=args.db,
        hash_profile=args.hash_cost,
        token_ttl_seconds=args.token_ttl,
        rate_limit_per_second=args.rate_limit,
        test_routes=args.enable_test_routes,
        default_policy=args.default_policy,
    )
    if args.env_id:
        config.env_id = args.env_id
    if args.client_id:
        config.client_id = args.client_id
    secret = args.client_secret or os.environ.get("REFERENCE_CLIENT_SECRET")
    if secret:
        config.client_secret = secret
    return config, bool(secret)


def main(argv: Sequence[str] | None = None) -> int:
    """Binds, prints where the reference listens, and serves until interrupted."""
    args = parse_args(argv)
    config, secret_given = config_from(args)
    app = create_app(config)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    auth_base = f"http://{host}:{port}"
    shown_secret = AS_GIVEN if secret_given else config.client_secret
    info = {
        "api_base_url": f"{auth_base}/v1",
        "auth_base_url": auth_base,
        "env_id": config.env_id,
        "client_id": config.client_id,
        "client_secret": shown_secret,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"API base URL:   {info['api_base_url']}")
        print(f"Auth base URL:  {info['auth_base_url']}")
        print(f"Environment id: {info['env_id']}")
        print(f"Client id:      {info['client_id']}")
        print(f"Client secret:  {shown_secret}")
        print("Serving until Ctrl-C.", flush=True)
    try:
        uvicorn_server(app).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down gracefully, then re-raised Ctrl-C: a normal stop
    finally:
        sock.close()
        app.state.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
