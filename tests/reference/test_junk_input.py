"""Junk requests never produce a 500: hypothesis-generated bodies, media types and headers.

The raw client is used (not ``Api.request``): junk usernames may legitimately repeat junk
passwords, which would trip the leak check. TestClient re-raises any unhandled server exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference.conftest import _OPEN_STORES, MEDIA, Api, make_api

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "value",
                    "password",
                    "newPassword",
                    "currentPassword",
                    "recoveryCode",
                    "forceChange",
                    "bypassPolicy",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "value": st.text(max_size=40) | st.sampled_from(["{SSHA}", "{BCRYPT}$2b$", "{X}y"]),
            "password": st.text(max_size=40) | JSON_VALUES,
            "newPassword": st.text(max_size=40),
            "currentPassword": st.text(max_size=40),
            "recoveryCode": st.text(max_size=10),
            "forceChange": JSON_VALUES,
            "bypassPolicy": JSON_VALUES,
        },
    ).map(lambda v: json.dumps(v).encode()),
)
USER_BODIES = st.fixed_dictionaries(
    {"username": st.text(min_size=1, max_size=20)},
    optional={
        "email": JSON_VALUES,
        "name": JSON_VALUES,
        "enabled": JSON_VALUES,
        "identityProvider": JSON_VALUES,
        "population": JSON_VALUES,
        "password": st.fixed_dictionaries(
            {}, optional={"value": st.text(max_size=30), "forceChange": JSON_VALUES}
        ),
    },
).map(lambda v: json.dumps(v).encode())
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80)
FILTERS = HEADER_TEXT | st.text(max_size=12).map(
    lambda t: 'username sw "' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(list(MEDIA.values())),
    st.sampled_from(list(MEDIA.values())).map(lambda m: m.upper() + "; charset=utf-8"),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    st.none(),
)
METHODS = st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"])


@pytest.fixture(scope="module")
def junk_api() -> Iterator[tuple[Api, str]]:
    api = make_api(policy_overrides={"lockout": None})
    store = api.client.app.state.store  # type: ignore[attr-defined]
    _OPEN_STORES.remove(store)  # lives for the module, not one test
    with api.client:
        user_id = api.user_with_password()
        yield api, user_id
    store.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=METHODS, content_type=CONTENT_TYPES, body=BODIES)
def test_junk_password_requests_never_500(
    junk_api: tuple[Api, str], method: str, content_type: str | None, body: bytes
) -> None:
    api, user_id = junk_api
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = api.client.request(
        method, api.password_url(user_id), content=body, headers={**api.auth, **headers}
    )
    assert response.status_code < 500, response.text


@settings(max_examples=60, deadline=None)
@given(
    body=BODIES | USER_BODIES,
    content_type=st.sampled_from(
        ["application/json", "application/vnd.pingidentity.user.import+json"]
    ),
)
def test_junk_user_bodies_never_500(
    junk_api: tuple[Api, str], body: bytes, content_type: str
) -> None:
    api, _ = junk_api
    response = api.client.post(
        f"{api.env}/users", content=body, headers={**api.auth, "Content-Type": content_type}
    )
    assert response.status_code < 500, response.text


@settings(max_examples=60, deadline=None)
@given(authorization=HEADER_TEXT, form=st.binary(max_size=120), filter_text=FILTERS)
def test_junk_headers_forms_and_filters_never_500(
    junk_api: tuple[Api, str], authorization: str, form: bytes, filter_text: str
) -> None:
    api, _ = junk_api
    raw_auth = authorization.encode("latin-1")
    listing = api.client.get(f"{api.env}/users", headers={"Authorization": raw_auth})
    assert listing.status_code < 500
    token = api.client.post(
        f"/{api.config.env_id}/as/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": raw_auth},
    )
    assert token.status_code < 500
    filtered = api.client.get(f"{api.env}/users", params={"filter": filter_text}, headers=api.auth)
    assert filtered.status_code < 500
