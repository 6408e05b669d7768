"""``POST /{envID}/as/token``: the client-credentials grant for the worker application.

Client authentication by HTTP Basic (``client_secret_basic``) or by ``client_id`` and
``client_secret`` in the form body (``client_secret_post``); using both at once is refused.
Errors are OAuth 2.0 bodies (``error``, ``error_description``); an unknown environment is a
PingOne 404 NOT_FOUND envelope.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reference.environment import Environment
from reference.errors import BAD_REQUEST, UNAUTHORIZED, not_found
from reference.http_support import auth_base, error_response, media_type
from reference.tokens import TokenService

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """Returns an OAuth 2.0 error body."""
    headers = dict(NO_STORE)
    if status == UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Basic realm="PingOne"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


async def token(request: Request) -> Response:
    """Issues an access token for valid client credentials."""
    environment: Environment = request.app.state.environment
    if request.path_params["env_id"] != environment.id:
        return error_response(not_found("The environment was not found."))
    if media_type(request.headers.get("content-type")) != FORM:
        return oauth_error(BAD_REQUEST, "invalid_request", f"The body must be {FORM}.")
    try:
        text = (await request.body()).decode("utf-8")
        form = parse_qs(text, keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return oauth_error(BAD_REQUEST, "invalid_request", "The form body could not be read.")
    if any(len(values) > 1 for values in form.values()):
        return oauth_error(BAD_REQUEST, "invalid_request", "A parameter was repeated.")
    fields = {key: values[0] for key, values in form.items()}
    header = request.headers.get("authorization")
    in_body = "client_secret" in fields
    if header and in_body:
        return oauth_error(
            BAD_REQUEST, "invalid_request", "Use one client authentication method, not two."
        )
    credentials = _basic_credentials(header) if header else None
    if credentials is None and in_body:
        credentials = (fields.get("client_id", ""), fields["client_secret"])
    if credentials is None or not environment.client_matches(*credentials):
        return oauth_error(UNAUTHORIZED, "invalid_client", "Client authentication failed.")
    grant_type = fields.get("grant_type")
    if not grant_type:
        return oauth_error(BAD_REQUEST, "invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        return oauth_error(
            BAD_REQUEST, "unsupported_grant_type", "Only client_credentials is supported."
        )
    tokens: TokenService = request.app.state.tokens
    issued = tokens.issue(
        issuer=f"{auth_base(request)}/{environment.id}/as",
        env_id=environment.id,
        client_id=environment.client_id,
    )
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        },
        headers=NO_STORE,
    )
