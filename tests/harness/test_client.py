"""ApiClient: operations from the table, 429 handling within bounds, timeouts, redacted records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from harness.auth import TokenProvider
from harness.client import ApiClient, Exchange, RateCeiling, RateLimitPolicy, retry_after_seconds
from harness.config import ClientCredentials, Target
from harness.http_errors import TargetUnreachable
from harness.redaction import Redactor
from tests.harness.scripted_server import Answer, ScriptedServer, scripted_server

SECRET = "client-secret-for-client-tests"
PASSWORD_PATH = "/v1/environments/env-1/users/u-1/password"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as script:
        script.queue("POST", "/env-1/as/token", Answer(200, {"access_token": "tok-1-abcdef"}))
        yield script


class Recorded:
    def __init__(self) -> None:
        self.exchanges: list[tuple[Exchange, str]] = []

    def __call__(self, exchange: Exchange, curl: str) -> None:
        self.exchanges.append((exchange, curl))


def _client(
    server: ScriptedServer,
    recorder: Recorded | None = None,
    sleeps: list[float] | None = None,
    rate_limit: RateLimitPolicy | None = None,
    timeout: tuple[float, float] = (2.0, 5.0),
) -> ApiClient:
    target = Target(
        api_base_url=f"{server.base_url}/v1",
        auth_base_url=server.base_url,
        env_id="env-1",
        credentials=ClientCredentials("cid", SECRET),
        is_reference=False,
    )
    redactor = Redactor()
    session = requests.Session()
    tokens = TokenProvider(target, session, redactor)
    return ApiClient(
        target,
        tokens,
        redactor,
        session,
        timeout=timeout,
        rate_limit=rate_limit,
        recorder=recorder,
        sleep=(sleeps.append if sleeps is not None else lambda seconds: None),
    )


def _api_requests(server: ScriptedServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.received if "/as/token" not in r.path]


@pytest.mark.parametrize(
    ("operation", "method", "content_type", "body"),
    [
        ("read", "GET", None, None),
        ("set", "PUT", "application/vnd.pingidentity.password.set+json", {"value": "x"}),
        ("check", "POST", "application/vnd.pingidentity.password.check+json", {"password": "y"}),
        ("forceChange", "POST", "application/vnd.pingidentity.password.forceChange", None),
    ],
)
def test_password_operations_take_method_and_media_type_from_the_table(
    server: ScriptedServer,
    operation: str,
    method: str,
    content_type: str | None,
    body: dict[str, str] | None,
) -> None:
    server.queue(method, PASSWORD_PATH, Answer(200, {"status": "OK"}))
    response = _client(server).password_operation("u-1", operation, body)
    assert response.status_code == 200
    sent = server.received[-1]
    assert (sent.method, sent.path) == (method, PASSWORD_PATH)
    assert sent.headers.get("Content-Type") == content_type
    assert sent.headers["Authorization"] == "Bearer tok-1-abcdef"
    assert (json.loads(sent.body) if sent.body else None) == body


def test_an_alternative_media_type_can_be_chosen(server: ScriptedServer) -> None:
    server.queue("POST", PASSWORD_PATH, Answer(200, {}))
    alternative = "application/vnd.pingidentity.password.unlock+json"
    _client(server).password_operation("u-1", "unlock", media_type=alternative)
    assert server.received[-1].headers["Content-Type"] == alternative


def test_429_is_retried_after_retry_after_and_the_record_says_so(server: ScriptedServer) -> None:
    server.queue(
        "GET",
        PASSWORD_PATH,
        Answer(429, {"code": "REQUEST_LIMITED"}, {"Retry-After": "2"}),
        Answer(429, {"code": "REQUEST_LIMITED"}, {"Retry-After": "1"}),
        Answer(200, {"status": "OK"}),
    )
    sleeps: list[float] = []
    recorder = Recorded()
    response = _client(server, recorder, sleeps).password_operation("u-1", "read")
    assert response.status_code == 200
    assert sleeps == [2.0, 1.0]
    assert _api_requests(server) == [f"GET {PASSWORD_PATH}"] * 3
    (exchange, _curl) = recorder.exchanges[-1]
    assert exchange.retries == 2
    assert exchange.waited_seconds == 3.0
    assert "2 retries (max 5), 3.0 s waited (max 60 s)" in exchange.response_text()


def test_429_retries_are_bounded_in_number(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(429, {}, {"Retry-After": "1"}))
    sleeps: list[float] = []
    recorder = Recorded()
    client = _client(server, recorder, sleeps, RateLimitPolicy(max_retries=2))
    assert client.password_operation("u-1", "read").status_code == 429
    assert sleeps == [1.0, 1.0]
    assert len(_api_requests(server)) == 3
    assert "gave up after 2 retries" in recorder.exchanges[-1][0].response_text()


def test_429_retries_are_bounded_in_total_wait(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(429, {}, {"Retry-After": "45"}))
    sleeps: list[float] = []
    recorder = Recorded()
    client = _client(server, recorder, sleeps, RateLimitPolicy(max_total_wait_seconds=60))
    assert client.password_operation("u-1", "read").status_code == 429
    assert sleeps == [45.0]  # a second 45 s wait would pass the 60 s bound
    assert "would exceed the total wait bound" in recorder.exchanges[-1][0].response_text()


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds("7", 1.0) == 7.0
    assert retry_after_seconds(later, 1.0, now=now) == 30.0
    assert (
        retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), 1.0, now=now)
        == 0.0
    )
    assert retry_after_seconds(None, 1.5) == 1.5
    assert retry_after_seconds("soon", 1.5) == 1.5


def test_a_401_is_replayed_once_with_a_fresh_token(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(401, {"code": "ACCESS_FAILED"}), Answer(200, {}))
    client = _client(server)
    assert client.password_operation("u-1", "read").status_code == 200
    assert client.tokens.fetch_count == 2
    assert "401 with the cached token" in client.history[-1].response_text()


def test_a_lasting_401_is_returned_after_one_replay(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(401, {"code": "ACCESS_FAILED"}))
    client = _client(server)
    assert client.password_operation("u-1", "read").status_code == 401
    assert len(_api_requests(server)) == 2


def test_unauthenticated_requests_carry_only_the_given_headers(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(401, {"code": "ACCESS_FAILED"}))
    client = _client(server)
    url = client.password_url("u-1")
    response = client.request(
        "GET", url, authenticated=False, headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 401
    assert len(_api_requests(server)) == 1
    assert server.received[-1].headers["Authorization"] == "Bearer x"


def test_every_exchange_is_recorded_redacted(server: ScriptedServer) -> None:
    server.queue(
        "PUT",
        PASSWORD_PATH,
        Answer(400, {"code": "INVALID_DATA", "echo": "Pa55-Word-Echo-1", "id": "1"}),
    )
    recorder = Recorded()
    client = _client(server, recorder)
    client.redactor.register("Pa55-Word-Echo-1")
    client.password_operation("u-1", "set", {"value": "Pa55-Word-Echo-1", "forceChange": False})
    exchange, curl = recorder.exchanges[-1]
    everything = exchange.request_text() + exchange.response_text() + curl
    for secret in ("Pa55-Word-Echo-1", "tok-1-abcdef", SECRET):
        assert secret not in everything
    assert exchange.request_headers["Authorization"] == "[REDACTED]"
    assert exchange.title == f"PUT {PASSWORD_PATH} → 400"
    assert "$PINGONE_ACCESS_TOKEN" in curl


def test_a_read_timeout_raises_target_unreachable(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(200, {}, delay=1.0))
    client = _client(server, timeout=(1.0, 0.2))
    with pytest.raises(TargetUnreachable, match="no answer before the read timeout"):
        client.password_operation("u-1", "read")


def test_a_refused_connection_raises_a_short_redacted_message() -> None:
    target = Target(
        api_base_url="http://127.0.0.1:9/v1",
        auth_base_url=None,
        env_id="env-1",
        credentials=ClientCredentials("cid", SECRET),
        is_reference=False,
    )
    redactor = Redactor(["u-secret-user"])
    client = ApiClient(target, TokenProvider(target, requests.Session(), redactor), redactor)
    with pytest.raises(TargetUnreachable) as raised:
        client.request("GET", client.user_url("u-secret-user"), authenticated=False)
    message = str(raised.value)
    assert message == (
        "GET /v1/environments/env-1/users/[REDACTED]: connection refused (3 attempts)"
    )
    assert raised.value.__suppress_context__


def test_the_rate_ceiling_spaces_requests_and_is_shared_by_threads() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    ceiling = RateCeiling(4.0, clock=lambda: now[0])
    for _ in range(3):
        ceiling.wait_turn(sleep)
    assert slept == [pytest.approx(0.25), pytest.approx(0.5)]  # the 2nd and 3rd wait their turn
    now[0] += 10.0  # long idle: no waiting, and no burst credit either
    ceiling.wait_turn(sleep)
    ceiling.wait_turn(sleep)
    assert slept[2:] == [pytest.approx(0.25)]
    with pytest.raises(ValueError, match="positive"):
        RateCeiling(0)


def test_a_briefly_unavailable_target_is_retried(server: ScriptedServer) -> None:
    server.queue(
        "GET",
        PASSWORD_PATH,
        Answer(503, {"code": "X"}, {"Retry-After": "1"}),
        Answer(502, {}),
        Answer(200, {"status": "OK"}),
    )
    sleeps: list[float] = []
    client = _client(server, Recorded(), sleeps)
    assert client.password_operation("u-1", "read").status_code == 200
    assert sleeps == [1.0, pytest.approx(0.4)]  # Retry-After, then the doubling back-off
    assert client.rate_limit_record["unavailable_retries"] == 2


def test_a_target_still_unavailable_after_the_retries_is_unreachable_not_wrong(
    server: ScriptedServer,
) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(503, {}))
    client = _client(server, Recorded(), [], RateLimitPolicy(unavailable_retries=2))
    with pytest.raises(TargetUnreachable, match="answered HTTP 503 .*3 times in a row"):
        client.password_operation("u-1", "read")
    assert len(_api_requests(server)) == 3


def test_a_server_error_is_not_retried(server: ScriptedServer) -> None:
    server.queue("GET", PASSWORD_PATH, Answer(500, {"code": "UNEXPECTED_ERROR"}))
    assert _client(server, Recorded(), []).password_operation("u-1", "read").status_code == 500
    assert len(_api_requests(server)) == 1
