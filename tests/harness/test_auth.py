"""Token acquisition: Basic first, client_secret_post once on invalid_client, refresh early."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests

from harness.auth import BASIC, BUSY_ATTEMPTS, POST, STATIC, TokenProvider
from harness.client import RateLimitPolicy
from harness.config import ClientCredentials, StaticToken, Target
from harness.http_errors import TargetUnreachable, TokenRequestFailed
from harness.redaction import Redactor
from tests.harness.scripted_server import Answer, Received, ScriptedServer, scripted_server

SECRET = "client-secret-for-tests-1"
TOKEN_PATH = "/env-1/as/token"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as script:
        yield script


def _target(server: ScriptedServer, credentials: ClientCredentials | StaticToken) -> Target:
    return Target(
        api_base_url=f"{server.base_url}/v1",
        auth_base_url=server.base_url,
        env_id="env-1",
        credentials=credentials,
        is_reference=False,
    )


def _token(value: str, expires_in: int = 3600) -> Answer:
    return Answer(200, {"access_token": value, "token_type": "Bearer", "expires_in": expires_in})


def _basic_of(request: Received) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode()


def test_basic_client_authentication_comes_first(server: ScriptedServer) -> None:
    server.queue("POST", TOKEN_PATH, _token("tok-basic-1"))
    redactor = Redactor()
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), redactor
    )
    assert provider.token() == "tok-basic-1"
    assert provider.method == BASIC
    (sent,) = server.received
    assert _basic_of(sent) == f"cid:{SECRET}"
    assert parse_qs(sent.body.decode()) == {"grant_type": ["client_credentials"]}
    assert redactor.is_registered("tok-basic-1")
    assert redactor.is_registered(SECRET)


def test_invalid_client_for_basic_falls_back_to_post_once(server: ScriptedServer) -> None:
    def only_post(request: Received) -> Answer | None:
        if request.path != TOKEN_PATH:
            return None
        if "Authorization" in request.headers:
            return Answer(401, {"error": "invalid_client"})
        form = parse_qs(request.body.decode())
        if form.get("client_secret") == [SECRET] and form.get("client_id") == ["cid"]:
            return _token(f"tok-post-{len(server.received)}", expires_in=100)
        return Answer(401, {"error": "invalid_client"})

    server.rules.append(only_post)
    now = [0.0]
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)),
        requests.Session(),
        Redactor(),
        clock=lambda: now[0],
    )
    first = provider.token()
    assert provider.method == POST
    assert len(server.received) == 2
    now[0] = 10.0
    assert provider.token() == first  # cached
    now[0] = 60.0  # 100 s lifetime, refreshed 50 s before expiry
    assert provider.token() != first
    assert len(server.received) == 3  # the refresh went straight to client_secret_post
    assert "Authorization" not in server.received[-1].headers


def test_credentials_refused_both_ways_name_both_methods(server: ScriptedServer) -> None:
    server.queue("POST", TOKEN_PATH, Answer(401, {"error": "invalid_client"}))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    with pytest.raises(TokenRequestFailed) as raised:
        provider.token()
    assert raised.value.status == 401
    assert raised.value.error == "invalid_client"
    assert BASIC in str(raised.value)
    assert POST in str(raised.value)
    assert SECRET not in str(raised.value)
    assert len(server.received) == 2


def test_other_token_errors_are_not_retried_with_post(server: ScriptedServer) -> None:
    server.queue("POST", TOKEN_PATH, Answer(400, {"error": "unsupported_grant_type"}))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    with pytest.raises(TokenRequestFailed) as raised:
        provider.token()
    assert raised.value.error == "unsupported_grant_type"
    assert len(server.received) == 1


def test_a_200_without_access_token_is_a_failure(server: ScriptedServer) -> None:
    server.queue("POST", TOKEN_PATH, Answer(200, {"token_type": "Bearer"}))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    with pytest.raises(TokenRequestFailed, match="without an access_token"):
        provider.token()


def test_a_static_token_is_used_as_given(server: ScriptedServer) -> None:
    redactor = Redactor()
    provider = TokenProvider(
        _target(server, StaticToken("static-token-value")), requests.Session(), redactor
    )
    assert provider.token() == "static-token-value"
    assert provider.method == STATIC
    assert not provider.refreshable
    provider.invalidate()
    assert provider.token() == "static-token-value"
    assert server.received == []
    assert redactor.is_registered("static-token-value")


def test_an_unreachable_token_endpoint_raises_without_the_secret() -> None:
    target = Target(
        api_base_url="http://127.0.0.1:9/v1",
        auth_base_url="http://127.0.0.1:9",
        env_id="env-1",
        credentials=ClientCredentials("cid", SECRET),
        is_reference=False,
    )
    provider = TokenProvider(target, requests.Session(), Redactor(), timeout=(2.0, 2.0))
    with pytest.raises(TargetUnreachable) as raised:
        provider.token()
    assert "connection refused" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_busy_token_endpoint_is_asked_again_after_retry_after(server: ScriptedServer) -> None:
    server.queue("POST", TOKEN_PATH, Answer(429, {"error": "slow_down"}, {"Retry-After": "0"}))
    server.queue("POST", TOKEN_PATH, Answer(503, {"error": "unavailable"}, {"Retry-After": "0"}))
    server.queue("POST", TOKEN_PATH, _token("tok-after-busy"))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    assert provider.token() == "tok-after-busy"
    assert len(server.received) == 3


def test_a_token_endpoint_limited_five_times_in_a_row_still_gives_a_token(
    server: ScriptedServer,
) -> None:
    """As many retries after a 429 as an API request gets (harness.client.RateLimitPolicy)."""
    for _ in range(BUSY_ATTEMPTS - 1):
        server.queue("POST", TOKEN_PATH, Answer(429, {"error": "slow_down"}, {"Retry-After": "0"}))
    server.queue("POST", TOKEN_PATH, _token("tok-after-limits"))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    assert provider.token() == "tok-after-limits"
    assert len(server.received) == BUSY_ATTEMPTS == RateLimitPolicy().max_retries + 1


def test_a_token_endpoint_unavailable_every_time_is_unreachable_not_refused(
    server: ScriptedServer,
) -> None:
    for _ in range(BUSY_ATTEMPTS):
        server.queue("POST", TOKEN_PATH, Answer(503, {}, {"Retry-After": "0"}))
    provider = TokenProvider(
        _target(server, ClientCredentials("cid", SECRET)), requests.Session(), Redactor()
    )
    with pytest.raises(TargetUnreachable, match=f"503 {BUSY_ATTEMPTS} times in a row") as raised:
        provider.token()
    assert SECRET not in str(raised.value)
    assert len(server.received) == BUSY_ATTEMPTS
