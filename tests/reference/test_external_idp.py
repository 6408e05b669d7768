"""Users of an external identity provider cannot use the self-service password operations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reference.conftest import GOOD_PASSWORD, OTHER_PASSWORD, Api, assert_envelope

EXTERNAL_IDP: dict[str, Any] = {"identityProvider": {"type": "GOOGLE", "id": "idp-1"}}

SELF_SERVICE = [
    ("check", {"password": GOOD_PASSWORD}),
    ("reset", {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}),
    ("recover", {"recoveryCode": "ABCD1234", "newPassword": OTHER_PASSWORD}),
    ("sendRecoveryCode", None),
]
ADMIN = [
    ("set", {"value": OTHER_PASSWORD}),
    ("reset", {"newPassword": OTHER_PASSWORD}),
    ("forceChange", None),
    ("unlock", None),
]


@pytest.mark.parametrize(("operation", "body"), SELF_SERVICE, ids=[o for o, _ in SELF_SERVICE])
def test_self_service_is_request_failed(api: Api, operation: str, body: object) -> None:
    user_id = api.user_with_password(**EXTERNAL_IDP)
    assert_envelope(api.op(operation, user_id, body), 400, "REQUEST_FAILED")


@pytest.mark.parametrize(("operation", "body"), ADMIN, ids=[f"{o}-admin" for o, _ in ADMIN])
def test_admin_operations_still_work(api: Api, operation: str, body: object) -> None:
    user_id = api.user_with_password(**EXTERNAL_IDP)
    assert api.op(operation, user_id, body).status_code == 200


def test_ping_one_users_are_not_refused(api: Api) -> None:
    user_id = api.user_with_password(identityProvider={"type": "PING_ONE"})
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200
