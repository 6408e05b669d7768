"""The password model the stateful property runs hold a target to, one user at a time.

It is deliberately small: it knows only what each answer states and what the docs let it infer,
and it stays silent where a server may make another valid choice (a lockout that expires, a
policy that counts differently). After every step `observe` returns the invariants broken:

- the status Read reports is the status the last operation implied (set, force change, unlock
  and check answers carry it; a failed check that reports no failures left implies a lockout);
- `lastChangedAt` never moves backwards;
- a locked password never checks OK;
- `failuresRemaining` never rises without a success (a right check, a new password) or unlock.
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
    history: list[str] = field(default_factory=list)

    def _lock_expired(self) -> bool:
        return self.locked_until is not None and self.clock() >= self.locked_until

    def observe(self, operation: str, status_code: int, body: Any) -> list[str]:
        """Take one answer into the model; returns the invariants it breaks (empty: none)."""
        self.history.append(f"{operation} → {status_code}")
        broken: list[str] = []
        state = body.get("status") if isinstance(body, dict) else None
        if self.implied == LOCKED and self._lock_expired():
            self.implied, self.locked_until = None, None
        broken += self._last_changed(body)
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
            if remaining == 0:
                self.implied, self.locked_until = LOCKED, None
        if locked_reason(body):
            self.implied = LOCKED
        elif remaining is None and self.implied != LOCKED:
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
