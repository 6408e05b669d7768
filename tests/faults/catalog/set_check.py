"""Faults for Update Password (Set), Password Check and Read Password State.

Suites: suites/behaviour/test_set_password.py, test_check_password.py (their case files).
Wire faults rewrite exchanges; state faults patch the reference's PasswordService instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from reference.passwords import MUST_CHANGE, OK, PasswordView
from reference.store import UserRecord
from tests.faults.fault import Fault, state_fault, wire_fault
from tests.faults.rewriting import ASGIApp, Exchange, Match, rewrite
from tests.faults.seams import copy_of, passwords_of, wrap_method

SET_CALLS = Match.for_operation("set")
CHECK_CALLS = Match.for_operation("check")
READ_CALLS = Match.for_operation("read")
PASSWORD_CALLS = Match.password_calls()
EVERY_CALL = Match()

# --------------------------------------------------------------------------- wire helpers


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


WIRE_FAULTS: tuple[Fault, ...] = (
    wire_fault(
        "set-ignores-force-change",
        "Set drops forceChange: true, so the password ends up OK instead of MUST_CHANGE_PASSWORD.",
        ("P1-SET-002",),
        _on_request(SET_CALLS, _set_force_change(False)),
    ),
    wire_fault(
        "set-always-forces-change",
        "Set treats every call as forceChange: true.",
        ("P1-SET-001",),
        _on_request(SET_CALLS, _set_force_change(True)),
    ),
    wire_fault(
        "set-answers-empty-object",
        "Set succeeds but answers {} instead of the password-state resource.",
        ("P1-SET-003",),
        _on_response(SET_CALLS, _same(_empty_success)),
    ),
    wire_fault(
        "status-in-lowercase",
        "Every password-state body spells its status in lower case ('ok').",
        ("P1-SET-003", "P1-CHECK-001"),
        _on_response(PASSWORD_CALLS, _same(_lowercase_status)),
    ),
    wire_fault(
        "last-changed-frozen",
        "lastChangedAt keeps the value of the first password ever set.",
        ("P1-SET-004",),
        _on_response(PASSWORD_CALLS, _freeze_last_changed),
    ),
    wire_fault(
        "check-accepts-wrong-password",
        "Check answers 200 OK to a wrong password.",
        ("P1-CHECK-002",),
        _on_response(CHECK_CALLS, _same(_accept_wrong_password)),
    ),
    wire_fault(
        "error-without-id",
        "Error envelopes leave out the id that Ping says is always included.",
        ("P1-ERR-001",),
        _on_response(EVERY_CALL, _same(_drop_error_id)),
    ),
    wire_fault(
        "check-omits-failures-remaining",
        "A wrong-password answer leaves out innerError.failuresRemaining.",
        ("P1-CHECK-003",),
        _on_response(CHECK_CALLS, _same(_drop_failures_remaining)),
    ),
    wire_fault(
        "check-does-not-count-failures",
        "failuresRemaining never goes down: failed checks are not counted.",
        ("P1-CHECK-003",),
        _on_response(CHECK_CALLS, _constant_failures_remaining),
    ),
    wire_fault(
        "check-hides-must-change",
        "Check reports OK for a password that must be changed.",
        ("P1-CHECK-004",),
        _on_response(CHECK_CALLS, _same(_must_change_reported_as_ok)),
    ),
    wire_fault(
        "check-crashes-on-wrong-password",
        "A wrong password makes check answer 500 instead of 400.",
        ("P1-CHECK-002",),
        _on_response(CHECK_CALLS, _same(_server_error_on_wrong_password)),
    ),
    wire_fault(
        "check-accepts-user-without-password",
        "Check on a user who has no password answers 200 instead of 400.",
        ("P1-CHECK-005",),
        _on_response(CHECK_CALLS, _same(_no_password_check_accepted)),
    ),
    wire_fault(
        "read-reports-ok-always",
        "Read Password State answers status OK whatever the password's real state.",
        ("P1-STATE-001",),
        _on_response(READ_CALLS, _same(_state_always_ok)),
    ),
)

# --------------------------------------------------------------------------- state helpers
# `PasswordService._count_check(matches)` returns the write-transaction step of a check: it gets
# the freshly read user record, changes it (failure count, lock), and the store saves it after.

CountStep = Callable[[Any, UserRecord, float], Any]


def _failed_check_not_saved(app: Starlette) -> None:
    def count_check(original: Callable[[bool], CountStep], matches: bool) -> CountStep:
        step = original(matches)

        def forgetful(tx: Any, user: UserRecord, now: float) -> Any:
            before = (user.failure_count, user.locked, user.locked_until)
            result = step(tx, user, now)
            user.failure_count, user.locked, user.locked_until = before
            return result

        return forgetful

    wrap_method(passwords_of(app), "_count_check", count_check)


def _failed_check_counted_twice(app: Starlette) -> None:
    def count_check(original: Callable[[bool], CountStep], matches: bool) -> CountStep:
        step = original(matches)

        def twice(tx: Any, user: UserRecord, now: float) -> Any:
            if not matches:
                user.failure_count += 1  # counted once here and once more by the real step
            return step(tx, user, now)

        return twice

    wrap_method(passwords_of(app), "_count_check", count_check)


def _check_ignores_verification(app: Starlette) -> None:
    def count_check(original: Callable[[bool], CountStep], matches: bool) -> CountStep:
        return original(True)

    wrap_method(passwords_of(app), "_count_check", count_check)


def _check_clears_must_change(app: Starlette) -> None:
    service = passwords_of(app)

    def check(original: Callable[..., PasswordView], env_id: str, user_id: str, pw: str) -> Any:
        original(env_id, user_id, pw)  # refuses a wrong password as usual

        def clearing(tx: Any, user: UserRecord, now: float) -> PasswordView:
            user.must_change = False
            return service.view(user, now)

        return service._write_user(env_id, user_id, clearing)

    wrap_method(service, "check", check)


def _check_without_password_answers_state(app: Starlette) -> None:
    service = passwords_of(app)

    def check(original: Callable[..., PasswordView], env_id: str, user_id: str, pw: str) -> Any:
        user = service._snapshot(env_id, user_id)
        if user.password is None:
            return service.view(user)
        return original(env_id, user_id, pw)

    wrap_method(service, "check", check)


def _force_change_answered_not_stored(app: Starlette) -> None:
    def set_password(
        original: Callable[..., PasswordView],
        env_id: str,
        user_id: str,
        value: str,
        *,
        force_change: bool = False,
        **options: Any,
    ) -> PasswordView:
        view = original(env_id, user_id, value, force_change=False, **options)
        if force_change and view.status == OK:
            return PasswordView(**{**vars(view), "status": MUST_CHANGE})
        return view

    wrap_method(passwords_of(app), "set", set_password)


def _last_changed_not_moved(app: Starlette) -> None:
    def store_password(
        original: Callable[..., None], tx: Any, user: UserRecord, now: float, stored: str, **kw: Any
    ) -> None:
        previous = user.last_changed_at
        original(tx, user, now, stored, **kw)
        if previous is not None:
            user.last_changed_at = previous

    wrap_method(passwords_of(app), "_store_password", store_password)


def _set_answers_state_before_write(app: Starlette) -> None:
    service = passwords_of(app)

    def set_password(
        original: Callable[..., PasswordView], env_id: str, user_id: str, *args: Any, **kw: Any
    ) -> PasswordView:
        before = service.read(env_id, user_id)
        original(env_id, user_id, *args, **kw)
        return before

    wrap_method(service, "set", set_password)


def _read_forgets_must_change(app: Starlette) -> None:
    service = passwords_of(app)

    def read(original: Callable[..., PasswordView], env_id: str, user_id: str) -> PasswordView:
        return service.view(copy_of(service._snapshot(env_id, user_id), must_change=False))

    wrap_method(service, "read", read)


def _status_ignores_must_change(app: Starlette) -> None:
    def view(
        original: Callable[..., PasswordView], user: UserRecord, now: float | None = None
    ) -> PasswordView:
        return original(copy_of(user, must_change=False), now)

    wrap_method(passwords_of(app), "view", view)


STATE_FAULTS: tuple[Fault, ...] = (
    state_fault(
        "check-failure-not-saved",
        "A failed check computes failuresRemaining but never stores the new failure count.",
        ("P1-CHECK-003",),
        _failed_check_not_saved,
    ),
    state_fault(
        "check-failure-counted-twice",
        "Each failed check adds two to the failure count, so lockout comes twice as fast.",
        ("P1-CHECK-003",),
        _failed_check_counted_twice,
    ),
    state_fault(
        "check-always-verifies",
        "Check ignores the result of verifying the password: every password matches.",
        ("P1-CHECK-002", "P1-CHECK-003"),
        _check_ignores_verification,
    ),
    state_fault(
        "check-clears-must-change",
        "A successful check clears the must-change flag, so the user is no longer asked to change.",
        ("P1-CHECK-004",),
        _check_clears_must_change,
    ),
    state_fault(
        "check-without-password-answers-state",
        "Check on a user without a password answers 200 with the NO_PASSWORD state.",
        ("P1-CHECK-005",),
        _check_without_password_answers_state,
    ),
    state_fault(
        "force-change-answered-not-stored",
        "Set with forceChange: true answers MUST_CHANGE_PASSWORD but stores the password as OK.",
        ("P1-STATE-001", "P1-CHECK-004"),
        _force_change_answered_not_stored,
    ),
    state_fault(
        "last-changed-not-moved",
        "A new password keeps the lastChangedAt of the user's first password.",
        ("P1-SET-004",),
        _last_changed_not_moved,
    ),
    state_fault(
        "set-answers-state-before-write",
        "Set stores the password but answers the state read before the change.",
        ("P1-SET-001", "P1-SET-002"),
        _set_answers_state_before_write,
    ),
    state_fault(
        "read-forgets-must-change",
        "Read Password State computes the status without the must-change flag.",
        ("P1-STATE-001",),
        _read_forgets_must_change,
    ),
    state_fault(
        "status-ignores-must-change",
        "The status model never reports MUST_CHANGE_PASSWORD, although the flag is stored.",
        ("P1-SET-002", "P1-CHECK-004", "P1-STATE-001"),
        _status_ignores_must_change,
    ),
)

FAULTS: tuple[Fault, ...] = WIRE_FAULTS + STATE_FAULTS
