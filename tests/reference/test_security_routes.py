"""Test routes for the security suite: minting expired and foreign tokens, a switchable rate limit,
and the environment's link to the test routes. All behind the ``test_routes`` flag."""

from __future__ import annotations

import uuid

import pytest

from reference.control_routes import TEST_ROUTES_RELATION
from tests.reference.conftest import Api, assert_envelope, make_api


def _with_token(api: Api, token: str, path: str) -> int:
    response = api.client.get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_a_minted_token_with_default_lifetime_works(api: Api) -> None:
    response = api.request("POST", "/__reference/tokens", json={})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert _with_token(api, body["access_token"], f"{api.env}/users") == 200


def test_an_expired_token_is_refused_with_401(api: Api) -> None:
    response = api.request("POST", "/__reference/tokens", json={"expiresIn": -60})
    assert response.status_code == 200
    token = response.json()["access_token"]
    refused = api.client.get(f"{api.env}/users", headers={"Authorization": f"Bearer {token}"})
    assert_envelope(refused, 401, "ACCESS_FAILED")


def test_a_token_of_another_environment_is_refused(api: Api) -> None:
    other = str(uuid.uuid4())
    response = api.request("POST", "/__reference/tokens", json={"environmentId": other})
    token = response.json()["access_token"]
    refused = api.client.get(f"{api.env}/users", headers={"Authorization": f"Bearer {token}"})
    assert_envelope(refused, 403, "ACCESS_FAILED")
    elsewhere = api.client.get(
        f"/v1/environments/{other}/users", headers={"Authorization": f"Bearer {token}"}
    )
    assert_envelope(elsewhere, 403, "ACCESS_FAILED")


@pytest.mark.parametrize(
    "body",
    [
        {"expiresIn": "60"},
        {"expiresIn": True},
        {"expiresIn": 10**9},
        {"environmentId": 5},
        {"environmentId": "a/b"},
        [],
    ],
)
def test_the_token_route_refuses_bad_bodies(api: Api, body: object) -> None:
    assert_envelope(api.request("POST", "/__reference/tokens", json=body), 400, "INVALID_DATA")


def test_the_rate_limit_can_be_switched_on_and_off(api: Api) -> None:
    assert api.request("GET", f"{api.env}/users").status_code == 200
    switched = api.request("POST", "/__reference/rate-limit", json={"perSecond": 0.5})
    assert switched.status_code == 200
    assert api.request("GET", f"{api.env}/users").status_code == 200
    limited = api.request("GET", f"{api.env}/users")
    assert_envelope(limited, 429, "REQUEST_LIMITED")
    assert limited.headers["Retry-After"].isdigit()
    # The switch itself is not under /v1/, so it works while the API is limited.
    assert api.request("POST", "/__reference/rate-limit", json={"perSecond": None}).is_success
    assert all(api.request("GET", f"{api.env}/users").status_code == 200 for _ in range(5))


@pytest.mark.parametrize(
    "body", [{}, {"perSecond": 0}, {"perSecond": -1}, {"perSecond": "5"}, {"perSecond": True}]
)
def test_the_rate_limit_route_refuses_bad_bodies(api: Api, body: object) -> None:
    response = api.request("POST", "/__reference/rate-limit", json=body)
    assert_envelope(response, 400, "INVALID_DATA")


def test_the_new_routes_need_a_token(api: Api) -> None:
    assert_envelope(api.client.post("/__reference/tokens", json={}), 401, "ACCESS_FAILED")
    response = api.client.post("/__reference/rate-limit", json={"perSecond": 1})
    assert_envelope(response, 401, "ACCESS_FAILED")


def test_the_environment_links_to_the_test_routes(api: Api) -> None:
    links = api.request("GET", api.env).json()["_links"]
    assert links[TEST_ROUTES_RELATION]["href"].endswith("/__reference")


def test_without_test_routes_there_is_no_link_and_no_route() -> None:
    api = make_api(test_routes=False)
    with api.client:
        assert TEST_ROUTES_RELATION not in api.request("GET", api.env).json()["_links"]
        assert api.request("POST", "/__reference/tokens", json={}).status_code == 404
        response = api.request("POST", "/__reference/rate-limit", json={"perSecond": 1})
        assert response.status_code == 404
