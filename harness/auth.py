"""Access tokens for the target: the client_credentials grant, cached and refreshed before expiry.

Client authentication: HTTP Basic (`client_secret_basic`) first, the method PingOne worker
applications default to. A worker application can instead be configured for
`client_secret_post`; when the token endpoint answers `invalid_client` to Basic, the provider
tries `client_secret_post` once and keeps whichever method worked for the rest of the run. A
wrong secret is therefore sent at most twice per run, never in a loop.

A static token (PINGONE_ACCESS_TOKEN) is used as given and never refreshed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from harness.config import ClientCredentials, StaticToken, Target
from harness.http_errors import (
    UNAVAILABLE_STATUSES,
    TargetUnreachable,
    TokenRequestFailed,
    retry_after_seconds,
)
from harness.redaction import REDACTED, Redactor, basic_credentials

BASIC = "client_secret_basic"
POST = "client_secret_post"
STATIC = "static token"

# A token response without expires_in is assumed short-lived, so it is refreshed early rather
# than late; PingOne documents 3600 s for worker tokens.
ASSUMED_LIFETIME_SECONDS = 300.0
REFRESH_MARGIN_SECONDS = 60.0
# A token request whose connection was refused or dropped before any answer, or that was answered
# 429 or 502/503/504, is tried again, as API requests are (harness.client.RateLimitPolicy): a
# blip is not "unreachable" and a busy endpoint is not a refusal. Each wait is its Retry-After,
# or a doubling backoff, never longer than MAX_WAIT_SECONDS. A dropped connection gets three
# attempts (an unreachable URL is reported within a second); a busy answer gets six, the first
# request and five retries, as an API request after a 429.
TRANSPORT_ATTEMPTS = 3
BUSY_ATTEMPTS = 6
MAX_WAIT_SECONDS = 10.0
TRANSPORT_BACKOFF_SECONDS = 0.2


class TokenProvider:
    """Hands out a valid access token, fetching a new one shortly before the old one expires."""

    def __init__(
        self,
        target: Target,
        session: requests.Session,
        redactor: Redactor,
        timeout: tuple[float, float] = (5.0, 30.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._target = target
        self._session = session
        self._redactor = redactor
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self.last_response: dict[str, Any] | None = None
        self._refresh_at = 0.0
        self._method: str | None = None
        self.fetch_count = 0
        credentials = target.credentials
        if isinstance(credentials, StaticToken):
            redactor.register(credentials.token)
            self._token = credentials.token
            self._refresh_at = float("inf")
            self._method = STATIC
        else:
            redactor.register(credentials.client_secret)
            redactor.register(basic_credentials(credentials.client_id, credentials.client_secret))

    @property
    def refreshable(self) -> bool:
        """False for a static token: there is nothing to refresh it with."""
        return isinstance(self._target.credentials, ClientCredentials)

    @property
    def method(self) -> str | None:
        """How the last token was obtained (client auth method or `static token`)."""
        return self._method

    def token(self) -> str:
        """A token that is valid for at least the refresh margin, fetching one if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget a refreshable token (the API refused it); the next `token()` fetches anew."""
        with self._lock:
            if self.refreshable:
                self._token = None

    def _fetch(self) -> None:
        credentials = self._target.credentials
        assert isinstance(credentials, ClientCredentials)
        url = self._target.token_url
        if url is None:
            raise TokenRequestFailed("no token endpoint configured", 0, None)
        methods = [self._method] if self._method in (BASIC, POST) else [BASIC, POST]
        failure: TokenRequestFailed | None = None
        for method in methods:
            assert method is not None
            try:
                self._request(url, credentials, method)
                return
            except TokenRequestFailed as refused:
                failure = failure or refused
                if refused.error != "invalid_client":
                    break
        assert failure is not None
        if len(methods) == 2 and failure.error == "invalid_client":
            raise TokenRequestFailed(
                f"{failure} (tried {BASIC} and {POST})", failure.status, failure.error
            )
        raise failure

    def _request(self, url: str, credentials: ClientCredentials, method: str) -> None:
        form = {"grant_type": "client_credentials"}
        auth: tuple[str, str] | None = None
        if method == BASIC:
            auth = (credentials.client_id, credentials.client_secret)
        else:
            form.update(client_id=credentials.client_id, client_secret=credentials.client_secret)
        started = self._clock()
        drops = 0
        for attempt in range(BUSY_ATTEMPTS):
            last = attempt + 1 == BUSY_ATTEMPTS
            backoff = TRANSPORT_BACKOFF_SECONDS * 2**attempt
            try:
                response = self._session.post(
                    url, data=form, auth=auth, timeout=self._timeout, allow_redirects=False
                )
            except requests.RequestException as error:
                dropped = isinstance(error, requests.ConnectionError) and not isinstance(
                    error, requests.Timeout
                )
                drops += 1
                if dropped and drops < TRANSPORT_ATTEMPTS:
                    time.sleep(backoff)
                    continue
                raise TargetUnreachable(
                    self._redactor.text(f"token endpoint {url}: {_reason(error)}")
                ) from None
            busy = response.status_code == 429 or response.status_code in UNAVAILABLE_STATUSES
            if not busy or last:
                break
            wait = retry_after_seconds(response.headers.get("Retry-After"), backoff)
            time.sleep(min(wait, MAX_WAIT_SECONDS))
        if response.status_code in UNAVAILABLE_STATUSES:
            raise TargetUnreachable(
                self._redactor.text(
                    f"token endpoint {url}: answered HTTP {response.status_code} "
                    f"{BUSY_ATTEMPTS} times in a row"
                )
            )
        body = _json_object(response)
        if response.status_code != 200:
            error_code = body.get("error") if isinstance(body.get("error"), str) else None
            code = error_code or body.get("code")
            detail = f" ({code})" if isinstance(code, str) else ""
            raise TokenRequestFailed(
                self._redactor.text(
                    f"token endpoint {url} answered HTTP {response.status_code}{detail}"
                ),
                response.status_code,
                error_code,
            )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenRequestFailed(
                f"token endpoint {url} answered 200 without an access_token", 200, None
            )
        self._redactor.register(token)
        # What the endpoint answered, the token itself left out (P1-TOKEN-001 reads this).
        self.last_response = {**body, "access_token": REDACTED}
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else None
        seconds = seconds or ASSUMED_LIFETIME_SECONDS
        margin = min(REFRESH_MARGIN_SECONDS, seconds / 2)
        self._token = token
        self._refresh_at = started + seconds - margin
        self._method = method
        self.fetch_count += 1


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(error: requests.RequestException) -> str:
    """A short cause for a transport failure, without urllib3's nested reprs."""
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.exceptions.Timeout):
        return "no answer before the read timeout"
    if isinstance(error, requests.exceptions.ConnectionError):
        text = str(error)
        for marker, reason in (
            ("Connection refused", "connection refused"),
            ("Name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("Temporary failure in name resolution", "host name not found"),
            ("Connection reset", "connection reset"),
            ("RemoteDisconnected", "connection closed without an answer"),
        ):
            if marker in text:
                return reason
        return "connection failed"
    return type(error).__name__


transport_reason = _reason
