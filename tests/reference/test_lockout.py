"""Failed checks count toward lockout, atomically; the lock lifts after durationSeconds."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from reference.config import ReferenceConfig
from reference.server import start_reference
from tests.reference.conftest import (
    GOOD_PASSWORD,
    MEDIA,
    Api,
    assert_envelope,
    error_details,
    make_api,
)

WRONG = {"password": "Not-The-Password-1"}


def _fail(api: Api, user_id: str) -> int | None:
    response = api.op("check", user_id, WRONG)
    assert response.status_code == 400
    inner = error_details(response)[0].get("innerError", {})
    remaining: int | None = inner.get("failuresRemaining")
    return remaining


def test_wrong_password_reports_failures_remaining(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("check", user_id, WRONG)
    body = assert_envelope(response, 400, "INVALID_DATA")
    assert body["details"] == [
        {
            "code": "INVALID_VALUE",
            "target": "password",
            "message": "The provided password did not match provisioned password",
            "innerError": {"failuresRemaining": 4},
        }
    ]


def test_reaching_the_failure_count_locks_the_password(api: Api) -> None:
    user_id = api.user_with_password()
    assert [_fail(api, user_id) for _ in range(5)] == [4, 3, 2, 1, 0]
    state = api.state(user_id)
    assert state["status"] == "PASSWORD_LOCKED_OUT"
    assert state["secondsUntilUnlock"] == 900
    locked = api.op("check", user_id, {"password": GOOD_PASSWORD})
    assert locked.status_code == 400
    user = api.request("GET", f"{api.env}/users/{user_id}").json()
    assert user["account"] == {"canAuthenticate": False, "status": "LOCKED"}


def test_lock_lifts_after_duration_seconds(api: Api) -> None:
    user_id = api.user_with_password()
    for _ in range(5):
        _fail(api, user_id)
    api.advance(600)
    assert api.state(user_id)["secondsUntilUnlock"] == 300
    api.advance(299)
    assert api.state(user_id)["status"] == "PASSWORD_LOCKED_OUT"
    api.advance(1)
    assert api.state(user_id)["status"] == "OK"
    assert "secondsUntilUnlock" not in api.state(user_id)
    assert _fail(api, user_id) == 4  # the counter starts again


def test_successful_check_resets_the_counter(api: Api) -> None:
    user_id = api.user_with_password()
    _fail(api, user_id)
    _fail(api, user_id)
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200
    assert _fail(api, user_id) == 4


def test_unlock_clears_the_lock(api: Api) -> None:
    user_id = api.user_with_password()
    for _ in range(5):
        _fail(api, user_id)
    response = api.op("unlock", user_id)
    assert response.status_code == 200
    assert response.json()["status"] == "OK"
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    ("operation", "body", "status"),
    [
        ("reset", {"newPassword": "Temp-Lantern-58w"}, "MUST_CHANGE_PASSWORD"),
        ("forceChange", None, "MUST_CHANGE_PASSWORD"),
        ("set", {"value": "Violet-Canyon-48z"}, "OK"),
    ],
)
def test_admin_operations_clear_the_lock(
    api: Api, operation: str, body: object, status: str
) -> None:
    user_id = api.user_with_password()
    for _ in range(5):
        _fail(api, user_id)
    response = api.op(operation, user_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


def test_policy_overrides_change_the_lockout() -> None:
    api = make_api(policy_overrides={"lockout": {"failureCount": 2, "durationSeconds": 2}})
    with api.client:
        user_id = api.user_with_password()
        assert [_fail(api, user_id) for _ in range(2)] == [1, 0]
        assert api.state(user_id)["secondsUntilUnlock"] == 2


def test_policy_without_lockout_never_locks() -> None:
    api = make_api(policy_overrides={"lockout": None})
    with api.client:
        user_id = api.user_with_password()
        assert [_fail(api, user_id) for _ in range(8)] == [None] * 8
        assert api.state(user_id)["status"] == "OK"


def _concurrent_failed_checks(
    db_path: str, threads: int, failure_count: int
) -> tuple[list[int | None], str]:
    """Sends ``threads`` wrong checks at once over HTTP; returns each failuresRemaining and
    the final status."""
    config = ReferenceConfig(
        hash_profile="fast",
        db_path=db_path,
        policy_overrides={"lockout": {"failureCount": failure_count, "durationSeconds": 900}},
    )
    with start_reference(config) as ref, httpx.Client(base_url=ref.api_base_url) as http:
        token = http.post(
            f"{ref.auth_base_url}/{ref.env_id}/as/token",
            data={"grant_type": "client_credentials"},
            auth=(ref.client_id, ref.client_secret),
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        user_id = http.post(f"/environments/{ref.env_id}/users", json={"username": "racer"}).json()[
            "id"
        ]
        password_url = f"/environments/{ref.env_id}/users/{user_id}/password"
        http.put(
            password_url,
            content=json.dumps({"value": GOOD_PASSWORD}),
            headers={"Content-Type": MEDIA["set"]},
        ).raise_for_status()

        def check(_: int) -> httpx.Response:
            with httpx.Client(base_url=ref.api_base_url, headers=http.headers) as own:
                return own.post(
                    password_url,
                    content=json.dumps(WRONG),
                    headers={"Content-Type": MEDIA["check"]},
                )

        with ThreadPoolExecutor(max_workers=threads) as pool:
            responses = list(pool.map(check, range(threads)))
        assert all(r.status_code == 400 for r in responses)
        remaining = [
            r.json()["details"][0].get("innerError", {}).get("failuresRemaining") for r in responses
        ]
        return remaining, str(http.get(password_url).json()["status"])


@pytest.mark.parametrize("storage", ["memory", "file"])
def test_concurrent_failed_checks_lose_no_update(storage: str, tmp_path: Path) -> None:
    db_path = ":memory:" if storage == "memory" else str(tmp_path / "reference.sqlite3")
    counted, final = _concurrent_failed_checks(db_path, threads=20, failure_count=100)
    assert sorted(r if r is not None else -1 for r in counted) == list(range(80, 100))
    assert final == "OK"  # still unlocked: 20 < 100


def test_concurrent_failed_checks_lock_exactly_at_the_count() -> None:
    counted, final = _concurrent_failed_checks(":memory:", threads=20, failure_count=5)
    assert sorted(r for r in counted if r is not None) == [0, 1, 2, 3, 4]
    assert sum(r is None for r in counted) == 15  # the rest were refused as locked, not counted
    assert final == "PASSWORD_LOCKED_OUT"
