"""The password status model and its transitions, apart from HTTP.

``PasswordService`` holds one method per operation on ``…/users/{userID}/password``. Each method
either returns the resulting ``PasswordView`` or raises ``ApiError``. Slow work (hashing and
verifying) happens outside write transactions; the write transaction re-reads the user and
starts over when the stored password changed in between.

Status precedence: EXTERNAL (a gateway and no password) and NO_PASSWORD first, then
PASSWORD_LOCKED_OUT, MUST_CHANGE_PASSWORD, PASSWORD_EXPIRED, OK.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from reference import encodings, policies
from reference.clock import Clock
from reference.encodings import EncodingError
from reference.environment import Environment
from reference.errors import ApiError, detail, invalid_data, not_found, request_failed
from reference.hashing import PasswordHasher
from reference.store import Store, Transaction, UserRecord

T = TypeVar("T")

OK = "OK"
NO_PASSWORD = "NO_PASSWORD"
EXTERNAL = "EXTERNAL"
LOCKED_OUT = "PASSWORD_LOCKED_OUT"
MUST_CHANGE = "MUST_CHANGE_PASSWORD"
EXPIRED = "PASSWORD_EXPIRED"

SECONDS_PER_DAY = 86_400
RECOVERY_CODE_ALPHABET = string.ascii_uppercase + string.digits
RECOVERY_CODE_LENGTH = 8
RECOVERY_CODE_TTL_SECONDS = 300
RECOVERY_MAX_FAILURES = 5
PING_ONE = "PING_ONE"
MAX_ATTEMPTS = 5

# last_change_kind values: who made the current password.
BY_ADMIN = "admin"
BY_SELF = "self"
BY_RECOVERY = "recovery"
USER_CHANGES = (BY_SELF, BY_RECOVERY)


@dataclass(frozen=True)
class PasswordView:
    """What a password-state body shows."""

    env_id: str
    user_id: str
    policy_id: str
    status: str
    last_changed_at: float | None
    seconds_until_unlock: int | None


@dataclass(frozen=True)
class StatusNow:
    """A user's computed status at one instant."""

    status: str
    seconds_until_unlock: int | None


def compute_status(user: UserRecord, policy: dict[str, Any], now: float) -> StatusNow:
    """Returns the status of a user's password at ``now``."""
    if user.password is None:
        return StatusNow(EXTERNAL if user.gateway_json else NO_PASSWORD, None)
    if lock_active(user, now):
        remaining = None
        if user.locked_until is not None:
            remaining = max(1, math.ceil(user.locked_until - now))
        return StatusNow(LOCKED_OUT, remaining)
    if user.must_change:
        return StatusNow(MUST_CHANGE, None)
    max_age = policy.get("maxAgeDays")
    if max_age and user.last_changed_at is not None:
        if now - user.last_changed_at >= float(max_age) * SECONDS_PER_DAY:
            return StatusNow(EXPIRED, None)
    return StatusNow(OK, None)


def lock_active(user: UserRecord, now: float) -> bool:
    """True while the password is locked: no end time, or an end time still ahead."""
    return user.locked and (user.locked_until is None or now < user.locked_until)


def clear_expired_lock(user: UserRecord, now: float) -> None:
    """Forgets a lock whose time is over, and the failures that caused it."""
    if user.locked and not lock_active(user, now):
        clear_lock(user)


def drop_password(user: UserRecord, now: float) -> None:
    """The user no longer has a PingOne password (unset, or handed to a gateway)."""
    user.password = None
    user.must_change = False
    user.last_changed_at = None
    user.last_change_kind = None
    user.updated_at = now
    clear_lock(user)


def clear_lock(user: UserRecord) -> None:
    """Removes any lock and resets the failed-check counter."""
    user.locked = False
    user.locked_until = None
    user.failure_count = 0


def profile_of(user: UserRecord) -> policies.ProfileData:
    """Returns the profile attributes ``excludesProfileData`` looks for."""
    name = json.loads(user.name_json) if user.name_json else {}
    return policies.ProfileData(
        username=user.username,
        email=user.email,
        given_name=name.get("given"),
        family_name=name.get("family"),
    )


