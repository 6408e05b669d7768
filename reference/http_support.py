"""What every endpoint shares: responses, bearer-token checks, media types and JSON bodies."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from reference.environment import Environment
from reference.errors import ApiError, forbidden, invalid_request, invalid_token
from reference.tokens import TokenError, TokenService

HAL_JSON = "application/hal+json"
MAX_BODY_BYTES = 1_048_576


class HalResponse(JSONResponse):
    """A resource body: ``application/hal+json``."""

    media_type = HAL_JSON


def error_response(error: ApiError) -> JSONResponse:
    """Returns the envelope for an ApiError, ``application/json``, with its headers."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def api_base(request: Request) -> str:
    """Returns ``scheme://host:port/v1`` as the client addressed this server."""
    return str(request.base_url).rstrip("/") + "/v1"


def auth_base(request: Request) -> str:
    """Returns ``scheme://host:port`` as the client addressed this server."""
    return str(request.base_url).rstrip("/")


def authorize(request: Request, env_id: str | None) -> None:
    """Requires a valid bearer token for ``env_id`` (or for this server's environment).

    No or a bad token is 401 ACCESS_FAILED/INVALID_TOKEN with a Bearer challenge; a token of
    another environment, or an environment this server does not know, is 403 ACCESS_FAILED.
    """
    header = request.headers.get("authorization")
    if not header:
        error = invalid_token("An access token is required.")
        error.headers["WWW-Authenticate"] = "Bearer"
        raise error
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("The Authorization header must carry a Bearer token.")
    tokens: TokenService = request.app.state.tokens
    try:
        claims = tokens.verify(token.strip())
    except TokenError:
        raise invalid_token("The access token is invalid or expired.") from None
    environment: Environment = request.app.state.environment
    target = environment.id if env_id is None else env_id
    if claims.env != target:
        raise forbidden("The access token was not issued for this environment.")
    if target != environment.id:
        raise forbidden("The environment does not exist or the token has no access to it.")


def media_type(content_type: str | None) -> str | None:
    """Returns the lower-cased media type of a Content-Type header, parameters removed."""
    if content_type is None:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    return base or None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every body (``json.loads`` with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _check_strings(value: Any) -> None:
    """Refuses strings that cannot be UTF-8 encoded (lone surrogates)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


async def read_body(request: Request) -> bytes:
    """Returns the request body; 400 INVALID_REQUEST as soon as it passes ``MAX_BODY_BYTES``.

    Read chunk by chunk, so an oversized body is refused when its first excess chunk arrives,
    not after all of it has been held in memory.
    """
    chunks: list[bytes] = []
    size = 0
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise invalid_request("The request body is too large.")
            chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, *, empty_means_object: bool) -> Any:
    """Reads and parses the request body as JSON; 400 INVALID_REQUEST when it is not JSON.

    An empty body is ``{}`` when ``empty_means_object`` (operations documented without a body)
    and an error otherwise.
    """
    raw = await read_body(request)
    if not raw.strip():
        if empty_means_object:
            return {}
        raise invalid_request("The request body is empty; a JSON object is required.")
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32 by the first bytes (a BOM dropped).
        parsed = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
        _check_strings(parsed)
    except (ValueError, UnicodeError, RecursionError):
        raise invalid_request("The request body is not valid JSON.") from None
    return parsed
