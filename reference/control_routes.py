"""Test-only routes, mounted only with ``test_routes`` on, still requiring a valid token.

``GET /__reference/recovery-codes/{userID}`` returns the user's latest recovery code (what the
email would have carried); ``POST /__reference/clock`` with ``{"advanceSeconds": N}`` moves the
reference clock forward for lockout, recovery-code and expiry tests.
``POST /__reference/tokens`` with ``{"expiresIn": N, "environmentId": id}`` (both optional) mints
an access token the token endpoint never would: already expired (negative ``expiresIn``) or
issued for another environment, so a suite can probe how the API treats them.
``POST /__reference/rate-limit`` with ``{"perSecond": N}`` limits the API to N requests per
second from now on; ``{"perSecond": null}`` lifts the limit.

When the routes are on, the environment resource links to them (relation
``reference.testRoutes``), so a client pointed at the reference as an external target finds them.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reference.clock import Clock
from reference.environment import Environment
from reference.errors import detail, invalid_data, not_found
from reference.http_support import auth_base, authorize, read_json
from reference.passwords import PasswordService
from reference.rate_limit import RateLimit
from reference.representations import iso_timestamp
from reference.tokens import TokenService

MAX_ADVANCE_SECONDS = 100 * 365 * 86_400
MAX_TOKEN_SECONDS = 86_400
MAX_RATE_PER_SECOND = 10_000
TEST_ROUTES_PATH = "/__reference"
TEST_ROUTES_RELATION = "reference.testRoutes"
ENVIRONMENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


async def recovery_code(request: Request) -> Response:
    """Returns ``{"recoveryCode": ...}`` for the user, 404 when none was sent."""
    authorize(request, None)
    service: PasswordService = request.app.state.passwords
    env_id = service.environment.id
    code = await run_in_threadpool(
        service.latest_recovery_code, env_id, request.path_params["user_id"]
    )
    if code is None:
        raise not_found("No recovery code was sent to this user.")
    return JSONResponse({"recoveryCode": code})


async def advance_clock(request: Request) -> Response:
    """Advances the reference clock; returns the new reference time."""
    authorize(request, None)
    body = await read_json(request, empty_means_object=False)
    seconds = body.get("advanceSeconds") if isinstance(body, dict) else None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 <= seconds <= MAX_ADVANCE_SECONDS
    ):
        raise invalid_data(
            detail(
                "INVALID_VALUE",
                "advanceSeconds must be a number from 0 to 100 years.",
                "advanceSeconds",
            )
        )
    clock: Clock = request.app.state.clock
    clock.advance(float(seconds))
    return JSONResponse({"now": iso_timestamp(clock.now())})


async def mint_token(request: Request) -> Response:
    """Mints a token with the given lifetime for this or another environment id."""
    authorize(request, None)
    body = await read_json(request, empty_means_object=True)
    if not isinstance(body, dict):
        raise invalid_data(detail("INVALID_VALUE", "The body must be a JSON object."))
    environment: Environment = request.app.state.environment
    expires_in = body.get("expiresIn", 3600)
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not -MAX_TOKEN_SECONDS <= expires_in <= MAX_TOKEN_SECONDS
    ):
        raise invalid_data(
            detail("INVALID_VALUE", "expiresIn must be an integer within a day.", "expiresIn")
        )
    env_id = body.get("environmentId", environment.id)
    if not isinstance(env_id, str) or not ENVIRONMENT_ID.match(env_id):
        raise invalid_data(
            detail("INVALID_VALUE", "environmentId must be an environment id.", "environmentId")
        )
    tokens: TokenService = request.app.state.tokens
    issued = tokens.issue(
        issuer=f"{auth_base(request)}/{env_id}/as",
        env_id=env_id,
        client_id=environment.client_id,
        ttl_seconds=expires_in,
    )
    return JSONResponse(
        {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": expires_in},
        headers={"Cache-Control": "no-store"},
    )


async def set_rate_limit(request: Request) -> Response:
    """Sets (``perSecond`` > 0) or lifts (``perSecond`` null) the API rate limit."""
    authorize(request, None)
    body = await read_json(request, empty_means_object=False)
    if not isinstance(body, dict) or "perSecond" not in body:
        raise invalid_data(detail("REQUIRED_VALUE", "perSecond is required.", "perSecond"))
    rate = body["perSecond"]
    if rate is not None and (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not 0 < rate <= MAX_RATE_PER_SECOND
    ):
        raise invalid_data(
            detail("INVALID_VALUE", "perSecond must be a positive number or null.", "perSecond")
        )
    limit: RateLimit = request.app.state.rate_limit
    limit.set_rate(None if rate is None else float(rate))
    return JSONResponse({"perSecond": rate})


def test_routes_link(request: Request) -> dict[str, str] | None:
    """The link to the test routes when they are on, else None."""
    if not request.app.state.config.test_routes:
        return None
    return {"href": f"{auth_base(request)}{TEST_ROUTES_PATH}"}
