"""Update Password (Set): status after a set, the answer's body, and lastChangedAt.

Source: https://developer.pingidentity.com/pingone-api/platform/users/user-passwords/update-password-set.html
The cases are data in cases/set-password.yaml; each names the requirements it covers.
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

CASES = load_case_file(Path(__file__).parent / "cases" / "set-password.yaml")


@pytest.mark.parametrize("case", case_params(CASES))
def test_set_password(
    case: dict[str, Any],
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
) -> None:
    """A set with a policy-conformant value behaves as the case states.

    "If forceChange is set to true, the status attribute value is changed to
    MUST_CHANGE_PASSWORD." Each case quotes its own source text.
    """
    allure.dynamic.title(case["description"])
    allure.dynamic.description(case["quote"])
    CaseRunner(api, user_factory, passwords, schemas).run(case)
