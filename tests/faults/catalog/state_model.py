"""Faults of the password status model: lockout, unlock, force/admin/self change, recovery, IdPs.

Most are state faults: `wrap` receives the reference's Starlette app and replaces one method of
its `PasswordService` (`app.state.passwords`) with a plausibly wrong one, then returns the app;
the reference's code is never edited. The rest rewrite exchanges on the wire
(`tests.faults.rewriting`). Each names the requirements whose behaviour cases must turn red.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

from reference.errors import ApiError, detail, invalid_data, request_failed
from reference.passwords import PasswordService, PasswordView, lock_active
from reference.store import Transaction, UserRecord
from tests.faults.fault import Fault, state_fault, wire_fault
from tests.faults.rewriting import ASGIApp, Exchange, Match, rewrite

Change = Callable[[Transaction, UserRecord, float], Any]
# make(service, original) returns the replacement of one PasswordService method.
Replacement = Callable[[PasswordService, Callable[..., Any]], Callable[..., Any]]


def replace(attribute: str, make: Replacement) -> Callable[[Any], None]:
    """A state fault's patch: `app.state.passwords.<attribute>` becomes `make(service, orig)`."""

    def patch(app: Any) -> None:
        service: PasswordService = app.state.passwords
        setattr(service, attribute, make(service, getattr(service, attribute)))

    return patch


def _write(service: PasswordService, env_id: str, user_id: str, change: Change) -> Any:
    return service._write_user(env_id, user_id, change)


