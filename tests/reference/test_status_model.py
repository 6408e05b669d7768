"""The password status model (NO_PASSWORD, OK, MUST_CHANGE_PASSWORD, PASSWORD_EXPIRED, EXTERNAL)
and the transitions each operation makes."""

from __future__ import annotations

import re

from tests.reference.conftest import (
    GOOD_PASSWORD,
    OTHER_PASSWORD,
    THIRD_PASSWORD,
    Api,
    assert_envelope,
    error_details,
)

DAY = 86_400
ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
GATEWAY = {"password": {"external": {"gateway": {"id": "gw-1", "userType": {"id": "ut-1"}}}}}


def test_new_user_has_no_password_and_no_last_changed(api: Api) -> None:
    state = api.state(api.create_user())
    assert state["status"] == "NO_PASSWORD"
    assert "lastChangedAt" not in state
    assert state["passwordPolicy"]["id"]


def test_set_without_force_change_is_ok_with_last_changed(api: Api) -> None:
    user_id = api.create_user()
    response = api.op("set", user_id, {"value": GOOD_PASSWORD})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/hal+json")
    body = response.json()
    assert body["status"] == "OK"
    assert ISO_MILLIS.match(body["lastChangedAt"])
    assert body["lastChangedAt"] == "2026-01-01T00:00:00.000Z"  # the manual clock's start
    assert api.state(user_id)["status"] == "OK"


def test_password_state_links_are_absolute(api: Api) -> None:
    user_id = api.user_with_password()
    links = api.state(user_id)["_links"]
    expected = {
        "self",
        "environment",
        "user",
        "passwordPolicy",
        "password.check",
        "password.reset",
        "password.set",
        "password.recover",
    }
    assert expected <= set(links)
    password_url = f"http://testserver{api.password_url(user_id)}"
    assert links["self"]["href"] == password_url
    assert links["password.check"]["href"] == password_url
    assert links["user"]["href"] == f"http://testserver{api.env}/users/{user_id}"


def test_set_with_force_change_is_must_change_password(api: Api) -> None:
    user_id = api.create_user()
    response = api.op("set", user_id, {"value": GOOD_PASSWORD, "forceChange": True})
    assert response.json()["status"] == "MUST_CHANGE_PASSWORD"


def test_set_applies_the_policy_unless_bypassed(api: Api) -> None:
    user_id = api.create_user()
    response = api.op("set", user_id, {"value": "short"})
    assert_envelope(response, 400, "INVALID_DATA")
    assert error_details(response)[0]["target"] == "password"
    bypassed = api.op("set", user_id, {"value": "short", "bypassPolicy": True})
    assert bypassed.status_code == 200
    assert api.op("check", user_id, {"password": "short"}).status_code == 200


