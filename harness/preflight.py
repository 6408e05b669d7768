"""Preflight: before any suite test runs, prove the target is usable, or stop with one line.

It obtains a token and reads the environment's password policies once. Each failure becomes a
`ConfigError` whose message is a single line without a secret, with the exit code of
docs/architecture.md: 11 unreachable, 12 credentials refused, 13 unknown environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.auth import TokenProvider
from harness.client import ApiClient
from harness.config import ConfigError, ExitCode, StaticToken
from harness.http_errors import TargetUnreachable, TokenRequestFailed
from harness.passwords import policies_in

# A base URL path that names an API version (`/v1`, `/api/v2`): its 404s mean "unknown
# environment"; without one, a 404 most likely means the API path was left out.
_VERSIONED = re.compile(r"/v\d+(?:/|$)")
# OAuth error codes that mean "these client credentials are not accepted".
REFUSAL_ERRORS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_grant", "access_denied", "invalid_scope"}
)


@dataclass(frozen=True)
class PreflightResult:
    """What preflight learned: the token method and the environment's password policies."""

    token_method: str
    policies: list[dict[str, Any]]


def run_preflight(api: ApiClient, tokens: TokenProvider) -> PreflightResult:
    """Get a token, read `/passwordPolicies`; raise `ConfigError` with the matching exit code."""
    target = api.target
    try:
        tokens.token()
    except TargetUnreachable as error:
        raise ConfigError(f"target unreachable: {error}", ExitCode.UNREACHABLE) from None
    except TokenRequestFailed as error:
        raise _token_failure(error) from None

    try:
        response = api.get(api.env_url("passwordPolicies"))
    except TargetUnreachable as error:
        raise ConfigError(f"target unreachable: {error}", ExitCode.UNREACHABLE) from None
    where = f"GET {target.api_base_url}/environments/{target.env_id}/passwordPolicies"
    status = response.status_code
    if status == 401:
        given = isinstance(target.credentials, StaticToken)
        what = "the given access token" if given else "the token it issued"
        raise ConfigError(
            f"credentials refused: {where} answered HTTP 401 to {what}",
            ExitCode.CREDENTIALS_REFUSED,
        )
    if status == 404 and not _VERSIONED.search(urlsplit(target.api_base_url).path):
        raise ConfigError(
            f"{where} answered HTTP 404, and the base URL has no API version path: PingOne's is "
            "https://api.pingone.<tld>/v1 (add /v1, or check the environment id)",
            ExitCode.CONFIGURATION,
        )
    if status in (403, 404):
        raise ConfigError(
            f"unknown environment {target.env_id}: {where} answered HTTP {status}",
            ExitCode.UNKNOWN_ENVIRONMENT,
        )
    if status != 200:
        raise ConfigError(
            f"target not usable: {where} answered HTTP {status}", ExitCode.UNREACHABLE
        )
    try:
        policies = policies_in(response.json())
    except ValueError:
        policies = []
    if not policies:
        raise ConfigError(
            f"target not usable: {where} answered 200 without _embedded.passwordPolicies",
            ExitCode.UNREACHABLE,
        )
    return PreflightResult(token_method=tokens.method or "unknown", policies=policies)


def _token_failure(error: TokenRequestFailed) -> ConfigError:
    if error.status == 404:
        return ConfigError(
            f"unknown environment: {error} (the token endpoint does not know it)",
            ExitCode.UNKNOWN_ENVIRONMENT,
        )
    if error.status in (400, 401, 403) or (error.error or "") in REFUSAL_ERRORS:
        return ConfigError(f"credentials refused: {error}", ExitCode.CREDENTIALS_REFUSED)
    return ConfigError(f"target not usable: {error}", ExitCode.UNREACHABLE)
