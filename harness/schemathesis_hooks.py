"""schemathesis hooks for `st run schemas/openapi.yaml --url …` (named by `schemathesis.toml`).

They make the command line work against the reference and a real tenant with the same
environment variables the suites read, and nothing secret on the command line or the terminal:

- this API's checks and the JSON serializers for the suffix-less media types
  (`harness.property_checks`);
- the environment id: every `envID` path parameter is `PINGONE_ENV_ID`;
- users `st run` creates carry the `p1conf-cli-` prefix, so the suites' stale-user sweep
  removes them (after two hours) from a shared tenant;
- the token: `PINGONE_ACCESS_TOKEN` as given, or the client-credentials grant at
  `{PINGONE_AUTH_URL}/{PINGONE_ENV_ID}/as/token` with `PINGONE_CLIENT_ID` and
  `PINGONE_CLIENT_SECRET` (HTTP Basic, then form fields), refreshed before it expires.

A variable that is needed and missing stops the run with a message naming it (never its value).
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import requests
import schemathesis

from harness import property_checks  # noqa: F401 - registers the checks and serializers

CLI_USERNAME_PREFIX = "p1conf-cli-"
USERS_PATH = property_checks.USERS_PATH


class MissingSetting(RuntimeError):
    """A PINGONE_* variable that `st run` needs is not set."""


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSetting(f"st run: set {name} in the environment (see docs/property-suite.md)")
    return value


@schemathesis.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """Every generated request addresses the configured environment (when one is configured)."""
    env_id = os.environ.get("PINGONE_ENV_ID", "").strip()
    if "envID" in path_parameters and env_id:
        path_parameters["envID"] = env_id
    return path_parameters


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Users created from the command line carry a recognisable prefix."""
    if case.operation.path == USERS_PATH and case.method.upper() == "POST":
        if isinstance(case.body, dict):
            case.body["username"] = f"{CLI_USERNAME_PREFIX}{secrets.token_hex(4)}"


class PingOneToken:
    """A bearer token from the environment: given, or fetched with client credentials."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires = 0.0

    def get(self, case: Any, ctx: Any) -> str:
        given = os.environ.get("PINGONE_ACCESS_TOKEN", "").strip()
        if given:
            return given
        if self._token is None or time.monotonic() >= self._expires:
            self._fetch()
        assert self._token is not None
        return self._token

    def _fetch(self) -> None:
        env_id = _env("PINGONE_ENV_ID")
        auth_url = _env("PINGONE_AUTH_URL").rstrip("/")
        client_id, client_secret = _env("PINGONE_CLIENT_ID"), _env("PINGONE_CLIENT_SECRET")
        url = f"{auth_url}/{env_id}/as/token"
        form = {"grant_type": "client_credentials"}
        response = requests.post(url, data=form, auth=(client_id, client_secret), timeout=30)
        if response.status_code == 401:
            response = requests.post(
                url,
                data={**form, "client_id": client_id, "client_secret": client_secret},
                timeout=30,
            )
        if response.status_code != 200:
            raise MissingSetting(
                f"st run: the token endpoint {url} answered {response.status_code}"
            )
        body = response.json()
        self._token = str(body["access_token"])
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 300.0
        self._expires = time.monotonic() + seconds - min(60.0, seconds / 2)

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Only a command line that was given credentials authenticates: other users of schemathesis in
# this repository (the project's own tests load the same toml) generate cases without a token.
if os.environ.get("PINGONE_ACCESS_TOKEN", "").strip() or os.environ.get("PINGONE_CLIENT_ID", ""):
    schemathesis.auth()(PingOneToken)
