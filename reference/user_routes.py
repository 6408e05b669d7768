"""``/v1/environments/{envID}/users[/{userID}]``: create or import, list, read, delete."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reference import representations, request_schemas
from reference.errors import invalid_data, invalid_request, unsupported_media_type
from reference.http_support import HalResponse, api_base, authorize, media_type, read_json
from reference.users import UserService, parse_limit

CREATE = "application/json"
IMPORT = "application/vnd.pingidentity.user.import+json"
USER_SCHEMA = "reference-user.request.schema.json"


async def users(request: Request) -> Response:
    """GET lists users (``filter``, ``limit``); POST creates or imports one."""
    env_id = request.path_params["env_id"]
    authorize(request, env_id)
    service: UserService = request.app.state.users
    if request.method == "POST":
        media = media_type(request.headers.get("content-type"))
        if media not in (CREATE, IMPORT):
            raise unsupported_media_type(f"Use {CREATE}, or {IMPORT} to set a password.")
        body = await read_json(request, empty_means_object=False)
        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object.")
        details = request_schemas.validate(USER_SCHEMA, body)
        if details:
            raise invalid_data(*details)
        view = await run_in_threadpool(
            lambda: service.create(env_id, body, allow_password=media == IMPORT)
        )
        created = representations.user(api_base(request), view)
        return HalResponse(
            created, status_code=201, headers={"Location": created["_links"]["self"]["href"]}
        )
    limit = parse_limit(request.query_params.get("limit"))
    filter_text = request.query_params.get("filter")
    page = await run_in_threadpool(service.list, env_id, filter_text, limit)
    return HalResponse(
        representations.user_list(api_base(request), env_id, page, request.url.query)
    )


async def user(request: Request) -> Response:
    """GET reads one user; DELETE removes it (204)."""
    env_id = request.path_params["env_id"]
    user_id = request.path_params["user_id"]
    authorize(request, env_id)
    service: UserService = request.app.state.users
    if request.method == "DELETE":
        await run_in_threadpool(service.delete, env_id, user_id)
        return Response(status_code=204)
    view = await run_in_threadpool(service.get, env_id, user_id)
    return HalResponse(representations.user(api_base(request), view))
