"""Read Password State: the GET answers the password-state resource, with or without expand.

Source: https://developer.pingidentity.com/pingone-api/platform/users/user-passwords/read-password-state.html
The body is validated against password-state.schema.json by the API client (P1-CT-003).
"""

from __future__ import annotations

import allure
import pytest

from harness.client import ApiClient
from harness.users import UserFactory


@pytest.mark.requirement("P1-CT-003", "P1-CT-004")
@pytest.mark.parametrize(
    "query",
    [pytest.param({}, id="plain"), pytest.param({"expand": "passwordPolicy"}, id="expanded")],
)
def test_read_answers_the_password_state_resource(
    query: dict[str, str], api: ApiClient, user_factory: UserFactory
) -> None:
    """GET …/password answers 200 with a body valid against the password-state schema.

    "The result of a password validation check returns one of the following values for the
    status property:" (the six password states the schema lists).
    """
    allure.dynamic.title(f"read password state ({'expand' if query else 'plain'})")
    user = user_factory.create(password="valid")
    response = api.get(api.password_url(user.id), params=query or None)
    exchange = api.last_exchange()
    assert response.status_code == 200, exchange.summary() if exchange else response.status_code
