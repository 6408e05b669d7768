"""``/v1/environments/{envID}/users/{userID}/password``: one URL, eleven operations.

GET reads the state. PUT and POST select the operation by the Content-Type media type
(parameters such as charset ignored, compared case-insensitively) through ``operations.yaml``,
accepting its ``altMediaTypes``. ``reset+json`` is the self change when the body has
``currentPassword`` and the admin change otherwise. Order of checks: token (401/403), method (405),
media type (415), JSON (400 INVALID_REQUEST), schema (400 INVALID_DATA), user (404), operation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reference import hashing, representations, request_schemas
from reference.environment import Environment
from reference.errors import invalid_data, method_not_allowed, unsupported_media_type
from reference.http_support import HalResponse, api_base, authorize, media_type, read_json
from reference.passwords import PasswordService, PasswordView
from reference.store import Store

T = TypeVar("T")

ALLOWED_METHODS = ["GET", "PUT", "POST"]

Handler = Callable[[PasswordService, str, str, dict[str, Any]], PasswordView]


def _gateway(body: dict[str, Any]) -> dict[str, Any] | None:
    gateway = ((body.get("password") or {}).get("external") or {}).get("gateway")
    return gateway if isinstance(gateway, dict) else None


HANDLERS: dict[str, Handler] = {
    "set": lambda s, e, u, b: s.set(
        e,
        u,
        b["value"],
        force_change=b.get("forceChange", False),
        bypass_policy=b.get("bypassPolicy", False),
        gateway=_gateway(b),
    ),
    "setValue": lambda s, e, u, b: s.set_value(
        e,
        u,
        b.get("value"),
        force_change=b.get("forceChange", False),
        bypass_policy=b.get("bypassPolicy", False),
    ),
    "setGateway": lambda s, e, u, b: s.set_gateway(e, u, _gateway(b)),
    "resetSelf": lambda s, e, u, b: s.reset_self(e, u, b["currentPassword"], b["newPassword"]),
    "resetAdmin": lambda s, e, u, b: s.reset_admin(e, u, b["newPassword"]),
    "check": lambda s, e, u, b: s.check(e, u, b["password"]),
    "recover": lambda s, e, u, b: s.recover(e, u, b["recoveryCode"], b["newPassword"]),
    "sendRecoveryCode": lambda s, e, u, b: s.send_recovery_code(e, u),
    "forceChange": lambda s, e, u, b: s.force_change(e, u),
    "unlock": lambda s, e, u, b: s.unlock(e, u),
}


def select_operation(
    operations: Sequence[request_schemas.Operation], body: Any
) -> request_schemas.Operation:
    """Picks among the operations one media type selects (reset: self vs admin)."""
    if len(operations) == 1:
        return operations[0]
    by_name = {op.name: op for op in operations}
    if isinstance(body, dict) and "currentPassword" in body and "resetSelf" in by_name:
        return by_name["resetSelf"]
    return by_name.get("resetAdmin", operations[0])


def resolve_operations(
    method: str, content_type: str | None
) -> tuple[request_schemas.Operation, ...]:
    """Returns the operations a method and Content-Type select; 415 when there are none."""
    media = media_type(content_type)
    if media is None:
        raise unsupported_media_type("A Content-Type naming the password operation is required.")
    found = request_schemas.operations_for(method, media)
    if not found:
        if media in request_schemas.media_types_known():
            raise unsupported_media_type(
                f"The Content-Type names an operation that does not use the {method} method."
            )
        raise unsupported_media_type("The Content-Type does not name a password operation.")
    return found


async def run_operation(request: Request, operation: Callable[..., T], *args: Any) -> T:
    """Runs a password operation on the event loop's thread, or in a worker thread if it must.

    The server is bound by the interpreter lock, so a worker thread only helps work that waits
    or that runs outside the lock for long: handing a request to one and back cost more than a
    whole read (measured in README.md, "Check under load"). On the in-memory database an
    operation's waits are this process's own sub-millisecond transactions, so it runs here, and
    the hashing it cannot do cheaply (the strong profile, bcrypt, PBKDF2) raises
    ``hashing.Offload`` before it starts: then the operation runs again in a worker thread.
    A database file may be locked by another process, so there every operation uses a worker.
    """
    store: Store = request.app.state.store
    if store.in_memory:
        try:
            with hashing.on_event_loop():
                return operation(*args)
        except hashing.Offload:
            pass
    return await run_in_threadpool(operation, *args)


async def password(request: Request) -> Response:
    """Serves every method on the password resource."""
    env_id = request.path_params["env_id"]
    user_id = request.path_params["user_id"]
    authorize(request, env_id)
    service: PasswordService = request.app.state.passwords
    method = request.method.upper()
    if method in ("GET", "HEAD"):
        view = await run_operation(request, service.read, env_id, user_id)
        expand = {part.strip() for part in request.query_params.get("expand", "").split(",")}
        embedded = None
        if "passwordPolicy" in expand:
            environment: Environment = request.app.state.environment
            embedded = representations.password_policy(
                api_base(request), env_id, environment.policies[view.policy_id]
            )
        return HalResponse(representations.password_state(api_base(request), view, embedded))
    if method not in ALLOWED_METHODS:
        raise method_not_allowed(ALLOWED_METHODS)
    operations = resolve_operations(method, request.headers.get("content-type"))
    body = await read_json(request, empty_means_object=operations[0].bodyless)
    operation = select_operation(operations, body)
    if operation.request is not None:
        details = request_schemas.validate(operation.request, body)
        if details:
            raise invalid_data(*details)
    handler = HANDLERS[operation.name]
    view = await run_operation(request, handler, service, env_id, user_id, body)
    return HalResponse(representations.password_state(api_base(request), view))