def test_set_value_with_an_empty_object_unsets_the_password(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("setValue", user_id, {})
    assert response.status_code == 200
    assert response.json()["status"] == "NO_PASSWORD"
    assert "lastChangedAt" not in response.json()
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 400


def test_set_value_with_a_value_sets_it(api: Api) -> None:
    user_id = api.create_user()
    response = api.op("setValue", user_id, {"value": GOOD_PASSWORD, "forceChange": True})
    assert response.json()["status"] == "MUST_CHANGE_PASSWORD"


def test_set_gateway_makes_the_status_external(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("setGateway", user_id, {"value": GOOD_PASSWORD, **GATEWAY})
    assert response.status_code == 200
    assert response.json()["status"] == "EXTERNAL"
    assert "lastChangedAt" not in response.json()


def test_unsetting_with_a_gateway_bound_is_external(api: Api) -> None:
    user_id = api.create_user()
    api.op("set", user_id, {"value": GOOD_PASSWORD, **GATEWAY})
    assert api.state(user_id)["status"] == "OK"
    assert api.op("setValue", user_id, {}).json()["status"] == "EXTERNAL"


def test_self_reset_with_the_current_password_is_ok(api: Api) -> None:
    user_id = api.create_user()
    api.op("set", user_id, {"value": GOOD_PASSWORD, "forceChange": True})
    response = api.op(
        "reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "OK"
    assert api.op("check", user_id, {"password": OTHER_PASSWORD}).status_code == 200


def test_self_reset_with_a_wrong_current_password_is_400_on_current_password(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op(
        "reset", user_id, {"currentPassword": "Wrong-Guess-000", "newPassword": OTHER_PASSWORD}
    )
    assert_envelope(response, 400, "INVALID_DATA")
    assert error_details(response)[0]["target"] == "currentPassword"
    assert error_details(response)[0]["code"] == "INVALID_VALUE"


def test_self_reset_policy_failure_targets_new_password(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op(
        "reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": "Spruce-Harbor-72k"}
    )
    assert_envelope(response, 400, "INVALID_DATA")
    detail = error_details(response)[0]
    assert detail["target"] == "newPassword"
    assert "notSimilarToCurrent" in detail["innerError"]["unsatisfiedRequirements"]


def test_self_reset_to_a_password_in_history_is_refused(api: Api) -> None:
    user_id = api.user_with_password(GOOD_PASSWORD)
    api.op("reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD})
    api.advance(2 * DAY)
    response = api.op(
        "reset", user_id, {"currentPassword": OTHER_PASSWORD, "newPassword": GOOD_PASSWORD}
    )
    assert response.status_code == 400
    assert error_details(response)[0]["innerError"]["unsatisfiedRequirements"] == ["history"]


def test_history_forgets_passwords_past_the_retention(api: Api) -> None:
    user_id = api.user_with_password(GOOD_PASSWORD)
    api.op("reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD})
    api.advance(366 * DAY)
    response = api.op(
        "reset", user_id, {"currentPassword": OTHER_PASSWORD, "newPassword": GOOD_PASSWORD}
    )
    assert response.status_code == 200, response.text


def test_second_self_change_within_min_age_is_too_young(api: Api) -> None:
    user_id = api.user_with_password(GOOD_PASSWORD)
    first = api.op(
        "reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}
    )
    assert first.status_code == 200, first.text
    second = api.op(
        "reset", user_id, {"currentPassword": OTHER_PASSWORD, "newPassword": THIRD_PASSWORD}
    )
    assert_envelope(second, 400, "REQUEST_FAILED")
    assert error_details(second)[0]["code"] == "PASSWORD_TOO_YOUNG"
    api.advance(DAY)
    third = api.op(
        "reset", user_id, {"currentPassword": OTHER_PASSWORD, "newPassword": THIRD_PASSWORD}
    )
    assert third.status_code == 200, third.text


def test_min_age_does_not_apply_after_an_admin_change(api: Api) -> None:
    user_id = api.user_with_password(GOOD_PASSWORD)
    response = api.op(
        "reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}
    )
    assert response.status_code == 200


def test_admin_reset_skips_the_policy_and_must_change(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("reset", user_id, {"newPassword": "abc"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "MUST_CHANGE_PASSWORD"
    check = api.op("check", user_id, {"password": "abc"})
    assert check.status_code == 200
    assert check.json()["status"] == "MUST_CHANGE_PASSWORD"


def test_force_change_keeps_the_password_and_must_change(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("forceChange", user_id)
    assert response.json()["status"] == "MUST_CHANGE_PASSWORD"
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200


def test_force_change_without_a_password_is_refused(api: Api) -> None:
    response = api.op("forceChange", api.create_user())
    assert_envelope(response, 400, "REQUEST_FAILED")


def test_password_expires_after_max_age_days(api: Api) -> None:
    user_id = api.user_with_password()
    api.advance(181 * DAY)
    assert api.state(user_id)["status"] == "OK"
    api.advance(1 * DAY)
    assert api.state(user_id)["status"] == "PASSWORD_EXPIRED"
    check = api.op("check", user_id, {"password": GOOD_PASSWORD})
    assert check.status_code == 200
    assert check.json()["status"] == "PASSWORD_EXPIRED"
    renewed = api.op(
        "reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}
    )
    assert renewed.json()["status"] == "OK"


def test_check_without_a_password_is_400(api: Api) -> None:
    response = api.op("check", api.create_user(), {"password": GOOD_PASSWORD})
    assert response.status_code == 400
    assert error_details(response)[0]["code"] == "NO_PASSWORD"


def test_check_with_the_right_password_is_200_ok(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("check", user_id, {"password": GOOD_PASSWORD})
    assert response.status_code == 200
    assert response.json()["status"] == "OK"


def test_expand_password_policy_embeds_the_policy(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.request("GET", api.password_url(user_id), params={"expand": "passwordPolicy"})
    body = response.json()
    assert body["_embedded"]["passwordPolicy"]["id"] == body["passwordPolicy"]["id"]
    assert body["_embedded"]["passwordPolicy"]["name"] == "Standard"
    assert "_embedded" not in api.state(user_id)
