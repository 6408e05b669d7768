"""Read All Password Policies: the list answers in the documented model.

Source: https://apidocs.pingidentity.com/pingone/platform/v1/api/src/management-apis/password-policies/
The body is validated against password-policies.collection.schema.json by the API client too.
"""

from __future__ import annotations

import pytest

from harness.client import ApiClient
from harness.failures import ConformanceFailure
from harness.passwords import policies_in
from harness.schemas import SchemaStore


@pytest.mark.requirement("P1-POLICY-001")
def test_password_policies_read_back_in_the_documented_model(
    api: ApiClient, schemas: SchemaStore
) -> None:
    """GET …/passwordPolicies answers 200 with the collection, at most one policy the default.

    "PingOne provides the following three pre-defined password policies": their names are not
    required (a tenant may rename or delete the others), and only one can be the default.
    """
    response = api.get(api.env_url("passwordPolicies"))
    exchange = api.last_exchange()
    where = exchange.summary() if exchange else f"HTTP {response.status_code}"
    if response.status_code != 200:
        raise ConformanceFailure(f"HTTP 200 expected, got {response.status_code}\n\n{where}")
    body = response.json()
    problems = schemas.errors(body, "password-policies.collection.schema.json")
    defaults = [p.get("id") for p in policies_in(body) if p.get("default") is True]
    if len(defaults) > 1:
        problems.append(f"{len(defaults)} policies say default true: {defaults}")
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ConformanceFailure(f"{len(problems)} unmet expectation(s):\n{listed}\n\n{where}")
