"""Users: create and import, uniqueness, filters, limit, read, delete."""

from __future__ import annotations

import pytest

from tests.reference.conftest import GOOD_PASSWORD, IMPORT, Api, assert_envelope, error_details


def test_create_returns_201_with_location_and_the_user(api: Api) -> None:
    response = api.request(
        "POST",
        f"{api.env}/users",
        json={
            "username": "jdoe",
            "email": "jane@example.com",
            "name": {"given": "Jane"},
            "population": {"id": "pop-1"},
            "enabled": True,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == body["_links"]["self"]["href"]
    assert body["username"] == "jdoe"
    assert body["environment"] == {"id": api.config.env_id}
    assert body["identityProvider"] == {"type": "PING_ONE"}
    assert body["account"] == {"canAuthenticate": True, "status": "OK"}
    assert body["population"] == {"id": "pop-1"}
    assert body["createdAt"].endswith("Z")
    assert "password" not in body


def test_plain_create_ignores_a_password(api: Api) -> None:
    response = api.request(
        "POST", f"{api.env}/users", json={"username": "nopw", "password": {"value": GOOD_PASSWORD}}
    )
    assert response.status_code == 201
    assert api.state(response.json()["id"])["status"] == "NO_PASSWORD"


def test_import_with_cleartext_applies_the_policy(api: Api) -> None:
    bad = api.request(
        "POST",
        f"{api.env}/users",
        json={"username": "imp1", "password": {"value": "weak"}},
        headers={"Content-Type": IMPORT},
    )
    assert_envelope(bad, 400, "INVALID_DATA")
    assert error_details(bad)[0]["target"] == "password"
    good = api.request(
        "POST",
        f"{api.env}/users",
        json={"username": "imp1", "password": {"value": GOOD_PASSWORD, "forceChange": True}},
        headers={"Content-Type": IMPORT},
    )
    assert good.status_code == 201, good.text
    assert api.state(good.json()["id"])["status"] == "MUST_CHANGE_PASSWORD"


def test_username_is_unique_case_insensitively(api: Api) -> None:
    api.create_user("Alice")
    response = api.request("POST", f"{api.env}/users", json={"username": "alice"})
    assert_envelope(response, 400, "INVALID_DATA")
    assert error_details(response)[0]["code"] == "UNIQUENESS_VIOLATION"


@pytest.mark.parametrize(
    ("body", "code", "target"),
    [
        ({}, "REQUIRED_VALUE", "username"),
        ({"username": 5}, "INVALID_VALUE", "username"),
        ({"username": "x", "enabled": "yes"}, "INVALID_VALUE", "enabled"),
        (
            {"username": "x", "identityProvider": {"type": "MYSPACE"}},
            "INVALID_VALUE",
            "identityProvider.type",
        ),
    ],
)
def test_invalid_user_bodies_are_400(api: Api, body: object, code: str, target: str) -> None:
    response = api.request("POST", f"{api.env}/users", json=body)
    assert_envelope(response, 400, "INVALID_DATA")
    assert (error_details(response)[0]["code"], error_details(response)[0]["target"]) == (
        code,
        target,
    )


def test_create_with_another_media_type_is_415(api: Api) -> None:
    response = api.request(
        "POST",
        f"{api.env}/users",
        content=b'{"username": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_envelope(response, 415, "INVALID_REQUEST")


def test_filters_and_limit(api: Api) -> None:
    for name in ("conf-a1", "conf-a2", "conf-b1", "other"):
        api.create_user(name)

    def names(params: dict[str, str]) -> tuple[list[str], int, int]:
        body = api.request("GET", f"{api.env}/users", params=params).json()
        return ([u["username"] for u in body["_embedded"]["users"]], body["count"], body["size"])

    assert names({"filter": 'username sw "conf-a"'}) == (["conf-a1", "conf-a2"], 2, 2)
    assert names({"filter": 'username sw "CONF-"', "limit": "2"}) == (["conf-a1", "conf-a2"], 3, 2)
    assert names({"filter": 'username eq "other"'}) == (["other"], 1, 1)
    assert names({"filter": 'USERNAME EQ "Other"'}) == (["other"], 1, 1)
    assert names({}) == (["conf-a1", "conf-a2", "conf-b1", "other"], 4, 4)


@pytest.mark.parametrize(
    "expression",
    ['email eq "x"', "username sw x", 'username co "a"', 'username eq "a" and username eq "b"', ""],
)
def test_unsupported_filters_are_invalid_filter(api: Api, expression: str) -> None:
    response = api.request("GET", f"{api.env}/users", params={"filter": expression})
    assert_envelope(response, 400, "INVALID_DATA")
    assert error_details(response)[0]["code"] == "INVALID_FILTER"


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1001"])
def test_bad_limit_is_400(api: Api, limit: str) -> None:
    response = api.request("GET", f"{api.env}/users", params={"limit": limit})
    assert_envelope(response, 400, "INVALID_DATA")


def test_get_and_delete(api: Api) -> None:
    user_id = api.user_with_password()
    assert api.request("GET", f"{api.env}/users/{user_id}").json()["id"] == user_id
    deleted = api.request("DELETE", f"{api.env}/users/{user_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_envelope(api.request("GET", f"{api.env}/users/{user_id}"), 404, "NOT_FOUND")
    assert_envelope(api.request("DELETE", f"{api.env}/users/{user_id}"), 404, "NOT_FOUND")
    assert_envelope(api.request("GET", api.password_url(user_id)), 404, "NOT_FOUND")


def test_environment_is_readable(api: Api) -> None:
    response = api.request("GET", api.env)
    assert response.status_code == 200
    assert response.json()["id"] == api.config.env_id
