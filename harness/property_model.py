"""The password model the stateful property runs hold a target to, one user at a time.

It is deliberately small: it knows only what each answer states and what the docs let it infer,
and it stays silent where a server may make another valid choice (a lockout that expires, a
policy that counts differently). After every step `observe` returns the invariants broken:

- the status Read reports is the status the last operation implied (set, force change, unlock
  and check answers carry it; a failed check that reports no failures left implies a lockout);
- `lastChangedAt` never moves backwards;
- a locked password never checks OK;
- `failuresRemaining` never rises without a success (a right check, a new password) or unlock;
- where the number of failed checks is known (a new user has none, an unlock clears them, as
  the unlock page says, and a read or a recovery-code request leaves them), each counted failure
  reports the policy's `lockout.failureCount` minus that number, the countdown the behaviour
  suite holds every target to (P1-CHECK-009). Anything that may or may not count or clear a
  failure elsewhere (a wrong current password, a failed recovery, a change of password while
  failures are counted, an expired lock) makes the number unknown until the next unlock.
(No response echoing a sent password is `harness.property_checks.pingone_no_secret_echo`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.users import parse_timestamp

LOCKED = "PASSWORD_LOCKED_OUT"
# Operations after whose success a failure counter may start again. A force change may clear a
# lock (and its count) too: the docs leave it open, and the reference does.
RESETS_COUNTER = frozenset(
    {
        "check",
        "set",
        "setValue",
        "setGateway",
        "resetSelf",
        "resetAdmin",
        "recover",
        "unlock",
        "forceChange",
    }
)
# Operations that change the password state; their answer (or the next Read) says how.
CHANGES_STATE = RESETS_COUNTER
# Answers that leave the number of failed checks as it was, whatever they say.
KEEPS_FAILURES = frozenset({"read", "sendRecoveryCode"})
# Refusals that a server may count as a failed attempt (a wrong current password, a wrong code).
MAY_COUNT_A_FAILURE = frozenset({"resetSelf", "recover"})


def failures_remaining(body: Any) -> int | None:
    """The smallest `details[].innerError.failuresRemaining` of an error body, if any."""
    found = []
    for detail in body.get("details", []) if isinstance(body, dict) else []:
        inner = detail.get("innerError") if isinstance(detail, dict) else None
        value = inner.get("failuresRemaining") if isinstance(inner, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(value)
    return min(found) if found else None


def locked_reason(body: Any) -> bool:
    """True when a 400 body says the password is locked (ACCOUNT_NOT_USABLE with a lock)."""
    for detail in body.get("details", []) if isinstance(body, dict) else []:
        if isinstance(detail, dict) and detail.get("code") == "ACCOUNT_NOT_USABLE":
            inner = detail.get("innerError")
            if isinstance(inner, dict) and "secondsUntilUnlock" in inner:
                return True
    return False


@dataclass
class PasswordModel:
    """What one user's password state must be, as far as the answers so far imply."""

    clock: Callable[[], float] = time.monotonic
    implied: str | None = None
    locked_until: float | None = None
    last_changed: str | None = None
    remaining: int | None = None
    # The policy's lockout.failureCount (None: no lockout, or not known), and the failed checks
    # counted since the count was last known to be zero (None: not known).
    failure_limit: int | None = None
    known_failures: int | None = 0
    history: list[str] = field(default_factory=list)

    def _lock_expired(self) -> bool:
        return self.locked_until is not None and self.clock() >= self.locked_until

    def observe(self, operation: str, status_code: int, body: Any) -> list[str]:
        """Take one answer into the model; returns the invariants it breaks (empty: none)."""
        self.history.append(f"{operation} → {status_code}")
        broken: list[str] = []
        state = body.get("status") if isinstance(body, dict) else None
        if self.implied == LOCKED and self._lock_expired():
            # Whether an expired lock also forgets its failures is the server's choice.
            self.implied, self.locked_until, self.known_failures = None, None, None
        broken += self._last_changed(body)
        self._count_known(operation, status_code)
        if operation == "read" and status_code == 200 and isinstance(state, str):
            if self.implied is not None and state != self.implied:
                broken.append(
                    f"Read reports {state}, but the operations so far imply {self.implied} "
                    f"(sequence: {', '.join(self.history)})"
                )
            self._set_implied(state, body)
            return broken
        if operation == "check" and status_code == 200 and self.implied == LOCKED:
            broken.append(f"a locked password checked OK (sequence: {', '.join(self.history)})")
        if 200 <= status_code < 300:
            if operation in RESETS_COUNTER:
                self.remaining = None
            if operation in CHANGES_STATE:
                self._set_implied(state if isinstance(state, str) else None, body)
            return broken
        if status_code == 400 and operation == "check":
            broken += self._counter(body)
        return broken

    def _count_known(self, operation: str, status_code: int) -> None:
        """What this answer does to the number of failed checks known so far."""
        if operation in KEEPS_FAILURES or (operation == "check" and status_code == 400):
            return  # a failed check is counted in _counter, from what its answer says
        if 200 <= status_code < 300 and operation == "unlock":
            self.known_failures = 0
        elif 200 <= status_code < 300:
            # A success adds no failure; whether it clears counted ones is not documented.
            if self.known_failures != 0:
                self.known_failures = None
        elif operation in MAY_COUNT_A_FAILURE:
            self.known_failures = None

    def _countdown(self, remaining: int) -> list[str]:
        """A counted failure reports failureCount minus the failures known, when both are."""
        if self.known_failures is None:
            return []
        self.known_failures += 1
        if self.failure_limit is None:
            return []
        wanted = max(0, self.failure_limit - self.known_failures)
        if remaining == wanted:
            return []
        return [
            f"failuresRemaining {remaining}, but {self.known_failures} failed check(s) since the "
            f"count was last zero leave {wanted} of the policy's lockout.failureCount "
            f"{self.failure_limit} (sequence: {', '.join(self.history)})"
        ]

    def _set_implied(self, state: str | None, body: Any) -> None:
        self.implied = state
        self.locked_until = None
        if state == LOCKED:
            seconds = body.get("secondsUntilUnlock") if isinstance(body, dict) else None
            if isinstance(seconds, int) and not isinstance(seconds, bool):
                self.locked_until = self.clock() + seconds

    def _counter(self, body: Any) -> list[str]:
        broken = []
        remaining = failures_remaining(body)
        if remaining is not None:
            if self.remaining is not None and remaining > self.remaining:
                broken.append(
                    f"failuresRemaining rose from {self.remaining} to {remaining} with no success "
                    f"or unlock in between (sequence: {', '.join(self.history)})"
                )
            self.remaining = remaining
            broken += self._countdown(remaining)
            if remaining == 0:
                self.implied, self.locked_until = LOCKED, None
        if locked_reason(body):
            self.implied = LOCKED
        elif remaining is None:
            # Counted or not, the answer does not say: the number is no longer known.
            self.known_failures = None
            if self.implied != LOCKED:
                # A 400 without a count may or may not have locked the password: say nothing.
                self.implied = None
        return broken

    def _last_changed(self, body: Any) -> list[str]:
        value = body.get("lastChangedAt") if isinstance(body, dict) else None
        if not isinstance(value, str):
            return []
        previous = self.last_changed
        moment, before = parse_timestamp(value), parse_timestamp(previous)
        if moment is not None and before is not None and moment < before:
            return [
                f"lastChangedAt moved backwards from {previous} to {value} "
                f"(sequence: {', '.join(self.history)})"
            ]
        self.last_changed = value
        return []
