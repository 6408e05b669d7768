"""The target under test and the configuration errors that stop a run before any test.

The root `conftest.py` reads options and the environment into `TargetSettings`; this module
turns them into a `Target` (or says the embedded reference is wanted) and never reads
`os.environ` itself. Exit codes are those of docs/architecture.md.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import urlsplit


class ExitCode(enum.IntEnum):
    """Process exit codes for a run that stops before any test (docs/architecture.md)."""

    CONFIGURATION = 10
    UNREACHABLE = 11
    CREDENTIALS_REFUSED = 12
    UNKNOWN_ENVIRONMENT = 13
    # Not a configuration failure: tests ran, and under --require-complete an INCOMPLETE
    # verdict (a requirement at or above the gate not assessed) fails the run with this code.
    INCOMPLETE = 14
    # Tests ran, but the target stopped answering (refused, reset, 502/503/504) beyond the
    # retries for some of them, and no other test failed the gate: no verdict can be trusted.
    TARGET_UNAVAILABLE = 15


class ConfigError(Exception):
    """A configuration or preflight failure: one line of text and the exit code it maps to."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class ClientCredentials:
    """A worker application's client id and secret (client_credentials grant)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class StaticToken:
    """An access token given by the user; it cannot be refreshed."""

    token: str = field(repr=False)


Credentials = ClientCredentials | StaticToken


@dataclass(frozen=True)
class Target:
    """Where the suites send requests, and how they authenticate."""

    api_base_url: str
    auth_base_url: str | None
    env_id: str
    credentials: Credentials
    is_reference: bool
    test_routes_url: str | None = None

    @property
    def kind(self) -> str:
        """`embedded reference` or `external`, for headers and reports."""
        return "embedded reference" if self.is_reference else "external"

    @property
    def environment_url(self) -> str:
        """`{api}/environments/{envID}`."""
        return f"{self.api_base_url}/environments/{self.env_id}"

    @property
    def token_url(self) -> str | None:
        """`{auth}/{envID}/as/token`, or None when only a static token was given."""
        if self.auth_base_url is None:
            return None
        return f"{self.auth_base_url}/{self.env_id}/as/token"


# PingOne environment ids are UUIDs (8-4-4-4-12 hexadecimal digits).
_ENV_ID = re.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")


# PingOne's regions by top-level domain: api.pingone.<tld>/v1 and auth.pingone.<tld>.
REGIONS = ("com", "eu", "ca", "com.au", "sg", "asia")


@dataclass(frozen=True)
class TargetSettings:
    """What the user asked for, as read by the root conftest from options and the environment."""

    base_url: str | None = None
    auth_url: str | None = None
    region: str | None = None
    env_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    # An external reference started with --enable-test-routes: where its test routes are.
    test_routes_url: str | None = None

    @property
    def wants_embedded_reference(self) -> bool:
        """True when no base URL (and no region) was given: the suite starts its own reference."""
        return not self.base_url and not self.region

    @property
    def nominal_base_url(self) -> str | None:
        """The base URL asked for, directly or through `--region` (unchecked)."""
        if self.base_url:
            return self.base_url
        return f"https://api.pingone.{self.region}/v1" if self.region else None

    def resolved(self) -> TargetSettings:
        """These settings with `--region` turned into both URLs; a region and a URL conflict."""
        if not self.region:
            return self
        if self.region not in REGIONS:
            raise ConfigError(
                f"--region {self.region!r} is not a PingOne region ({', '.join(REGIONS)})",
                ExitCode.CONFIGURATION,
            )
        if self.base_url or self.auth_url:
            raise ConfigError(
                "--region sets both URLs: give it without --base-url/--auth-url "
                "(or PINGONE_API_URL/PINGONE_AUTH_URL)",
                ExitCode.CONFIGURATION,
            )
        return replace(
            self,
            base_url=f"https://api.pingone.{self.region}/v1",
            auth_url=f"https://auth.pingone.{self.region}",
            region=None,
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret these settings carry, to register with redaction before anything runs."""
        return tuple(s for s in (self.client_secret, self.access_token) if s)

    def check_embedded(self) -> None:
        """Refuse target settings that make no sense without a base URL (exit 10).

        An environment id, auth URL or credentials with no base URL most likely means the base
        URL was forgotten; running against the embedded reference instead would report on the
        wrong server.
        """
        given = [
            name
            for name, value in (
                ("--env-id/PINGONE_ENV_ID", self.env_id),
                ("--auth-url/PINGONE_AUTH_URL", self.auth_url),
                ("PINGONE_CLIENT_ID", self.client_id),
                ("PINGONE_CLIENT_SECRET", self.client_secret),
                ("PINGONE_ACCESS_TOKEN", self.access_token),
                ("--test-routes-url/PINGONE_TEST_ROUTES_URL", self.test_routes_url),
            )
            if value
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} given without a base URL: set --base-url (or "
                "PINGONE_API_URL) to test a tenant, or unset them to use the embedded reference",
                ExitCode.CONFIGURATION,
            )

    def external_target(self) -> Target:
        """The external `Target` these settings describe; `ConfigError` (exit 10) if incomplete."""
        if self.region:
            return self.resolved().external_target()
        if not self.base_url:
            raise ConfigError("no base URL given", ExitCode.CONFIGURATION)
        api = _http_url(self.base_url, "--base-url/PINGONE_API_URL")
        if not self.env_id:
            raise ConfigError(
                "a base URL needs an environment id: set --env-id or PINGONE_ENV_ID",
                ExitCode.CONFIGURATION,
            )
        if not _ENV_ID.match(self.env_id):
            shown = self.env_id if len(self.env_id) <= 40 else self.env_id[:40] + "…"
            raise ConfigError(
                f"the environment id {shown!r} is not a UUID: PingOne environment ids look "
                "like 3f9c2c8e-6a4b-4f5e-9d1a-2b7c8e0f1a2b (the console's Environment ID)",
                ExitCode.CONFIGURATION,
            )
        credentials = self._credentials()
        auth: str | None
        if self.auth_url:
            auth = _http_url(self.auth_url, "--auth-url/PINGONE_AUTH_URL")
        elif isinstance(credentials, ClientCredentials):
            auth = derive_auth_url(api)
        else:
            auth = None
        return Target(
            api_base_url=api,
            auth_base_url=auth,
            env_id=self.env_id,
            credentials=credentials,
            is_reference=False,
            test_routes_url=(
                _http_url(self.test_routes_url, "--test-routes-url/PINGONE_TEST_ROUTES_URL")
                if self.test_routes_url
                else None
            ),
        )

    def _credentials(self) -> Credentials:
        has_client = bool(self.client_id or self.client_secret)
        if has_client and self.access_token:
            raise ConfigError(
                "set either PINGONE_CLIENT_ID with PINGONE_CLIENT_SECRET, or "
                "PINGONE_ACCESS_TOKEN, not both",
                ExitCode.CONFIGURATION,
            )
        if self.access_token:
            return StaticToken(self.access_token)
        if self.client_id and self.client_secret:
            return ClientCredentials(self.client_id, self.client_secret)
        if has_client:
            missing = "PINGONE_CLIENT_SECRET" if self.client_id else "PINGONE_CLIENT_ID"
            raise ConfigError(
                f"{missing} is not set (client credentials need both)", ExitCode.CONFIGURATION
            )
        raise ConfigError(
            "a base URL needs credentials in the environment: PINGONE_CLIENT_ID and "
            "PINGONE_CLIENT_SECRET, or PINGONE_ACCESS_TOKEN",
            ExitCode.CONFIGURATION,
        )


def _http_url(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an http(s) URL with a host", ExitCode.CONFIGURATION)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{what} must not carry a query, fragment or user info", ExitCode.CONFIGURATION
        )
    return url.strip().rstrip("/")


def derive_auth_url(api_base_url: str) -> str:
    """The auth base that goes with an API base when none was given.

    PingOne's regional hosts pair `api.pingone.{tld}` with `auth.pingone.{tld}`; any other host
    (a mock, the reference) is assumed to serve the token endpoint at its own origin.
    """
    parts = urlsplit(api_base_url)
    host = parts.hostname or ""
    netloc = parts.netloc
    if host.startswith("api.pingone."):
        netloc = netloc.replace("api.pingone.", "auth.pingone.", 1)
    return f"{parts.scheme}://{netloc}"


_AGE = re.compile(r"^(\d+)\s*([smhd])$")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_age(text: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d` as a timedelta; ValueError for anything else."""
    match = _AGE.match(text.strip().lower())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not an age like 90s, 30m, 2h or 1d")
    return timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))})
