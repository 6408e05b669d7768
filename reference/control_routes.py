"""Test-only routes, mounted only with ``test_routes`` on, still requiring a valid token.

``GET /__reference/recovery-codes/{userID}`` returns the user's latest recovery code (what the
email would have carried); ``POST /__reference/clock`` with ``{"advanceSeconds": N}`` moves the
reference clock forward for lockout, recovery-code and expiry tests.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reference.clock import Clock
from reference.errors import detail, invalid_data, not_found
from reference.http_support import authorize, read_json
from reference.passwords import PasswordService
from reference.representations import iso_timestamp

MAX_ADVANCE_SECONDS = 100 * 365 * 86_400


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
