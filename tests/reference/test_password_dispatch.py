"""Method + Content-Type dispatch on ``…/password``: 405, 415, malformed JSON, schema violations."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from reference.errors import ApiError
from reference.http_support import MAX_BODY_BYTES, read_body
from tests.reference.conftest import MEDIA, Api, assert_envelope, error_details


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_are_405_with_allow(api: Api, method: str) -> None:
    user_id = api.create_user()
    response = api.request(method, api.password_url(user_id))
    assert_envelope(response, 405, "INVALID_REQUEST")
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "PUT", "POST"}


def test_missing_content_type_is_415(api: Api) -> None:
    user_id = api.create_user()
    response = api.request("PUT", api.password_url(user_id), content=b'{"value": "x"}')
    assert_envelope(response, 415, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "application/vnd.pingidentity.password.bogus+json", ";"],
)
def test_unknown_media_type_is_415(api: Api, content_type: str) -> None:
    user_id = api.create_user()
    for method in ("PUT", "POST"):
        response = api.request(
            method,
            api.password_url(user_id),
            content=b"{}",
            headers={"Content-Type": content_type},
        )
        assert_envelope(response, 415, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("method", "operation"),
    [
        ("POST", "set"),
        ("POST", "setValue"),
        ("POST", "reset"),
        ("PUT", "check"),
        ("PUT", "recover"),
        ("PUT", "unlock"),
        ("PUT", "forceChange"),
        ("PUT", "sendRecoveryCode"),
    ],
)
def test_media_type_with_the_wrong_method_is_415(api: Api, method: str, operation: str) -> None:
    user_id = api.create_user()
    response = api.request(
        method, api.password_url(user_id), content=b"{}", headers={"Content-Type": MEDIA[operation]}
    )
    assert_envelope(response, 415, "INVALID_REQUEST")


def test_media_type_parameters_and_case_are_ignored(api: Api) -> None:
    user_id = api.create_user()
    content_type = MEDIA["set"].upper() + "; charset=UTF-8"
    response = api.request(
        "PUT",
        api.password_url(user_id),
        json={"value": "Spruce-Harbor-71k"},
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "OK"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.pingidentity.password.forceChange+json",
        "application/vnd.pingidentity.password.unlock+json",
    ],
)
def test_alternative_media_types_are_accepted(api: Api, content_type: str) -> None:
    user_id = api.user_with_password()
    response = api.request(
        "POST", api.password_url(user_id), headers={"Content-Type": content_type}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("operation", ["forceChange", "unlock", "sendRecoveryCode"])
@pytest.mark.parametrize("body", [b"", b"{}", b'{"extra": 1}'], ids=["empty", "object", "extra"])
def test_bodyless_operations_accept_no_body_or_an_object(
    api: Api, operation: str, body: bytes
) -> None:
    user_id = api.user_with_password()
    response = api.request(
        "POST",
        api.password_url(user_id),
        content=body,
        headers={"Content-Type": MEDIA[operation]},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b'{"password": NaN}', b"\xff\xfe\x00", b"[" * 100_000, b'"\\ud800"'],
    ids=["truncated", "text", "nan", "bad-bytes", "deep-nesting", "lone-surrogate"],
)
def test_malformed_json_is_400_invalid_request(api: Api, body: bytes) -> None:
    user_id = api.user_with_password()
    response = api.request(
        "POST", api.password_url(user_id), content=body, headers={"Content-Type": MEDIA["check"]}
    )
    assert_envelope(response, 400, "INVALID_REQUEST")


def test_empty_body_for_an_operation_with_a_body_is_400(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.request(
        "POST", api.password_url(user_id), content=b"", headers={"Content-Type": MEDIA["check"]}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("operation", "body", "code", "target"),
    [
        ("check", {}, "REQUIRED_VALUE", "password"),
        ("check", {"password": 12345}, "INVALID_VALUE", "password"),
        ("check", ["password"], "INVALID_VALUE", None),
        ("set", {"forceChange": True}, "REQUIRED_VALUE", "value"),
        (
            "set",
            {"value": "Spruce-Harbor-71k", "forceChange": "yes"},
            "INVALID_VALUE",
            "forceChange",
        ),
        ("set", {"value": ""}, "INVALID_VALUE", "value"),
        (
            "set",
            {"value": "Spruce-Harbor-71k", "password": {"external": {"gateway": {}}}},
            "REQUIRED_VALUE",
            "password.external.gateway.id",
        ),
        ("setValue", {"bypassPolicy": "no"}, "INVALID_VALUE", "bypassPolicy"),
        ("reset", {}, "REQUIRED_VALUE", "newPassword"),
        ("reset", {"currentPassword": "Spruce-Harbor-71k"}, "REQUIRED_VALUE", "newPassword"),
        (
            "reset",
            {"currentPassword": 1, "newPassword": "Quartz-Meadow-93q"},
            "INVALID_VALUE",
            "currentPassword",
        ),
        ("recover", {"newPassword": "Quartz-Meadow-93q"}, "REQUIRED_VALUE", "recoveryCode"),
        ("unlock", [], "INVALID_VALUE", None),
    ],
)
def test_schema_violations_are_400_invalid_data(
    api: Api, operation: str, body: object, code: str, target: str | None
) -> None:
    user_id = api.user_with_password()
    response = api.op(operation, user_id, body)
    assert_envelope(response, 400, "INVALID_DATA")
    details = error_details(response)
    assert {"code": code, "target": target} in [
        {"code": d["code"], "target": d.get("target")} for d in details
    ]
    assert all(isinstance(d["message"], str) and d["message"] for d in details)


def test_schema_violation_messages_do_not_echo_values(api: Api) -> None:
    user_id = api.user_with_password()
    response = api.op("check", user_id, {"password": ["Secret-Value-123"]})
    assert response.status_code == 400
    assert "Secret-Value-123" not in response.text


def test_invalid_body_is_checked_before_the_user_exists(api: Api) -> None:
    response = api.op("check", "no-such-user", {})
    assert_envelope(response, 400, "INVALID_DATA")


def test_a_body_over_one_mib_is_400_invalid_request(api: Api) -> None:
    user_id = api.user_with_password()
    body = b'{"password": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = api.request(
        "POST", api.password_url(user_id), content=body, headers={"Content-Type": MEDIA["check"]}
    )
    assert_envelope(response, 400, "INVALID_REQUEST")
    assert "too large" in response.json()["message"]


def test_a_body_of_one_mib_is_read_whole(api: Api) -> None:
    user_id = api.user_with_password()
    body = b'{"password": "' + b"x" * (MAX_BODY_BYTES - 16) + b'"}'
    assert len(body) <= MAX_BODY_BYTES
    response = api.request(
        "POST", api.password_url(user_id), content=body, headers={"Content-Type": MEDIA["check"]}
    )
    # Read and parsed: a wrong password, not a refused body.
    assert_envelope(response, 400, "INVALID_DATA")


def test_an_oversized_body_is_refused_before_it_is_all_read() -> None:
    chunk = b"x" * 65_536
    total = 2 * MAX_BODY_BYTES // len(chunk)
    received = 0

    async def receive() -> dict[str, object]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunk, "more_body": received < total}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(ApiError) as refused:
        asyncio.run(read_body(request))
    assert refused.value.status == 400
    assert received == MAX_BODY_BYTES // len(chunk) + 1 < total
