"""Users of the environment: create (and import with a password), list with a filter, read, delete.

Usernames are unique per environment, compared case-insensitively, and the list filter
compares them the same way.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from reference.errors import detail, invalid_data, not_found
from reference.passwords import LOCKED_OUT, PING_ONE, PasswordService, compute_status
from reference.store import UserRecord

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FILTER_PATTERN = re.compile(
    r'^\s*username\s+(sw|eq)\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class UserView:
    """What a user body shows (never the password)."""

    record: UserRecord
    locked: bool


@dataclass(frozen=True)
class UserPage:
    """One page of a user list: the users shown and how many matched."""

    users: list[UserView]
    count: int


@dataclass(frozen=True)
class UsernameFilter:
    """A parsed ``filter``: ``username eq "x"`` or ``username sw "x"``."""

    operator: str
    value: str


def parse_filter(text: str) -> UsernameFilter:
    """Parses the supported filters; anything else is 400 INVALID_DATA / INVALID_FILTER."""
    match = FILTER_PATTERN.match(text)
    if match is None:
        raise invalid_data(
            detail(
                "INVALID_FILTER",
                'Only the filters username eq "value" and username sw "value" are supported.',
                "filter",
            )
        )
    value = re.sub(r"\\(.)", r"\1", match.group(2))
    return UsernameFilter(match.group(1).lower(), value)


def parse_limit(text: str | None) -> int:
    """Parses ``limit`` (1..1000, default 100); anything else is 400 INVALID_DATA."""
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise invalid_data(
            detail("INVALID_PARAMETER", f"limit must be an integer from 1 to {MAX_LIMIT}.", "limit")
        )
    return int(text)


class UserService:
    """User operations; password work is delegated to the PasswordService."""

    def __init__(self, passwords: PasswordService) -> None:
        self.passwords = passwords

    @property
    def store(self) -> Any:
        """Returns the store the password service uses."""
        return self.passwords.store

    def view(self, user: UserRecord) -> UserView:
        """Returns the body view of a user record now."""
        policy = self.passwords.policy_for(user)
        status = compute_status(user, policy, self.passwords.clock.now()).status
        return UserView(user, status == LOCKED_OUT)

    def create(self, env_id: str, body: dict[str, Any], *, allow_password: bool) -> UserView:
        """Creates a user; with ``allow_password`` (the import media type) also its password."""
        now = self.passwords.clock.now()
        environment = self.passwords.environment
        name = body.get("name")
        provider = body.get("identityProvider") or {}
        population = body.get("population") or {}
        record = UserRecord(
            id=str(uuid.uuid4()),
            env_id=env_id,
            username=body["username"],
            username_key=body["username"].casefold(),
            email=body.get("email"),
            name_json=json.dumps(name) if name else None,
            enabled=bool(body.get("enabled", True)),
            idp_type=provider.get("type", PING_ONE),
            idp_id=provider.get("id"),
            population_id=population.get("id", environment.default_population_id),
            created_at=now,
            updated_at=now,
        )
        self._refuse_taken(env_id, record.username_key)
        password = body.get("password") if allow_password else None
        stored = None
        if password and "value" in password:
            stored = self.passwords.encode_for_storage(
                password["value"],
                target="password",
                apply_policy=True,
                user=record,
                check_history=False,
            )
            record.password = stored
            record.must_change = bool(password.get("forceChange", False))
            record.last_changed_at = now
            record.last_change_kind = "admin"
        gateway = ((password or {}).get("external") or {}).get("gateway")
        if gateway is not None:
            record.gateway_json = json.dumps(gateway)

        def insert(tx: Any) -> None:
            if tx.username_taken(env_id, record.username_key):
                raise _uniqueness_violation()
            tx.insert_user(record)
            if stored is not None:
                tx.add_history(record.id, stored, now)

        self.store.write(insert)
        return self.view(record)

    def _refuse_taken(self, env_id: str, username_key: str) -> None:
        if self.store.read(lambda tx: tx.username_taken(env_id, username_key)):
            raise _uniqueness_violation()

    def get(self, env_id: str, user_id: str) -> UserView:
        """Returns one user, or 404."""
        user = self.store.read(lambda tx: tx.get_user(env_id, user_id))
        if user is None:
            raise not_found("The user was not found.")
        return self.view(user)

    def list(self, env_id: str, filter_text: str | None, limit: int) -> UserPage:
        """Returns the users matching the filter, at most ``limit`` of them."""
        eq = prefix = None
        if filter_text is not None:
            parsed = parse_filter(filter_text)
            if parsed.operator == "eq":
                eq = parsed.value.casefold()
            else:
                prefix = parsed.value.casefold()
        records = self.store.read(
            lambda tx: tx.list_users(env_id, username_eq=eq, username_prefix=prefix)
        )
        return UserPage([self.view(r) for r in records[:limit]], len(records))

    def delete(self, env_id: str, user_id: str) -> None:
        """Deletes a user and their password history, or 404."""
        if not self.store.write(lambda tx: tx.delete_user(env_id, user_id)):
            raise not_found("The user was not found.")


def _uniqueness_violation() -> Any:
    return invalid_data(
        detail("UNIQUENESS_VIOLATION", "username must be unique in the environment", "username")
    )
