"""The fault catalog: named defects applied to the reference from outside its code.

Each fault is a small, plausible implementation mistake. `catches` names the requirements whose
tests must turn red when the fault is applied; the catalog test runs the suites against the
reference with each fault and checks exactly that, and that every suite test fails under at
least one fault (a check no fault can trip is dead weight).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.faults.rewriting import ASGIApp, Exchange, Match, rewrite

SET = "application/vnd.pingidentity.password.set+json"
CHECK = "application/vnd.pingidentity.password.check+json"
PASSWORD_PATH = "/password"


@dataclass(frozen=True)
class Fault:
    """A named defect: how to apply it, and which requirements the suites must fail on."""

    name: str
    description: str
    catches: tuple[str, ...]
    wrap: Callable[[ASGIApp], ASGIApp]


def _details(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("details"), list):
        return [d for d in body["details"] if isinstance(d, dict)]
    return []


def _is_wrong_password(exchange: Exchange) -> bool:
    return exchange.status == 400 and any(
        d.get("target") == "password" for d in _details(exchange.body)
    )


def _set_force_change(value: bool) -> Callable[[Any], Any]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "forceChange": value}

    return change


def _empty_success(exchange: Exchange) -> None:
    if exchange.status == 200:
        exchange.body = {}


def _lowercase_status(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict) and isinstance(exchange.body.get("status"), str):
        exchange.body["status"] = exchange.body["status"].lower()


def _freeze_last_changed() -> Callable[[Exchange], None]:
    first_seen: dict[str, Any] = {}

    def freeze(exchange: Exchange) -> None:
        body = exchange.body
        if isinstance(body, dict) and "lastChangedAt" in body:
            body["lastChangedAt"] = first_seen.setdefault(exchange.path, body["lastChangedAt"])

    return freeze


def _accept_wrong_password(exchange: Exchange) -> None:
    if _is_wrong_password(exchange):
        exchange.status = 200
        exchange.headers = [(b"content-type", b"application/json")]
        exchange.body = {"status": "OK"}


def _drop_error_id(exchange: Exchange) -> None:
    if exchange.status >= 400 and isinstance(exchange.body, dict):
        exchange.body.pop("id", None)


def _drop_failures_remaining(exchange: Exchange) -> None:
    for detail in _details(exchange.body):
        inner = detail.get("innerError")
        if isinstance(inner, dict):
            inner.pop("failuresRemaining", None)


def _constant_failures_remaining() -> Callable[[Exchange], None]:
    first_seen: dict[str, Any] = {}

    def hold(exchange: Exchange) -> None:
        for detail in _details(exchange.body):
            inner = detail.get("innerError")
            if isinstance(inner, dict) and "failuresRemaining" in inner:
                inner["failuresRemaining"] = first_seen.setdefault(
                    exchange.path, inner["failuresRemaining"]
                )

    return hold


def _must_change_reported_as_ok(exchange: Exchange) -> None:
    body = exchange.body
    if (
        exchange.status == 200
        and isinstance(body, dict)
        and body.get("status") == "MUST_CHANGE_PASSWORD"
    ):
        body["status"] = "OK"


def _no_password_check_accepted(exchange: Exchange) -> None:
    if exchange.status == 400 and any(
        d.get("code") == "NO_PASSWORD" for d in _details(exchange.body)
    ):
        exchange.status = 200
        exchange.headers = [(b"content-type", b"application/json")]
        exchange.body = {"status": "NO_PASSWORD"}


def _state_always_ok(exchange: Exchange) -> None:
    if exchange.status == 200 and isinstance(exchange.body, dict) and "status" in exchange.body:
        exchange.body["status"] = "OK"


def _server_error_on_wrong_password(exchange: Exchange) -> None:
    if _is_wrong_password(exchange):
        exchange.status = 500
        exchange.body = {"code": "UNEXPECTED_ERROR", "message": "Unexpected error"}


def _on_response(
    match: Match, make: Callable[[], Callable[[Exchange], None]]
) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, match, on_response=make())


def _on_request(match: Match, change: Callable[[Any], Any]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, match, on_request=change)


def _same(
    function: Callable[[Exchange], None],
) -> Callable[[], Callable[[Exchange], None]]:
    return lambda: function


SET_CALLS = Match(method="PUT", media_type=SET, path_suffix=PASSWORD_PATH)
CHECK_CALLS = Match(method="POST", media_type=CHECK, path_suffix=PASSWORD_PATH)
PASSWORD_CALLS = Match(path_suffix=PASSWORD_PATH)
READ_CALLS = Match(method="GET", path_suffix=PASSWORD_PATH)

CATALOG: tuple[Fault, ...] = (
    Fault(
        "set-ignores-force-change",
        "Set drops forceChange: true, so the password ends up OK instead of MUST_CHANGE_PASSWORD.",
        ("P1-SET-002",),
        _on_request(SET_CALLS, _set_force_change(False)),
    ),
    Fault(
        "set-always-forces-change",
        "Set treats every call as forceChange: true.",
        ("P1-SET-001",),
        _on_request(SET_CALLS, _set_force_change(True)),
    ),
    Fault(
        "set-answers-empty-object",
        "Set succeeds but answers {} instead of the password-state resource.",
        ("P1-SET-003",),
        _on_response(SET_CALLS, _same(_empty_success)),
    ),
    Fault(
        "status-in-lowercase",
        "Every password-state body spells its status in lower case ('ok').",
        ("P1-SET-003", "P1-CHECK-001"),
        _on_response(PASSWORD_CALLS, _same(_lowercase_status)),
    ),
    Fault(
        "last-changed-frozen",
        "lastChangedAt keeps the value of the first password ever set.",
        ("P1-SET-004",),
        _on_response(PASSWORD_CALLS, _freeze_last_changed),
    ),
    Fault(
        "check-accepts-wrong-password",
        "Check answers 200 OK to a wrong password.",
        ("P1-CHECK-002",),
        _on_response(CHECK_CALLS, _same(_accept_wrong_password)),
    ),
    Fault(
        "error-without-id",
        "Error envelopes leave out the id that Ping says is always included.",
        ("P1-ERR-001",),
        _on_response(Match(), _same(_drop_error_id)),
    ),
    Fault(
        "check-omits-failures-remaining",
        "A wrong-password answer leaves out innerError.failuresRemaining.",
        ("P1-CHECK-003",),
        _on_response(CHECK_CALLS, _same(_drop_failures_remaining)),
    ),
    Fault(
        "check-does-not-count-failures",
        "failuresRemaining never goes down: failed checks are not counted.",
        ("P1-CHECK-003",),
        _on_response(CHECK_CALLS, _constant_failures_remaining),
    ),
    Fault(
        "check-hides-must-change",
        "Check reports OK for a password that must be changed.",
        ("P1-CHECK-004",),
        _on_response(CHECK_CALLS, _same(_must_change_reported_as_ok)),
    ),
    Fault(
        "check-crashes-on-wrong-password",
        "A wrong password makes check answer 500 instead of 400.",
        ("P1-CHECK-002",),
        _on_response(CHECK_CALLS, _same(_server_error_on_wrong_password)),
    ),
    Fault(
        "check-accepts-user-without-password",
        "Check on a user who has no password answers 200 instead of 400.",
        ("P1-CHECK-005",),
        _on_response(CHECK_CALLS, _same(_no_password_check_accepted)),
    ),
    Fault(
        "read-reports-ok-always",
        "Read Password State answers status OK whatever the password's real state.",
        ("P1-STATE-001",),
        _on_response(READ_CALLS, _same(_state_always_ok)),
    ),
)
