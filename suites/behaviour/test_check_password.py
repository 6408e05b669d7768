"""Password Check: right and wrong passwords, statuses, the error envelope, failuresRemaining.

Source: https://developer.pingidentity.com/pingone-api/platform/users/user-passwords/password-check.html
The cases are data in cases/check-password.yaml; each names the requirements it covers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest

from harness.behaviour_cases import CaseRunner, case_params, load_case_file
from harness.client import ApiClient
from harness.passwords import PasswordBook
from harness.schemas import SchemaStore
from harness.users import UserFactory

CASES = load_case_file(Path(__file__).parent / "cases" / "check-password.yaml")


@pytest.mark.parametrize("case", case_params(CASES))
def test_check_password(
    case: dict[str, Any],
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
) -> None:
    """A password check answers as the case states.

    "If the password is checked successfully, and the password status is OK,
    MUST_CHANGE_PASSWORD, or PASSWORD_EXPIRED, the response returns a 200 OK message. If the
    password status is NO_PASSWORD or PASSWORD_LOCKED_OUT, the response returns a 400 BAD
    REQUEST message." Each case quotes its own source text.
    """
    allure.dynamic.title(case["description"])
    allure.dynamic.description(case["quote"])
    CaseRunner(api, user_factory, passwords, schemas).run(case)