def policy_failure(result: policies.PolicyResult, target: str) -> ApiError:
    """Returns the 400 Ping sends when a password does not satisfy the policy."""
    message = (
        "New password did not satisfy password policy requirements"
        if target == "newPassword"
        else "User password did not satisfy password policy requirements"
    )
    return invalid_data(
        detail("INVALID_VALUE", message, target, **result.inner_error()),
    )


class _Retry(Exception):
    """The stored password changed between the slow step and the write: start over."""


class PasswordService:
    """One method per password operation; the app looks it up on each request."""

    def __init__(
        self, store: Store, environment: Environment, hasher: PasswordHasher, clock: Clock
    ) -> None:
        self.store = store
        self.environment = environment
        self.hasher = hasher
        self.clock = clock

    # ------------------------------------------------------------------ helpers

    def policy_for(self, user: UserRecord) -> dict[str, Any]:
        """Returns the policy in effect for a user (every user has the default policy)."""
        return self.environment.default_policy

    def view(self, user: UserRecord, now: float | None = None) -> PasswordView:
        """Returns the password state of a user record at ``now``."""
        moment = self.clock.now() if now is None else now
        state = compute_status(user, self.policy_for(user), moment)
        return PasswordView(
            env_id=user.env_id,
            user_id=user.id,
            policy_id=self.environment.default_policy_id,
            status=state.status,
            last_changed_at=user.last_changed_at if user.password is not None else None,
            seconds_until_unlock=state.seconds_until_unlock,
        )

    def _snapshot(self, env_id: str, user_id: str) -> UserRecord:
        user = self.store.read(lambda tx: tx.get_user(env_id, user_id))
        if user is None:
            raise not_found("The user was not found.")
        return user

    def _write_user(
        self,
        env_id: str,
        user_id: str,
        change: Callable[[Transaction, UserRecord, float], T],
        expected_password: object = ...,
    ) -> T:
        """Re-reads the user in a write transaction, applies ``change``, saves, returns its result.

        With ``expected_password`` given, raises ``_Retry`` when the stored password differs.
        """

        def work(tx: Transaction) -> T:
            user = tx.get_user(env_id, user_id)
            if user is None:
                raise not_found("The user was not found.")
            if expected_password is not ... and user.password != expected_password:
                raise _Retry
            now = self.clock.now()
            result = change(tx, user, now)
            tx.save_user(user)
            return result

        return self.store.write(work)

    def _attempts(self, operation: Callable[[], T]) -> T:
        for _ in range(MAX_ATTEMPTS - 1):
            try:
                return operation()
            except _Retry:
                continue
        return operation()

    def _refuse_external_idp(self, user: UserRecord) -> None:
        if user.idp_type != PING_ONE:
            raise request_failed(
                "Users who authenticate with an external identity provider cannot perform "
                "self-service actions on passwords.",
                detail(
                    "ACCOUNT_NOT_USABLE",
                    "The user authenticates with an external identity provider.",
                ),
            )

    def _refuse_without_password(self, status: str) -> None:
        if status in (NO_PASSWORD, EXTERNAL):
            raise request_failed(
                "The user has no password.",
                detail("NO_PASSWORD", "The user has no PingOne password."),
            )

    def _refuse_locked(self, state: StatusNow) -> None:
        if state.status == LOCKED_OUT:
            inner: dict[str, Any] = {}
            if state.seconds_until_unlock is not None:
                inner["secondsUntilUnlock"] = state.seconds_until_unlock
            raise request_failed(
                "The password is locked because of too many failed attempts.",
                detail("ACCOUNT_NOT_USABLE", "The password is locked.", **inner),
            )

    def _reused(self, user: UserRecord, now: float) -> Callable[[str], bool]:
        """Returns a test for "same as the current password or one in the history"."""
        history_rule = self.policy_for(user).get("history") or {}
        count = int(history_rule.get("count", 1))
        retention = history_rule.get("retentionDays")
        entries = self.store.read(lambda tx: tx.history(user.id, count))
        candidates = [
            e.password
            for e in entries
            if retention is None or now - e.changed_at <= float(retention) * SECONDS_PER_DAY
        ]
        if user.password is not None and user.password not in candidates:
            candidates.insert(0, user.password)

        def reused(password: str) -> bool:
            return any(self.hasher.verify(stored, password) for stored in candidates)

        return reused

    def encode_for_storage(
        self,
        value: str,
        *,
        target: str,
        apply_policy: bool,
        user: UserRecord,
        current: str | None = None,
        check_history: bool = True,
    ) -> str:
        """Returns the stored form of a new password value, or raises the 400 Ping would send.

        A ``{SCHEME}`` value is validated and kept as given, never policy-checked; cleartext is
        policy-checked when ``apply_policy`` and hashed with argon2id.
        """
        try:
            pre_encoded = encodings.parse(value)
        except EncodingError:
            raise invalid_data(
                detail(
                    "INVALID_VALUE",
                    "The pre-encoded password uses an unsupported scheme or is malformed.",
                    "value",
                )
            ) from None
        if pre_encoded is not None:
            return pre_encoded.stored
        return self.hash_cleartext(
            value,
            target=target,
            apply_policy=apply_policy,
            user=user,
            current=current,
            check_history=check_history,
        )

    def hash_cleartext(
        self,
        value: str,
        *,
        target: str,
        apply_policy: bool,
        user: UserRecord,
        current: str | None = None,
        check_history: bool = True,
    ) -> str:
        """Policy-checks (when asked) and hashes a cleartext password."""
        if apply_policy:
            now = self.clock.now()
            reused = self._reused(user, now) if check_history else None
            result = policies.evaluate(
                self.policy_for(user),
                value,
                profile=profile_of(user),
                current=current,
                reused=reused,
            )
            if not result.ok:
                raise policy_failure(result, target)
        return self.hasher.hash(value)

    def _store_password(
        self,
        tx: Transaction,
        user: UserRecord,
        now: float,
        stored: str,
        *,
        must_change: bool,
        kind: str,
    ) -> None:
        user.password = stored
        user.must_change = must_change
        user.last_changed_at = now
        user.last_change_kind = kind
        user.updated_at = now
        clear_lock(user)
        tx.add_history(user.id, stored, now)

    # --------------------------------------------------------------- operations

    def read(self, env_id: str, user_id: str) -> PasswordView:
        """Read Password State."""
        return self.view(self._snapshot(env_id, user_id))

    def set(
        self,
        env_id: str,
        user_id: str,
        value: str,
        *,
        force_change: bool = False,
        bypass_policy: bool = False,
        gateway: dict[str, Any] | None = None,
    ) -> PasswordView:
        """Update Password (Set): cleartext policy-checked unless bypassed, pre-encoded as is."""

        def attempt() -> PasswordView:
            user = self._snapshot(env_id, user_id)
            stored = self.encode_for_storage(
                value, target="password", apply_policy=not bypass_policy, user=user
            )

            def change(tx: Transaction, fresh: UserRecord, now: float) -> PasswordView:
                self._store_password(
                    tx, fresh, now, stored, must_change=force_change, kind=BY_ADMIN
                )
                if gateway is not None:
                    fresh.gateway_json = json.dumps(gateway)
                return self.view(fresh, now)

            return self._write_user(env_id, user_id, change, user.password)

        return self._attempts(attempt)

    def set_value(
        self,
        env_id: str,
        user_id: str,
        value: str | None,
        *,
        force_change: bool = False,
        bypass_policy: bool = False,
    ) -> PasswordView:
        """Update Password (Set Value): like set, and without a value it unsets the password."""
        if value is not None:
            return self.set(
                env_id, user_id, value, force_change=force_change, bypass_policy=bypass_policy
            )

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            drop_password(user, now)
            return self.view(user, now)

        return self._write_user(env_id, user_id, change)

    def set_gateway(
        self, env_id: str, user_id: str, gateway: dict[str, Any] | None
    ) -> PasswordView:
        """Update Password (LDAP Gateway): the gateway becomes the password authority."""

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            user.gateway_json = json.dumps(gateway or {"id": None})
            drop_password(user, now)
            return self.view(user, now)

        return self._write_user(env_id, user_id, change)

    def reset_self(
        self, env_id: str, user_id: str, current_password: str, new_password: str
    ) -> PasswordView:
        """Update Password (Self): verifies the current password, applies the full policy."""

        def attempt() -> PasswordView:
            user = self._snapshot(env_id, user_id)
            self._refuse_external_idp(user)
            now = self.clock.now()
            state = compute_status(user, self.policy_for(user), now)
            self._refuse_without_password(state.status)
            self._refuse_locked(state)
            assert user.password is not None
            if not self.hasher.verify(user.password, current_password):
                raise invalid_data(
                    detail(
                        "INVALID_VALUE",
                        "The current password provided for the user is invalid",
                        "currentPassword",
                    )
                )
            self._refuse_too_young(user, now)
            stored = self.hash_cleartext(
                new_password,
                target="newPassword",
                apply_policy=True,
                user=user,
                current=current_password,
            )

            def change(tx: Transaction, fresh: UserRecord, moment: float) -> PasswordView:
                self._store_password(tx, fresh, moment, stored, must_change=False, kind=BY_SELF)
                return self.view(fresh, moment)

            return self._write_user(env_id, user_id, change, user.password)

        return self._attempts(attempt)

    def _refuse_too_young(self, user: UserRecord, now: float) -> None:
        min_age = self.policy_for(user).get("minAgeDays")
        if not min_age or user.last_change_kind not in USER_CHANGES:
            return
        if user.last_changed_at is not None:
            if now - user.last_changed_at < float(min_age) * SECONDS_PER_DAY:
                raise request_failed(
                    "The password cannot be changed yet.",
                    detail(
                        "PASSWORD_TOO_YOUNG",
                        f"The password was changed less than {min_age} day(s) ago.",
                        "newPassword",
                    ),
                )

    def reset_admin(self, env_id: str, user_id: str, new_password: str) -> PasswordView:
        """Update Password (Admin): no policy, MUST_CHANGE_PASSWORD, clears the lockout."""
        user = self._snapshot(env_id, user_id)
        stored = self.hash_cleartext(
            new_password, target="newPassword", apply_policy=False, user=user
        )

        def change(tx: Transaction, fresh: UserRecord, now: float) -> PasswordView:
            self._store_password(tx, fresh, now, stored, must_change=True, kind=BY_ADMIN)
            return self.view(fresh, now)

        return self._write_user(env_id, user_id, change)

    def check(self, env_id: str, user_id: str, password: str) -> PasswordView:
        """Password Check: 200 with the state when it matches; each failure counts to lockout."""

        def attempt() -> PasswordView:
            user = self._snapshot(env_id, user_id)
            self._refuse_external_idp(user)
            state = compute_status(user, self.policy_for(user), self.clock.now())
            self._refuse_without_password(state.status)
            self._refuse_locked(state)
            assert user.password is not None
            matches = self.hasher.verify(user.password, password)
            if matches and user.failure_count == 0 and not user.locked:
                # Nothing to record (no failures to reset, no lock to lift): the check takes
                # effect at the snapshot, so it needs no write transaction.
                return self.view(user)
            outcome = self._write_user(env_id, user_id, self._count_check(matches), user.password)
            if isinstance(outcome, ApiError):
                raise outcome
            return outcome

        return self._attempts(attempt)

    def _count_check(
        self, matches: bool
    ) -> Callable[[Transaction, UserRecord, float], PasswordView | ApiError]:
        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView | ApiError:
            clear_expired_lock(user, now)
            state = compute_status(user, self.policy_for(user), now)
            if state.status == LOCKED_OUT:
                try:
                    self._refuse_locked(state)
                except ApiError as refusal:
                    return refusal
            if matches:
                user.failure_count = 0
                return self.view(user, now)
            inner: dict[str, Any] = {}
            lockout = self.policy_for(user).get("lockout")
            if lockout:
                limit = int(lockout["failureCount"])
                user.failure_count += 1
                if user.failure_count >= limit:
                    user.locked = True
                    duration = lockout.get("durationSeconds")
                    user.locked_until = now + float(duration) if duration else None
                inner["failuresRemaining"] = max(0, limit - user.failure_count)
            return invalid_data(
                detail(
                    "INVALID_VALUE",
                    "The provided password did not match provisioned password",
                    "password",
                    **inner,
                )
            )

        return change

    def send_recovery_code(self, env_id: str, user_id: str) -> PasswordView:
        """Password (Re)send Recovery Code: a new 8-character code, valid 5 minutes."""
        code = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            self._refuse_external_idp(user)
            clear_expired_lock(user, now)
            state = compute_status(user, self.policy_for(user), now)
            if not user.enabled:
                raise request_failed(
                    "A recovery code cannot be sent to a disabled user.",
                    detail("ACCOUNT_NOT_USABLE", "The user is disabled."),
                )
            self._refuse_without_password(state.status)
            if state.status == LOCKED_OUT:
                raise request_failed(
                    "A recovery code cannot be sent while the password is locked.",
                    detail("ACCOUNT_NOT_USABLE", "The password is locked."),
                )
            user.recovery_code = code
            user.recovery_issued_at = now
            user.recovery_failures = 0
            return self.view(user, now)

        return self._write_user(env_id, user_id, change)

    def recover(
        self, env_id: str, user_id: str, recovery_code: str, new_password: str
    ) -> PasswordView:
        """Password Recover: a valid code and a policy-satisfying new password; status OK."""

        def attempt() -> PasswordView:
            checked = self._write_user(env_id, user_id, self._count_recovery(recovery_code))
            if isinstance(checked, ApiError):
                raise checked
            user = checked
            stored = self.hash_cleartext(
                new_password, target="newPassword", apply_policy=True, user=user
            )

            def change(tx: Transaction, fresh: UserRecord, now: float) -> PasswordView:
                if fresh.recovery_code != user.recovery_code:
                    raise _Retry
                self._store_password(tx, fresh, now, stored, must_change=False, kind=BY_RECOVERY)
                fresh.recovery_code = None
                fresh.recovery_issued_at = None
                fresh.recovery_failures = 0
                return self.view(fresh, now)

            return self._write_user(env_id, user_id, change, user.password)

        return self._attempts(attempt)

    def _count_recovery(
        self, given: str
    ) -> Callable[[Transaction, UserRecord, float], UserRecord | ApiError]:
        def change(tx: Transaction, user: UserRecord, now: float) -> UserRecord | ApiError:
            self._refuse_external_idp(user)
            if not user.enabled:
                raise request_failed(
                    "A disabled user cannot recover a password.",
                    detail("ACCOUNT_NOT_USABLE", "The user is disabled."),
                )
            clear_expired_lock(user, now)
            self._refuse_without_password(compute_status(user, self.policy_for(user), now).status)
            if user.recovery_code is not None and user.recovery_failures >= RECOVERY_MAX_FAILURES:
                return request_failed(
                    "Maximum password recovery failures exceeded",
                    detail(
                        "INVALID_OTP", "Maximum password recovery failures exceeded", "recoveryCode"
                    ),
                )
            invalid = invalid_data(
                detail(
                    "INVALID_VALUE", "The recovery code is invalid or has expired", "recoveryCode"
                )
            )
            if user.recovery_code is None or user.recovery_issued_at is None:
                return invalid
            if now - user.recovery_issued_at > RECOVERY_CODE_TTL_SECONDS:
                return invalid
            if hmac.compare_digest(
                given.upper().encode("utf-8"), user.recovery_code.upper().encode("utf-8")
            ):
                return UserRecord(**vars(user))
            user.recovery_failures += 1
            if user.recovery_failures >= RECOVERY_MAX_FAILURES:
                lockout = self.policy_for(user).get("lockout") or {}
                duration = lockout.get("durationSeconds")
                user.locked = True
                user.locked_until = now + float(duration) if duration else None
                return request_failed(
                    "Maximum password recovery failures exceeded",
                    detail(
                        "INVALID_OTP", "Maximum password recovery failures exceeded", "recoveryCode"
                    ),
                )
            return invalid

        return change

    def force_change(self, env_id: str, user_id: str) -> PasswordView:
        """Password Force Change: MUST_CHANGE_PASSWORD, same password, lock cleared."""

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            self._refuse_without_password(compute_status(user, self.policy_for(user), now).status)
            user.must_change = True
            user.updated_at = now
            clear_lock(user)
            return self.view(user, now)

        return self._write_user(env_id, user_id, change)

    def unlock(self, env_id: str, user_id: str) -> PasswordView:
        """Password Unlock: clears the lockout and the failed-check counter."""

        def change(tx: Transaction, user: UserRecord, now: float) -> PasswordView:
            clear_lock(user)
            user.updated_at = now
            return self.view(user, now)

        return self._write_user(env_id, user_id, change)

    def latest_recovery_code(self, env_id: str, user_id: str) -> str | None:
        """Returns the user's current recovery code (test routes only)."""
        return self._snapshot(env_id, user_id).recovery_code
