"""The reference's ASGI application: one route table, services on ``app.state``.

Endpoints look their services up on ``request.app.state`` at call time (``passwords``, ``users``,
``tokens``, ``environment``, ``clock``), so a fault can replace or patch a service method from
outside (see README.md, "Seams").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

from reference import (
    control_routes,
    password_routes,
    policy_routes,
    token_endpoint,
    user_routes,
)
from reference.config import ReferenceConfig
from reference.environment import Environment
from reference.errors import (
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    ApiError,
    invalid_request,
    method_not_allowed,
    not_found,
    unexpected_error,
)
from reference.hashing import PasswordHasher
from reference.http_support import error_response
from reference.passwords import PasswordService
from reference.rate_limit import RateLimit, RateLimitMiddleware, TokenBucket
from reference.store import Store
from reference.tokens import TokenService
from reference.users import UserService

LOGGER = logging.getLogger("reference")
ENV = "/v1/environments/{env_id}"


class AnyMethod:
    """Hands every HTTP method to one endpoint, which answers 405 itself where it must."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self._app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def routes(config: ReferenceConfig) -> list[BaseRoute]:
    """Returns the route table (test-only routes only when ``config.test_routes``)."""
    table: list[BaseRoute] = [
        Route("/{env_id}/as/token", token_endpoint.token, methods=["POST"]),
        Route(ENV, policy_routes.environment, methods=["GET"]),
        Route(f"{ENV}/users", user_routes.users, methods=["GET", "POST"]),
        Route(f"{ENV}/users/{{user_id}}", user_routes.user, methods=["GET", "DELETE"]),
        Route(f"{ENV}/users/{{user_id}}/password", AnyMethod(password_routes.password)),
        Route(f"{ENV}/passwordPolicies", policy_routes.policies, methods=["GET"]),
        Route(f"{ENV}/passwordPolicies/{{policy_id}}", policy_routes.policy, methods=["GET"]),
    ]
    if config.test_routes:
        table += [
            Route(
                "/__reference/recovery-codes/{user_id}",
                control_routes.recovery_code,
                methods=["GET"],
            ),
            Route("/__reference/clock", control_routes.advance_clock, methods=["POST"]),
            Route("/__reference/tokens", control_routes.mint_token, methods=["POST"]),
            Route("/__reference/rate-limit", control_routes.set_rate_limit, methods=["POST"]),
        ]
    return table


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == NOT_FOUND:
        return error_response(not_found())
    if exc.status_code == METHOD_NOT_ALLOWED:
        allowed = (exc.headers or {}).get("Allow", "")
        return error_response(method_not_allowed([m.strip() for m in allowed.split(",") if m]))
    return error_response(invalid_request(exc.detail or "The request could not be read."))


async def _unexpected(request: Request, exc: Exception) -> Response:
    LOGGER.error(
        "unexpected %s while serving %s %s", type(exc).__name__, request.method, request.url.path
    )
    return error_response(unexpected_error())


def create_app(config: ReferenceConfig | None = None) -> Starlette:
    """Builds the reference application for a configuration."""
    config = config or ReferenceConfig()
    environment = Environment.from_config(config)
    store = Store(config.db_path)
    passwords = PasswordService(
        store, environment, PasswordHasher(config.hash_profile), config.clock
    )
    rate_limit = RateLimit(
        TokenBucket(config.rate_limit_per_second) if config.rate_limit_per_second else None
    )
    middleware = [Middleware(RateLimitMiddleware, limit=rate_limit)]
    app = Starlette(
        routes=routes(config),
        middleware=middleware,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.config = config
    app.state.environment = environment
    app.state.store = store
    app.state.clock = config.clock
    app.state.rate_limit = rate_limit
    app.state.passwords = passwords
    app.state.users = UserService(passwords)
    app.state.tokens = TokenService(ttl_seconds=config.token_ttl_seconds)
    return app
