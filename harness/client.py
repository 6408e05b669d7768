"""`ApiClient`: the suites' HTTP client for the target's management API.

Every exchange is recorded, redacted, as an Allure step with three attachments: the request,
the response, and a curl command that reproduces it with `$PINGONE_ACCESS_TOKEN` in place of the
token. A 429 answer is retried after its `Retry-After` delay, within a bounded number of retries
and a bounded total wait; both appear in the attachment. Every call has a timeout, and transport
failures raise `TargetUnreachable` with a redacted message.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import allure
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from harness.auth import TokenProvider, transport_reason
from harness.config import Target
from harness.http_errors import UNAVAILABLE_STATUSES, TargetUnreachable, retry_after_seconds
from harness.operations import OperationTable
from harness.redaction import REDACTED, Redactor

if TYPE_CHECKING:
    from harness.response_contract import ResponseContract


@dataclass(frozen=True)
class RateLimitPolicy:
    """How 429 answers, unavailable targets and dropped connections are retried.

    - 429: bounded retries, each after `Retry-After`, bounded overall;
    - 502/503/504 (the target is briefly unavailable): bounded retries after `Retry-After` or
      a doubling back-off; still unavailable after that, the request raises
      `TargetUnreachable`: the test reports "target unavailable", never a conformance failure;
    - a connection refused, reset or closed before any answer: retried the same way. A read
      timeout is not retried (the target may have acted on the request).
    """

    # Five, not three: a limiter that answers one request in ten 429 at random leaves one
    # request in 10^4 still limited after three retries (a run of ~2,000 requests goes red one
    # time in five for it) and one in 10^6 after five. The total wait stays bounded below.
    max_retries: int = 5
    max_total_wait_seconds: float = 60.0
    default_wait_seconds: float = 1.0
    unavailable_retries: int = 3
    transport_retries: int = 2
    backoff_seconds: float = 0.2


class BoundedRetry(Retry):
    """urllib3's retry with two limits of the harness's own client (`RateLimitPolicy`): a
    `Retry-After` longer than the policy's total wait is cut to it, and a read timeout is not
    retried (the target may have acted on the request)."""

    MAX_RETRY_AFTER_SECONDS = RateLimitPolicy.max_total_wait_seconds

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER_SECONDS)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


RETRIED_STATUSES = frozenset({429, *UNAVAILABLE_STATUSES})
# "too many 503 error responses", urllib3's reason once the retries are spent.
SPENT_RETRIES = re.compile(r"too many (\d{3}) error responses")


def retrying_session(policy: RateLimitPolicy) -> requests.Session:
    """A session that treats a 429, a 502-504 or a dropped connection the way the harness's
    client does: retried within the policy's bounds, after `Retry-After` or a doubling back-off.
    The property suite's generated traffic goes through it (schemathesis sends on a session it
    is given), so a busy or briefly unavailable target is no finding there either."""
    retry = BoundedRetry(
        total=None,
        connect=policy.transport_retries,
        read=policy.transport_retries,
        other=0,
        status=max(policy.max_retries, policy.unavailable_retries),
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=None,
        backoff_factor=policy.backoff_seconds,
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RateCeiling:
    """A ceiling on requests per second, shared by every thread of the run (`--max-rps`).

    Each request waits until at least 1/N s after the previous one started; no burst.
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second <= 0:
            raise ValueError("the request-rate ceiling must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def wait_turn(self, sleep: Callable[[float], None]) -> None:
        """Sleep until this request may start."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            sleep(start - now)


@dataclass
class Exchange:
    """One request and its final response, already redacted, for reports and failure messages."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    elapsed_seconds: float
    retries: int = 0
    waited_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """`PUT /v1/environments/…/password → 200`."""
        return f"{self.method} {urlsplit(self.url).path} → {self.status}"

    def request_text(self) -> str:
        """The request as a readable block."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
        body = f"\n\n{self.request_body}" if self.request_body else ""
        return f"{self.method} {self.url}\n{headers}{body}"

    def response_text(self) -> str:
        """The response as a readable block, with the retry record when 429s were retried."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.response_headers.items())
        record = "".join(f"\n# {note}" for note in self.notes)
        body = f"\n\n{self.response_body}" if self.response_body else ""
        return f"HTTP {self.status} ({self.elapsed_seconds:.3f} s){record}\n{headers}{body}"

    def summary(self, limit: int = 2000) -> str:
        """A short description for assertion messages: request line, status and body."""
        body = self.response_body
        if len(body) > limit:
            body = body[:limit] + " …"
        return f"{self.method} {self.url} → HTTP {self.status}\n{body}"


def allure_recorder(exchange: Exchange, curl: str) -> None:
    """Attach one exchange to the running Allure test as a step with three attachments."""
    with allure.step(exchange.title):
        allure.attach(exchange.request_text(), "request", allure.attachment_type.TEXT)
        allure.attach(exchange.response_text(), "response", allure.attachment_type.TEXT)
        allure.attach(curl, "curl", allure.attachment_type.TEXT)


Recorder = Callable[[Exchange, str], None]
# Sees every raw response as it arrives (a 429 that is retried, a 401 that is replayed), with the
# method, request headers and body that produced it. Observers must not write what they see.
Observer = Callable[[str, Mapping[str, str], bytes | None, requests.Response], None]


class ApiClient:
    """Talks to `{api}/environments/{envID}/…` with a bearer token; records every exchange."""

    def __init__(
        self,
        target: Target,
        tokens: TokenProvider,
        redactor: Redactor,
        session: requests.Session | None = None,
        operations: OperationTable | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        rate_limit: RateLimitPolicy | None = None,
        recorder: Recorder | None = allure_recorder,
        sleep: Callable[[float], None] = time.sleep,
        ceiling: RateCeiling | None = None,
    ) -> None:
        self.target = target
        self.tokens = tokens
        self.redactor = redactor
        self.session = session or requests.Session()
        self.operations = operations or OperationTable.load()
        self.timeout = timeout
        self.rate_limit = rate_limit or RateLimitPolicy()
        self._recorder = recorder
        self._sleep = sleep
        self.ceiling = ceiling
        self.history: deque[Exchange] = deque(maxlen=50)
        # The whole run's 429 handling, for the one summary line: retries made, seconds waited.
        self.rate_limit_record: dict[str, float] = {
            "retries": 0,
            "waited_seconds": 0.0,
            "unavailable_retries": 0,
        }
        self.observers: list[Observer] = []
        # Allure can only take attachments while a test (or its fixtures) runs; the run's
        # pytest hooks switch recording on around each test.
        self.recording = recorder is not None
        # When set (the run context does, once preflight is done), every response received while
        # a test runs is checked against its schema; a violation fails that test.
        self.response_contract: ResponseContract | None = None

    # --- URLs ---------------------------------------------------------------------------------
    def env_url(self, *parts: str) -> str:
        """`{api}/environments/{envID}/part/part…`."""
        suffix = "".join(f"/{part.strip('/')}" for part in parts if part)
        return f"{self.target.environment_url}{suffix}"

    def user_url(self, user_id: str) -> str:
        """`…/users/{userID}`."""
        return self.env_url("users", user_id)

    def password_url(self, user_id: str) -> str:
        """`…/users/{userID}/password`."""
        return self.env_url("users", user_id, "password")

    # --- requests -----------------------------------------------------------------------------
    def password_operation(
        self,
        user_id: str,
        name: str,
        body: Any = None,
        *,
        media_type: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send the password operation `name` as `schemas/operations.yaml` defines it.

        The method and `Content-Type` come from the table (`media_type` overrides the type, for
        the documented alternative spellings). `body` None sends no body; `params` is the query
        (e.g. `expand=passwordPolicy` on a read).
        """
        operation = self.operations.get(name)
        content_type = media_type or operation.media_type
        return self.request(
            operation.method,
            self.password_url(user_id),
            json_body=body,
            content_type=content_type,
            params=params,
        )

    def get(self, url: str, params: Mapping[str, str] | None = None) -> requests.Response:
        """GET with the bearer token."""
        return self.request("GET", url, params=params)

    def post_json(self, url: str, body: Any) -> requests.Response:
        """POST an `application/json` body with the bearer token."""
        return self.request("POST", url, json_body=body, content_type="application/json")

    def delete(self, url: str) -> requests.Response:
        """DELETE with the bearer token."""
        return self.request("DELETE", url)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        raw_body: bytes | str | None = None,
        content_type: str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> requests.Response:
        """Send one request, retrying 429s within the rate-limit policy, and record it.

        `authenticated` False sends no bearer token (the caller may pass its own Authorization
        header, e.g. to probe how the target treats a bad token). An authenticated request that
        gets 401 is replayed once with a freshly fetched token when the token can be refreshed.
        """
        sent_headers: dict[str, str] = {"Accept": "application/json"}
        if content_type:
            sent_headers["Content-Type"] = content_type
        sent_headers.update(headers or {})
        data: bytes | None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
        elif isinstance(raw_body, str):
            data = raw_body.encode("utf-8")
        else:
            data = raw_body
        retries = 0
        waited = 0.0
        notes: list[str] = []
        replayed = False
        unavailable = 0
        while True:
            if authenticated:
                sent_headers["Authorization"] = f"Bearer {self.tokens.token()}"
            response = self._send(method, url, sent_headers, data, params)
            if response.status_code in UNAVAILABLE_STATUSES:
                if unavailable < self.rate_limit.unavailable_retries:
                    wait = retry_after_seconds(
                        response.headers.get("Retry-After"),
                        self.rate_limit.backoff_seconds * 2**unavailable,
                    )
                    wait = min(wait, self.rate_limit.max_total_wait_seconds)
                    self._sleep(wait)
                    unavailable += 1
                    self.rate_limit_record["unavailable_retries"] += 1
                    notes.append(f"HTTP {response.status_code}: waited {wait:.1f} s, retry")
                    continue
                self._record(method, response, sent_headers, data, retries, waited, notes)
                where = self.redactor.text(f"{method} {urlsplit(url).path}")
                raise TargetUnreachable(
                    f"{where}: answered HTTP {response.status_code} "
                    f"{response.reason or ''} {unavailable + 1} times in a row".replace("  ", " ")
                )
            if (
                response.status_code == 401
                and authenticated
                and self.tokens.refreshable
                and not replayed
            ):
                replayed = True
                notes.append("401 with the cached token: fetched a new token and replayed once")
                self.tokens.invalidate()
                continue
            if response.status_code != 429 or retries >= self.rate_limit.max_retries:
                if response.status_code == 429:
                    notes.append(f"gave up after {retries} retries")
                break
            wait = retry_after_seconds(
                response.headers.get("Retry-After"), self.rate_limit.default_wait_seconds
            )
            if waited + wait > self.rate_limit.max_total_wait_seconds:
                notes.append(
                    f"Retry-After {wait:.1f} s would exceed the total wait bound "
                    f"{self.rate_limit.max_total_wait_seconds:.0f} s: not retried"
                )
                break
            self._sleep(wait)
            waited += wait
            retries += 1
            notes.append(f"429: waited {wait:.1f} s (Retry-After), retry {retries}")
        self.rate_limit_record["retries"] += retries
        self.rate_limit_record["waited_seconds"] += waited
        if retries or response.status_code == 429:
            notes.append(
                f"rate limit record: {retries} retries (max {self.rate_limit.max_retries}), "
                f"{waited:.1f} s waited (max {self.rate_limit.max_total_wait_seconds:.0f} s)"
            )
        exchange = self._record(method, response, sent_headers, data, retries, waited, notes)
        if self.response_contract is not None and self.recording:
            self._enforce_contract(method, sent_headers.get("Content-Type"), response, exchange)
        return response

    def _record(
        self,
        method: str,
        response: requests.Response,
        headers: Mapping[str, str],
        data: bytes | None,
        retries: int,
        waited: float,
        notes: list[str],
    ) -> Exchange:
        exchange = self._exchange(method, response, headers, data, retries, waited, notes)
        self.history.append(exchange)
        if self._recorder is not None and self.recording:
            self._recorder(exchange, self.curl(method, response.url, headers, data))
        return exchange

    def _enforce_contract(
        self,
        method: str,
        content_type: str | None,
        response: requests.Response,
        exchange: Exchange,
    ) -> None:
        from harness.response_contract import ResponseContractViolation

        assert self.response_contract is not None
        found = self.response_contract.violations(
            method=method,
            path=urlsplit(response.url).path,
            request_content_type=content_type,
            status=response.status_code,
            response_content_type=response.headers.get("Content-Type"),
            body=response.content,
        )
        if found:
            listed = "\n".join(f"  - {self.redactor.text(line)}" for line in found)
            raise ResponseContractViolation(
                f"the response breaks its contract ({len(found)} violation(s)):\n{listed}\n"
                f"{exchange.summary()}"
            )

    def last_exchange(self) -> Exchange | None:
        """The most recent exchange, for failure messages."""
        return self.history[-1] if self.history else None

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        params: Mapping[str, str] | None,
    ) -> requests.Response:
        attempt = 0
        while True:
            if self.ceiling is not None:
                self.ceiling.wait_turn(self._sleep)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=dict(headers),
                    data=data,
                    params=params,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                retriable = isinstance(error, requests.ConnectionError) and not isinstance(
                    error, requests.Timeout
                )
                if retriable and attempt < self.rate_limit.transport_retries:
                    self._sleep(self.rate_limit.backoff_seconds * 2**attempt)
                    attempt += 1
                    self.rate_limit_record["unavailable_retries"] += 1
                    continue
                where = self.redactor.text(f"{method} {urlsplit(url).path}")
                reason = transport_reason(error)
                tries = f" ({attempt + 1} attempts)" if attempt else ""
                raise TargetUnreachable(f"{where}: {reason}{tries}") from None
            for observer in self.observers:
                observer(method, headers, data, response)
            return response

    def _exchange(
        self,
        method: str,
        response: requests.Response,
        headers: Mapping[str, str],
        data: bytes | None,
        retries: int,
        waited: float,
        notes: list[str],
    ) -> Exchange:
        redact = self.redactor
        return Exchange(
            method=method,
            url=redact.text(response.url),
            request_headers=redact.headers(headers),
            request_body=redact.body(data, headers.get("Content-Type")),
            status=response.status_code,
            response_headers=redact.headers(response.headers),
            response_body=redact.body(response.content, response.headers.get("Content-Type")),
            elapsed_seconds=response.elapsed.total_seconds(),
            retries=retries,
            waited_seconds=waited,
            notes=notes,
        )

    def curl(self, method: str, url: str, headers: Mapping[str, str], data: bytes | None) -> str:
        """A redacted curl command; the bearer token reads from `$PINGONE_ACCESS_TOKEN`."""
        return curl_command(method, url, headers, data, self.redactor)


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    data: bytes | None,
    redactor: Redactor,
) -> str:
    """A shell command reproducing a request, with every secret left out.

    A bearer token becomes `"Authorization: Bearer $PINGONE_ACCESS_TOKEN"` (double quotes, so
    the shell fills it in); any other credential header and every secret body field shows
    `[REDACTED]`.
    """
    parts = ["curl", "-sS", "-X", method, shlex.quote(redactor.text(url))]
    for name, value in headers.items():
        if name.lower() == "authorization" and value.startswith("Bearer "):
            parts += ["-H", '"Authorization: Bearer $PINGONE_ACCESS_TOKEN"']
        elif name.lower() in ("authorization", "proxy-authorization", "cookie"):
            parts += ["-H", shlex.quote(f"{name}: {REDACTED}")]
        else:
            parts += ["-H", shlex.quote(f"{name}: {redactor.text(value)}")]
    if data:
        body = redactor.body(data, headers.get("Content-Type"))
        compact = _compact_json(body)
        parts += ["--data-binary", shlex.quote(compact)]
    return " ".join(parts)


def _compact_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return text