# --- lockout --------------------------------------------------------------------------------------
def _failures_not_counted(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
    def count_check(matches: bool) -> Change:
        inner = original(matches)

        def change(tx: Transaction, user: UserRecord, now: float) -> Any:
            before = (user.failure_count, user.locked, user.locked_until)
            result = inner(tx, user, now)
            if not matches and not before[1]:
                user.failure_count, user.locked, user.locked_until = before
            return result

        return change

    return count_check


def _lock_never_expires(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
    def count_check(matches: bool) -> Change:
        inner = original(matches)

        def change(tx: Transaction, user: UserRecord, now: float) -> Any:
            result = inner(tx, user, now)
            if user.locked:
                user.locked_until = None
            return result

        return change

    return count_check


def _no_op(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args, **kwargs: None


def _policy_changed(
    edit: Callable[[dict[str, Any]], dict[str, Any]],
) -> Replacement:
    def make(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda user: edit(dict(original(user)))

    return make


def _one_failure_late(policy: dict[str, Any]) -> dict[str, Any]:
    lockout = dict(policy.get("lockout") or {})
    if "failureCount" in lockout:
        lockout["failureCount"] = int(lockout["failureCount"]) + 1
        policy["lockout"] = lockout
    return policy


def _never_expires(policy: dict[str, Any]) -> dict[str, Any]:
    policy.pop("maxAgeDays", None)
    return policy


def _no_seconds_until_unlock(
    _: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def view(user: UserRecord, now: float | None = None) -> PasswordView:
        shown: PasswordView = original(user, now)
        return dataclasses.replace(shown, seconds_until_unlock=None)

    return view


# --- unlock, force change, admin change ---------------------------------------------------------
def _unlock_does_nothing(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    return lambda env_id, user_id: service.read(env_id, user_id)


def _unlock_keeps_failures(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    def unlock(env_id: str, user_id: str) -> PasswordView:
        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.locked, user.locked_until, user.updated_at = False, None, now
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return unlock


def _force_change_replaces_password(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def force_change(env_id: str, user_id: str) -> PasswordView:
        original(env_id, user_id)
        scrambled = service.hasher.hash(secrets.token_urlsafe(16))

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.password = scrambled
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return force_change


def _keeps_lock(service: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
    """The operation does its work but a lock that was active before is put back."""

    def operation(env_id: str, user_id: str, *args: Any) -> PasswordView:
        before = service._snapshot(env_id, user_id)
        was_locked = lock_active(before, service.clock.now())
        view: PasswordView = original(env_id, user_id, *args)
        if not was_locked:
            return view

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.locked, user.locked_until = True, before.locked_until
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return operation


def _admin_change_applies_policy(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def reset_admin(env_id: str, user_id: str, new_password: str) -> PasswordView:
        user = service._snapshot(env_id, user_id)
        service.hash_cleartext(new_password, target="newPassword", apply_policy=True, user=user)
        return original(env_id, user_id, new_password)  # type: ignore[no-any-return]

    return reset_admin


def _admin_change_runs_a_set(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    """reset+json without currentPassword is dispatched to the set operation (forceChange false)."""

    def reset_admin(env_id: str, user_id: str, new_password: str) -> PasswordView:
        return service.set(env_id, user_id, new_password, force_change=False, bypass_policy=True)

    return reset_admin


def _then_must_change(value: bool) -> Replacement:
    def make(service: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
        def operation(env_id: str, user_id: str, *args: Any) -> PasswordView:
            original(env_id, user_id, *args)

            def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
                user.must_change = value
                return service.view(user, now)

            return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

        return operation

    return make


# --- self change --------------------------------------------------------------------------------
def _self_change_trusts_current(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def reset_self(env_id: str, user_id: str, current: str, new: str) -> PasswordView:
        user = service._snapshot(env_id, user_id)
        if user.password is None or service.hasher.verify(user.password, current):
            return original(env_id, user_id, current, new)  # type: ignore[no-any-return]
        stored = service.hash_cleartext(new, target="newPassword", apply_policy=True, user=user)

        def change(tx: Transaction, fresh: UserRecord, now: float) -> PasswordView:
            service._store_password(tx, fresh, now, stored, must_change=False, kind="self")
            return service.view(fresh, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return reset_self


def _self_change_not_stored(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def reset_self(env_id: str, user_id: str, current: str, new: str) -> PasswordView:
        before = service._snapshot(env_id, user_id)
        original(env_id, user_id, current, new)

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.password = before.password
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return reset_self


def _hash_with(**forced: Any) -> Replacement:
    """hash_cleartext with some keyword arguments forced, for changes by the user only."""

    def make(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
        def hash_cleartext(value: str, **kwargs: Any) -> str:
            if kwargs.get("current") is not None:
                kwargs.update(forced)
            return original(value, **kwargs)  # type: ignore[no-any-return]

        return hash_cleartext

    return make


def _history_ignored(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    def reused(user: UserRecord, now: float) -> Callable[[str], bool]:
        current = user.password
        return lambda password: current is not None and service.hasher.verify(current, password)

    return reused


# --- recovery -----------------------------------------------------------------------------------
def _count_recovery_with(adjust: Callable[[UserRecord, str, float], str | ApiError]) -> Replacement:
    """_count_recovery whose user record (and given code) `adjust` sees first."""

    def make(_: PasswordService, original: Callable[..., Any]) -> Callable[..., Any]:
        def count_recovery(given: str) -> Change:
            def change(tx: Transaction, user: UserRecord, now: float) -> Any:
                adjusted = adjust(user, given, now)
                if isinstance(adjusted, ApiError):
                    return adjusted
                return original(adjusted)(tx, user, now)

            return change

        return count_recovery

    return make


def _code_never_expires(user: UserRecord, given: str, now: float) -> str:
    if user.recovery_issued_at is not None:
        user.recovery_issued_at = now
    return given


def _any_code_accepted(user: UserRecord, given: str, now: float) -> str:
    return user.recovery_code or given


def _case_sensitive_code(user: UserRecord, given: str, now: float) -> str | ApiError:
    if user.recovery_code and given != user.recovery_code and given.upper() == user.recovery_code:
        return invalid_data(detail("INVALID_VALUE", "The recovery code is invalid", "recoveryCode"))
    return given


def _failures_unlimited(user: UserRecord, given: str, now: float) -> str:
    user.recovery_failures = 0
    return given


def _code_not_consumed(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def recover(env_id: str, user_id: str, code: str, new: str) -> PasswordView:
        before = service._snapshot(env_id, user_id)
        original(env_id, user_id, code, new)

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.recovery_code, user.recovery_issued_at = (
                before.recovery_code,
                before.recovery_issued_at,
            )
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return recover


def _recover_without_password(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def recover(env_id: str, user_id: str, code: str, new: str) -> PasswordView:
        user = service._snapshot(env_id, user_id)
        if user.password is not None or user.recovery_code is None:
            return original(env_id, user_id, code, new)  # type: ignore[no-any-return]
        stored = service.hasher.hash(new)

        def change(tx: Transaction, fresh: UserRecord, now: float) -> PasswordView:
            service._store_password(tx, fresh, now, stored, must_change=False, kind="recovery")
            fresh.recovery_code = None
            return service.view(fresh, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return recover


def _send_code_keeps_failures(
    service: PasswordService, original: Callable[..., Any]
) -> Callable[..., Any]:
    def send_recovery_code(env_id: str, user_id: str) -> PasswordView:
        failures = service._snapshot(env_id, user_id).recovery_failures
        original(env_id, user_id)

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.recovery_failures = failures
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return send_recovery_code


def _send_code_refused(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    def send_recovery_code(env_id: str, user_id: str) -> PasswordView:
        raise request_failed("Recovery codes are unavailable.", detail("ACCOUNT_NOT_USABLE", "No."))

    return send_recovery_code


def _send_code_to_anyone(service: PasswordService, _: Callable[..., Any]) -> Callable[..., Any]:
    def send_recovery_code(env_id: str, user_id: str) -> PasswordView:
        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.recovery_code = "".join(secrets.choice("ABCDEFGH23456789") for _ in range(8))
            user.recovery_issued_at, user.recovery_failures = now, 0
            return service.view(user, now)

        return _write(service, env_id, user_id, change)  # type: ignore[no-any-return]

    return send_recovery_code


# --- wire faults --------------------------------------------------------------------------------
def _refuse_media_type(exchange: Exchange) -> None:
    exchange.status = 415
    exchange.headers = [(b"content-type", b"application/json")]
    exchange.body = {"id": "f0", "code": "INVALID_REQUEST", "message": "Unsupported Media Type"}


def _empty_success(exchange: Exchange) -> None:
    if exchange.status == 200:
        exchange.body = {}


def _request_failed_as_invalid_data(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict) and exchange.body.get("code") == "REQUEST_FAILED":
        exchange.body["code"] = "INVALID_DATA"


def _inflate_seconds_until_unlock(exchange: Exchange) -> None:
    body = exchange.body
    if isinstance(body, dict) and isinstance(body.get("secondsUntilUnlock"), int):
        body["secondsUntilUnlock"] = body["secondsUntilUnlock"] * 10 + 3600


def _status_renamed(old: str, new: str) -> Callable[[Exchange], None]:
    def rename(exchange: Exchange) -> None:
        if isinstance(exchange.body, dict) and exchange.body.get("status") == old:
            exchange.body["status"] = new

    return rename


def _on_response(
    *matches: Match, change: Callable[[Exchange], None]
) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        for match in matches:
            app = rewrite(app, match, on_response=change)
        return app

    return wrap


UNLOCK_CALLS = (Match.for_operation("unlock"),)  # both documented spellings
FORCE_CHANGE_CALLS = Match.for_operation("forceChange")
PASSWORD_CALLS = Match.password_calls()
READ_CALLS = Match.for_operation("read")

FAULTS: tuple[Fault, ...] = (
    # dispatch: the media type picks the operation
    state_fault(
        "admin-change-dispatched-as-set",
        "reset+json with newPassword alone runs the set operation: the status ends up OK.",
        ("P1-MT-001", "P1-ADMIN-001"),
        replace("reset_admin", _admin_change_runs_a_set),
    ),
    # lockout: counting, enforcing, reporting and ending it
    state_fault(
        "check-failure-not-counted",
        "A wrong password is answered but never counted: no countdown, no lockout.",
        ("P1-CHECK-007", "P1-CHECK-009"),
        replace("_count_check", _failures_not_counted),
    ),
    state_fault(
        "lockout-one-failure-late",
        "The password locks after failureCount + 1 failures, not failureCount.",
        ("P1-CHECK-007", "P1-CHECK-009"),
        replace("policy_for", _policy_changed(_one_failure_late)),
    ),
    state_fault(
        "lock-not-enforced",
        "A locked-out password still passes a check with the right password.",
        ("P1-CHECK-006",),
        replace("_refuse_locked", _no_op),
    ),
    state_fault(
        "seconds-until-unlock-missing",
        "The password state of a locked-out password leaves out secondsUntilUnlock.",
        ("P1-LOCK-001",),
        replace("view", _no_seconds_until_unlock),
    ),
    state_fault(
        "auto-unlock-never",
        "A lock never ends by itself: lockout.durationSeconds is ignored.",
        ("P1-LOCK-002",),
        replace("_count_check", _lock_never_expires),
    ),
    state_fault(
        "password-never-expires",
        "maxAgeDays is ignored: a password older than that stays OK.",
        ("P1-CHECK-008",),
        replace("policy_for", _policy_changed(_never_expires)),
    ),
    # unlock, force change, admin change
    state_fault(
        "unlock-leaves-lock",
        "Unlock answers 200 with the state but leaves the lock in place.",
        ("P1-UNLOCK-001", "P1-UNLOCK-003"),
        replace("unlock", _unlock_does_nothing),
    ),
    state_fault(
        "unlock-keeps-failure-count",
        "Unlock lifts the lock but keeps the failed-check count, so one wrong password relocks.",
        ("P1-UNLOCK-003",),
        replace("unlock", _unlock_keeps_failures),
    ),
    state_fault(
        "force-change-replaces-password",
        "Force change sets MUST_CHANGE_PASSWORD but also replaces the password.",
        ("P1-FORCE-001",),
        replace("force_change", _force_change_replaces_password),
    ),
    state_fault(
        "force-change-keeps-lock",
        "Force change leaves a locked-out password locked.",
        ("P1-FORCE-002",),
        replace("force_change", _keeps_lock),
    ),
    state_fault(
        "admin-change-applies-policy",
        "An admin change evaluates the policy and refuses a temporary password that breaks it.",
        ("P1-ADMIN-002",),
        replace("reset_admin", _admin_change_applies_policy),
    ),
    state_fault(
        "admin-change-keeps-lock",
        "An admin change leaves a locked-out password locked.",
        ("P1-ADMIN-003",),
        replace("reset_admin", _keeps_lock),
    ),
    state_fault(
        "admin-change-leaves-status-ok",
        "An admin change does not require the user to change the password.",
        ("P1-ADMIN-001",),
        replace("reset_admin", _then_must_change(False)),
    ),
    # self change
    state_fault(
        "self-change-skips-current-check",
        "A self change with a wrong currentPassword is accepted.",
        ("P1-SELF-004",),
        replace("reset_self", _self_change_trusts_current),
    ),
    state_fault(
        "self-change-keeps-must-change",
        "A successful self change leaves status MUST_CHANGE_PASSWORD.",
        ("P1-SELF-001",),
        replace("reset_self", _then_must_change(True)),
    ),
    state_fault(
        "self-change-not-stored",
        "A self change answers 200 but keeps the old password.",
        ("P1-SELF-003",),
        replace("reset_self", _self_change_not_stored),
    ),
    state_fault(
        "self-change-skips-policy",
        "A self change does not evaluate newPassword against the policy at all.",
        ("P1-SELF-002", "P1-SELF-005", "P1-SELF-006"),
        replace("hash_cleartext", _hash_with(apply_policy=False)),
    ),
    state_fault(
        "not-similar-to-current-skipped",
        "A self change evaluates the policy without notSimilarToCurrent.",
        ("P1-SELF-005",),
        replace("hash_cleartext", _hash_with(current=None)),
    ),
    state_fault(
        "history-not-checked",
        "Only the current password counts as reuse: the history is never consulted.",
        ("P1-SELF-006",),
        replace("_reused", _history_ignored),
    ),
    state_fault(
        "min-age-ignored",
        "minAgeDays never refuses a self change.",
        ("P1-SELF-007",),
        replace("_refuse_too_young", _no_op),
    ),
    # recovery
    state_fault(
        "recovery-code-not-consumed",
        "A recovery code keeps working after it was used.",
        ("P1-RECOVER-003",),
        replace("recover", _code_not_consumed),
    ),
    state_fault(
        "expired-recovery-code-accepted",
        "Recovery codes never expire.",
        ("P1-RECOVER-004",),
        replace("_count_recovery", _count_recovery_with(_code_never_expires)),
    ),
    state_fault(
        "wrong-recovery-code-accepted",
        "Recover accepts any code once a code was sent.",
        ("P1-RECOVER-001", "P1-RECOVER-008", "P1-RECOVER-009"),
        replace("_count_recovery", _count_recovery_with(_any_code_accepted)),
    ),
    state_fault(
        "recovery-code-case-sensitive",
        "Recover compares the code case-sensitively.",
        ("P1-RECOVER-005",),
        replace("_count_recovery", _count_recovery_with(_case_sensitive_code)),
    ),
    state_fault(
        "recovery-failures-unlimited",
        "Wrong recovery codes are never counted: no limit, no lockout.",
        ("P1-RECOVER-008", "P1-RECOVER-009"),
        replace("_count_recovery", _count_recovery_with(_failures_unlimited)),
    ),
    state_fault(
        "recover-without-password",
        "Recover gives a password to a user whose password was unset.",
        ("P1-RECOVER-006",),
        replace("recover", _recover_without_password),
    ),
    state_fault(
        "recover-keeps-lock",
        "Recover sets the new password but leaves a locked-out password locked.",
        ("P1-RECOVER-007",),
        replace("recover", _keeps_lock),
    ),
    state_fault(
        "recover-leaves-must-change",
        "A recovered password has status MUST_CHANGE_PASSWORD.",
        ("P1-RECOVER-002",),
        replace("recover", _then_must_change(True)),
    ),
    state_fault(
        "send-recovery-code-refused",
        "Send recovery code refuses every user.",
        ("P1-CODE-002", "P1-RECOVER-002"),
        replace("send_recovery_code", _send_code_refused),
    ),
    state_fault(
        "new-recovery-code-keeps-failures",
        "Sending a new recovery code keeps the failed attempts of the old one.",
        ("P1-RECOVER-011",),
        replace("send_recovery_code", _send_code_keeps_failures),
    ),
    state_fault(
        "send-recovery-code-to-anyone",
        "Send recovery code skips its preconditions (no password, locked, disabled, external IdP).",
        ("P1-CODE-001", "P1-EXT-004"),
        replace("send_recovery_code", _send_code_to_anyone),
    ),
    # external identity providers
    state_fault(
        "external-idp-self-service-allowed",
        "Users of an external identity provider may check, self-change and recover passwords.",
        ("P1-EXT-001", "P1-EXT-002", "P1-EXT-003", "P1-EXT-004"),
        replace("_refuse_external_idp", _no_op),
    ),
    # on the wire
    wire_fault(
        "self-service-refusal-not-request-failed",
        "Refusals of self-service for external-IdP users carry INVALID_DATA, not REQUEST_FAILED.",
        ("P1-EXT-001", "P1-EXT-002", "P1-EXT-003", "P1-EXT-004"),
        _on_response(PASSWORD_CALLS, change=_request_failed_as_invalid_data),
    ),
    wire_fault(
        "unlock-refuses-both-spellings",
        "Unlock answers 415 to both documented media types.",
        ("P1-MT-004", "P1-UNLOCK-001", "P1-UNLOCK-002"),
        _on_response(*UNLOCK_CALLS, change=_refuse_media_type),
    ),
    wire_fault(
        "unlock-answers-empty-body",
        "Unlock succeeds but answers {} instead of the password state.",
        ("P1-UNLOCK-002",),
        _on_response(*UNLOCK_CALLS, change=_empty_success),
    ),
    wire_fault(
        "force-change-refuses-suffixless-type",
        "Force change answers 415 to the documented type without +json.",
        ("P1-MT-003", "P1-FORCE-001", "P1-FORCE-002"),
        _on_response(FORCE_CHANGE_CALLS, change=_refuse_media_type),
    ),
    wire_fault(
        "seconds-until-unlock-beyond-duration",
        "secondsUntilUnlock reports more seconds than lockout.durationSeconds.",
        ("P1-LOCK-001",),
        _on_response(READ_CALLS, change=_inflate_seconds_until_unlock),
    ),
    wire_fault(
        "read-hides-lockout",
        "Read Password State reports a locked-out password as OK.",
        ("P1-CHECK-007",),
        _on_response(READ_CALLS, change=_status_renamed("PASSWORD_LOCKED_OUT", "OK")),
    ),
    wire_fault(
        "expired-reported-as-ok",
        "An expired password is reported as OK.",
        ("P1-CHECK-008",),
        _on_response(PASSWORD_CALLS, change=_status_renamed("PASSWORD_EXPIRED", "OK")),
    ),
)
