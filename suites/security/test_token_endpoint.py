"""The worker application's token endpoint: a Bearer token with a lifetime.

Source: https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/token-admin-app-client_credentials.html
"""

from __future__ import annotations

import pytest

from harness.client import ApiClient
from harness.failures import ConformanceFailure
from harness.schemas import SchemaStore


@pytest.mark.requirement("P1-TOKEN-001")
def test_the_token_endpoint_issues_a_bearer_token_with_a_lifetime(
    api: ApiClient, schemas: SchemaStore
) -> None:
    """A client-credentials token request answers a Bearer token and a positive lifetime.

    Ping shows `{"access_token": "...", "token_type": "Bearer", "expires_in": 3600}`; the
    token type is compared case-insensitively (RFC 6749) and any positive lifetime passes.
    """
    if not api.tokens.refreshable:
        pytest.skip("the run was given an access token, not client credentials: no token request")
    api.tokens.invalidate()
    api.tokens.token()
    body = api.tokens.last_response
    assert body is not None, "the token provider recorded no token response"
    problems = [
        f"token response: {error}" for error in schemas.errors(body, "token.response.schema.json")
    ]
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        problems.append(f"token_type 'Bearer' expected, got {token_type!r}")
    lifetime = body.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        problems.append(f"a positive expires_in expected, got {lifetime!r}")
    if problems:
        raise ConformanceFailure("\n".join(f"  - {problem}" for problem in problems))
