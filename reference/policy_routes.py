"""``/v1/environments/{envID}/passwordPolicies[/{policyID}]`` and ``/v1/environments/{envID}``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reference import control_routes, representations
from reference.environment import Environment
from reference.errors import not_found
from reference.http_support import HalResponse, api_base, authorize


async def policies(request: Request) -> Response:
    """Lists the environment's password policies."""
    env_id = request.path_params["env_id"]
    authorize(request, env_id)
    environment: Environment = request.app.state.environment
    return HalResponse(
        representations.policy_list(api_base(request), env_id, list(environment.policies.values()))
    )


async def policy(request: Request) -> Response:
    """Reads one password policy."""
    env_id = request.path_params["env_id"]
    authorize(request, env_id)
    environment: Environment = request.app.state.environment
    found = environment.policies.get(request.path_params["policy_id"])
    if found is None:
        raise not_found("The password policy was not found.")
    return HalResponse(representations.password_policy(api_base(request), env_id, found))


async def environment(request: Request) -> Response:
    """Reads the environment (enough for a client to tell that it exists)."""
    env_id = request.path_params["env_id"]
    authorize(request, env_id)
    body = representations.environment(api_base(request), env_id)
    link = control_routes.test_routes_link(request)
    if link is not None:
        body["_links"][control_routes.TEST_ROUTES_RELATION] = link
    return HalResponse(body)
