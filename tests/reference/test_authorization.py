"""Bearer tokens on every ``/v1`` route: 401 without a valid token, 403 for another environment."""

from __future__ import annotations

import time

import pytest

from reference.tokens import TokenService
from tests.reference.conftest import Api, assert_envelope, error_details, make_api

PROTECTED = [
    ("GET", "{env}"),
    ("GET", "{env}/users"),
    ("POST", "{env}/users"),
    ("GET", "{env}/users/u1"),
    ("DELETE", "{env}/users/u1"),
    ("GET", "{env}/users/u1/password"),
    ("PUT", "{env}/users/u1/password"),
    ("POST", "{env}/users/u1/password"),
    ("GET", "{env}/passwordPolicies"),
    ("GET", "{env}/passwordPolicies/p1"),
]


def _assert_invalid_token(response) -> None:  # type: ignore[no-untyped-def]
    body = assert_envelope(response, 401, "ACCESS_FAILED")
    assert [d["code"] for d in body["details"]] == ["INVALID_TOKEN"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_missing_token_is_401_invalid_token(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path.format(env=api.env))
    _assert_invalid_token(response)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwdw==", "Bearer a.b.c", "Bearer é.ü.ñ".encode()],
    ids=["empty-bearer", "not-a-jwt", "basic-scheme", "bad-signature-parts", "non-ascii"],
)
def test_malformed_token_is_401(api: Api, header: str | bytes) -> None:
    response = api.client.get(f"{api.env}/users", headers={"Authorization": header})
    _assert_invalid_token(response)


def test_token_with_a_forged_signature_is_401(api: Api) -> None:
    header, payload, signature = api.token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = api.client.get(f"{api.env}/users", headers={"Authorization": f"Bearer {forged}"})
    _assert_invalid_token(response)


def test_token_signed_with_another_key_is_401(api: Api) -> None:
    other = TokenService(key=b"k" * 32).issue(
        issuer="x", env_id=api.config.env_id, client_id=api.config.client_id
    )
    response = api.client.get(
        f"{api.env}/users", headers={"Authorization": f"Bearer {other.access_token}"}
    )
    _assert_invalid_token(response)


def test_expired_token_is_401(api: Api) -> None:
    hour_ago = time.time() - 3601
    expired = TokenService(ttl_seconds=3600, now=lambda: hour_ago).issue(
        issuer="x", env_id=api.config.env_id, client_id=api.config.client_id
    )
    response = api.client.get(
        f"{api.env}/users", headers={"Authorization": f"Bearer {expired.access_token}"}
    )
    _assert_invalid_token(response)


def test_token_ttl_comes_from_the_configuration() -> None:
    short = make_api(token_ttl_seconds=1)
    with short.client:
        assert short.request("GET", f"{short.env}/users").status_code == 200
        time.sleep(1.1)
        _assert_invalid_token(short.request("GET", f"{short.env}/users"))


def test_unknown_environment_in_the_path_is_403(api: Api) -> None:
    response = api.request("GET", "/v1/environments/00000000-0000-4000-8000-000000000000/users")
    body = assert_envelope(response, 403, "ACCESS_FAILED")
    assert error_details(response)[0]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert "www-authenticate" not in response.headers
    assert body["details"]


def test_token_of_another_environment_is_403() -> None:
    first, second = make_api(), make_api()
    with first.client, second.client:
        response = first.client.get(
            f"{first.env}/users", headers={"Authorization": f"Bearer {second.token}"}
        )
        assert_envelope(response, 403, "ACCESS_FAILED")
        response = first.client.get(
            f"{second.env}/users", headers={"Authorization": f"Bearer {first.token}"}
        )
        assert_envelope(response, 403, "ACCESS_FAILED")


def test_unknown_user_is_404(api: Api) -> None:
    assert_envelope(api.request("GET", api.password_url("no-such-user")), 404, "NOT_FOUND")
    assert_envelope(api.request("GET", f"{api.env}/users/no-such-user"), 404, "NOT_FOUND")
    assert_envelope(api.op("check", "no-such-user", {"password": "x"}), 404, "NOT_FOUND")


def test_unknown_route_is_a_404_envelope(api: Api) -> None:
    assert_envelope(api.request("GET", "/v1/nothing-here"), 404, "NOT_FOUND")
