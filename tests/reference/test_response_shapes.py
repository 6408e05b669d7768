"""The reference's bodies validate against the response schemas in ``schemas/``.

The suites judge any target by these schemas; the embedded default must pass them itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from tests.reference.conftest import GOOD_PASSWORD, Api, make_api

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _retrieve(uri: str) -> Resource[Any]:
    return Resource.from_contents(json.loads((SCHEMAS / uri).read_text(encoding="utf-8")))


@cache
def _validator(name: str) -> Draft202012Validator:
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(f"schemas/{name} does not exist yet")
    schema = json.loads(path.read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def assert_valid(name: str, response: httpx.Response) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in _validator(name).iter_errors(response.json())
    ]
    assert not errors, f"{name}: {errors}"


def test_password_state_bodies(api: Api) -> None:
    user_id = api.create_user()
    assert_valid("password-state.schema.json", api.request("GET", api.password_url(user_id)))
    for operation, body in [
        ("set", {"value": GOOD_PASSWORD}),
        ("forceChange", None),
        ("unlock", None),
        ("sendRecoveryCode", None),
        ("reset", {"newPassword": "Temp-Lantern-58w"}),
        ("setValue", {}),
    ]:
        response = api.op(operation, user_id, body)
        assert response.status_code == 200, response.text
        assert_valid("password-state.schema.json", response)
    expanded = api.request("GET", api.password_url(user_id), params={"expand": "passwordPolicy"})
    assert_valid("password-state.schema.json", expanded)


def test_check_bodies(api: Api) -> None:
    user_id = api.user_with_password()
    assert_valid(
        "password-check.response.schema.json", api.op("check", user_id, {"password": GOOD_PASSWORD})
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 415])
def test_error_bodies(api: Api, status: int) -> None:
    user_id = api.user_with_password()
    responses: dict[int, Callable[[], httpx.Response]] = {
        400: lambda: api.op("check", user_id, {"password": "Wrong-Guess-000"}),
        401: lambda: api.client.get(f"{api.env}/users"),
        403: lambda: api.request("GET", "/v1/environments/other/users"),
        404: lambda: api.request("GET", api.password_url("missing")),
        405: lambda: api.request("DELETE", api.password_url(user_id)),
        415: lambda: api.request(
            "POST", api.password_url(user_id), content=b"{}", headers={"Content-Type": "text/plain"}
        ),
    }
    response = responses[status]()
    assert response.status_code == status
    assert_valid("error-limited.schema.json" if status == 403 else "error.schema.json", response)


def test_rate_limited_body() -> None:
    api = make_api(rate_limit_per_second=0.5)
    with api.client:
        api.request("GET", f"{api.env}/users")
        response = api.request("GET", f"{api.env}/users")
        assert response.status_code == 429
        assert_valid("error-limited.schema.json", response)


def test_user_policy_and_token_bodies(api: Api) -> None:
    user_id = api.create_user(email="a@example.com", name={"given": "Ann"})
    assert_valid("user.schema.json", api.request("GET", f"{api.env}/users/{user_id}"))
    assert_valid("users.collection.schema.json", api.request("GET", f"{api.env}/users"))
    policies = api.request("GET", f"{api.env}/passwordPolicies")
    assert_valid("password-policies.collection.schema.json", policies)
    policy_id = policies.json()["_embedded"]["passwordPolicies"][0]["id"]
    assert_valid(
        "password-policy.schema.json", api.request("GET", f"{api.env}/passwordPolicies/{policy_id}")
    )
    cfg = api.config
    token = api.client.post(
        f"/{cfg.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(cfg.client_id, cfg.client_secret),
    )
    assert_valid("token.response.schema.json", token)
