"""Recovery codes: sendRecoveryCode, recover, their limits, and the test-only routes."""

from __future__ import annotations

import re

import pytest

from tests.reference.conftest import (
    GOOD_PASSWORD,
    OTHER_PASSWORD,
    Api,
    assert_envelope,
    error_details,
    make_api,
)


def _send_code(api: Api, user_id: str) -> str:
    response = api.op("sendRecoveryCode", user_id)
    assert response.status_code == 200, response.text
    code_response = api.request("GET", f"/__reference/recovery-codes/{user_id}")
    assert code_response.status_code == 200
    return str(code_response.json()["recoveryCode"])


def test_recovery_code_is_eight_alphanumerics_and_recover_sets_ok(api: Api) -> None:
    user_id = api.user_with_password()
    api.op("forceChange", user_id)
    code = _send_code(api, user_id)
    assert re.fullmatch(r"[A-Z0-9]{8}", code)
    response = api.op(
        "recover", user_id, {"recoveryCode": code.lower(), "newPassword": OTHER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "OK"
    assert api.op("check", user_id, {"password": OTHER_PASSWORD}).status_code == 200
    reused = api.op("recover", user_id, {"recoveryCode": code, "newPassword": "Violet-Canyon-48z"})
    assert reused.status_code == 400  # a code works once


def test_recover_applies_the_policy_to_new_password(api: Api) -> None:
    user_id = api.user_with_password()
    code = _send_code(api, user_id)
    response = api.op("recover", user_id, {"recoveryCode": code, "newPassword": "password"})
    assert_envelope(response, 400, "INVALID_DATA")
    assert error_details(response)[0]["target"] == "newPassword"
    ok = api.op("recover", user_id, {"recoveryCode": code, "newPassword": OTHER_PASSWORD})
    assert ok.status_code == 200  # a policy failure does not use up the code


def test_wrong_code_five_times_exceeds_the_maximum_and_locks(api: Api) -> None:
    user_id = api.user_with_password()
    code = _send_code(api, user_id)
    wrong = "AAAAAAAA" if code != "AAAAAAAA" else "BBBBBBBB"
    for _ in range(4):
        response = api.op(
            "recover", user_id, {"recoveryCode": wrong, "newPassword": OTHER_PASSWORD}
        )
        assert_envelope(response, 400, "INVALID_DATA")
        assert error_details(response)[0]["target"] == "recoveryCode"
    fifth = api.op("recover", user_id, {"recoveryCode": wrong, "newPassword": OTHER_PASSWORD})
    assert fifth.json()["message"] == "Maximum password recovery failures exceeded"
    assert api.state(user_id)["status"] == "PASSWORD_LOCKED_OUT"
    right = api.op("recover", user_id, {"recoveryCode": code, "newPassword": OTHER_PASSWORD})
    assert right.json()["message"] == "Maximum password recovery failures exceeded"


def test_new_code_resets_the_failure_counter(api: Api) -> None:
    user_id = api.user_with_password()
    _send_code(api, user_id)
    for _ in range(4):
        api.op("recover", user_id, {"recoveryCode": "00000000", "newPassword": OTHER_PASSWORD})
    code = _send_code(api, user_id)
    for _ in range(4):
        api.op("recover", user_id, {"recoveryCode": "00000000", "newPassword": OTHER_PASSWORD})
    response = api.op("recover", user_id, {"recoveryCode": code, "newPassword": OTHER_PASSWORD})
    assert response.status_code == 200, response.text


def test_code_expires_after_five_minutes(api: Api) -> None:
    user_id = api.user_with_password()
    code = _send_code(api, user_id)
    api.advance(301)
    response = api.op("recover", user_id, {"recoveryCode": code, "newPassword": OTHER_PASSWORD})
    assert_envelope(response, 400, "INVALID_DATA")


def test_recover_unlocks_a_password_locked_by_checks(api: Api) -> None:
    user_id = api.user_with_password()
    code = _send_code(api, user_id)
    for _ in range(5):
        api.op("check", user_id, {"password": "Wrong-Guess-000"})
    assert api.state(user_id)["status"] == "PASSWORD_LOCKED_OUT"
    response = api.op("recover", user_id, {"recoveryCode": code, "newPassword": OTHER_PASSWORD})
    assert response.json()["status"] == "OK"


def test_send_code_is_refused_without_a_password(api: Api) -> None:
    assert_envelope(api.op("sendRecoveryCode", api.create_user()), 400, "REQUEST_FAILED")


def test_send_code_is_refused_for_a_disabled_user(api: Api) -> None:
    user_id = api.create_user(enabled=False)
    api.op("set", user_id, {"value": GOOD_PASSWORD})
    assert_envelope(api.op("sendRecoveryCode", user_id), 400, "REQUEST_FAILED")


def test_send_code_is_refused_while_locked(api: Api) -> None:
    user_id = api.user_with_password()
    for _ in range(5):
        api.op("check", user_id, {"password": "Wrong-Guess-000"})
    assert_envelope(api.op("sendRecoveryCode", user_id), 400, "REQUEST_FAILED")


def test_recovery_code_route_is_404_before_any_code(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.request("GET", f"/__reference/recovery-codes/{user_id}")
    assert_envelope(response, 404, "NOT_FOUND")


def test_test_routes_need_a_token(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.client.get(f"/__reference/recovery-codes/{user_id}")
    assert_envelope(response, 401, "ACCESS_FAILED")
    response = api.client.post("/__reference/clock", json={"advanceSeconds": 1})
    assert_envelope(response, 401, "ACCESS_FAILED")


@pytest.mark.parametrize(
    "body", [{}, {"advanceSeconds": -1}, {"advanceSeconds": "1"}, {"advanceSeconds": True}, []]
)
def test_clock_route_refuses_bad_bodies(api: Api, body: object) -> None:
    response = api.request("POST", "/__reference/clock", json=body)
    assert_envelope(response, 400, "INVALID_DATA")


def test_test_routes_are_absent_by_default() -> None:
    api = make_api(test_routes=False)
    with api.client:
        assert (
            api.request("POST", "/__reference/clock", json={"advanceSeconds": 1}).status_code == 404
        )
        assert api.request("GET", "/__reference/recovery-codes/x").status_code == 404
