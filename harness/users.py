"""Users under test: created with a recognisable username, always deleted afterwards.

Usernames are `p1conf-<run id>-<n>`. A run deletes the users it created when each test ends,
whether the test passed or not, and once more at session end for anything left over. At
session start it deletes stale leftovers of earlier, interrupted runs, and only those: a user is
stale when its username has the prefix AND the target says it was created more than two hours
ago, so a concurrent run on a shared tenant is never touched.
"""

from __future__ import annotations

import email.utils
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import allure
import requests

from harness.client import ApiClient
from harness.passwords import PasswordBook, PasswordPolicy, PolicyBook

USERNAME_PREFIX = "p1conf-"
# The name every user under test gets; with the username it is the user's profile data.
GIVEN_NAME = "Conformance"
FAMILY_NAME = "Suite"
IMPORT_MEDIA_TYPE = "application/vnd.pingidentity.user.import+json"
STALE_AFTER = timedelta(hours=2)
MAX_LISTED_PAGES = 50


class UserSetupError(Exception):
    """The target refused to create or prepare a user under test (a setup problem, not a test)."""


def new_run_id(now: datetime | None = None) -> str:
    """A short id, unique per run: UTC time to the second plus random hex."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class UserUnderTest:
    """A user this run created; `password` is its current password when one was set."""

    id: str
    username: str
    policy: PasswordPolicy | None = None
    password: str | None = field(default=None, repr=False)
    force_change: bool = False


class UserRegistry:
    """Every user this run created and has not deleted yet; creates, deletes and sweeps."""

    def __init__(
        self,
        api: ApiClient,
        policies: PolicyBook,
        passwords: PasswordBook,
        run_id: str,
    ) -> None:
        self._api = api
        self._policies = policies
        self._passwords = passwords
        self.run_id = run_id
        self._lock = threading.Lock()
        self._counter = 0
        self._live: dict[str, UserUnderTest] = {}
        self.created = 0
        self.deleted = 0

    @property
    def prefix(self) -> str:
        """The username prefix of this run's users."""
        return f"{USERNAME_PREFIX}{self.run_id}-"

    @property
    def live(self) -> list[UserUnderTest]:
        """Users created and not yet deleted."""
        with self._lock:
            return list(self._live.values())

    def create(
        self,
        password: str | None = None,
        force_change: bool = False,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> UserUnderTest:
        """Create a user; with `password` "valid", also set a policy-conformant password.

        The password is set with the set operation (`forceChange` as given) and must answer 200.
        `extra_fields` go into the create body as they are (a user variant: `identityProvider`
        for a user of an external identity provider, `enabled: false` for a disabled one).
        """
        username = self.next_username()
        body = {**self._profile(username), **(extra_fields or {})}
        response = self._api.post_json(self._api.env_url("users"), body)
        if response.status_code not in (200, 201):
            raise UserSetupError(self._explain("creating a user under test", response.status_code))
        user = self._track(response, username)
        if user is None:
            raise UserSetupError("creating a user under test answered without a user id")
        if password is not None:
            self.set_password(user, password, force_change)
        return user

    def next_username(self) -> str:
        """The username the next user of this run gets."""
        with self._lock:
            self._counter += 1
            return f"{self.prefix}{self._counter}"

    def import_user(
        self, username: str, password: dict[str, Any]
    ) -> tuple[UserUnderTest | None, requests.Response]:
        """Import a user with a `password` sub-object (the user.import+json media type).

        Returns the user (tracked for deletion; None when the target created none) and the
        answer, whatever its status: the import itself is what the caller checks.
        """
        body = {**self._profile(username), "password": password}
        response = self._api.request(
            "POST", self._api.env_url("users"), json_body=body, content_type=IMPORT_MEDIA_TYPE
        )
        user = self._track(response, username) if response.status_code in (200, 201) else None
        return user, response

    def default_policy(self) -> PasswordPolicy:
        """The environment's default password policy (a user about to be imported has it)."""
        return self._policies.default()

    @staticmethod
    def _profile(username: str) -> dict[str, Any]:
        return {
            "username": username,
            "email": f"{username}@example.com",
            "name": {"given": GIVEN_NAME, "family": FAMILY_NAME},
        }

    def _track(self, response: requests.Response, username: str) -> UserUnderTest | None:
        try:
            created = response.json()
        except ValueError:
            return None
        user_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(user_id, str) or not user_id:
            return None
        user = UserUnderTest(id=user_id, username=username)
        with self._lock:
            self._live[user_id] = user
            self.created += 1
        return user

    def adopt(self, user_id: str, username: str) -> UserUnderTest:
        """Track a user created by other means (a generated request) so that it is deleted."""
        user = UserUnderTest(id=user_id, username=username)
        with self._lock:
            if user_id not in self._live:
                self._live[user_id] = user
                self.created += 1
        return user

    def _explain(self, what: str, status: int) -> str:
        exchange = self._api.last_exchange()
        detail = f"\n{exchange.summary()}" if exchange is not None else ""
        return f"{what} answered HTTP {status}{detail}"

    def policy_of(self, user: UserUnderTest) -> PasswordPolicy:
        """The user's password policy, read from the target once per user."""
        if user.policy is None:
            user.policy = self._policies.for_user(user.id)
        return user.policy

    def set_password(self, user: UserUnderTest, kind: str, force_change: bool) -> None:
        """Give the user a new password of `kind` ("valid") through the set operation."""
        if kind != "valid":
            raise ValueError(f"unknown password kind {kind!r} (known: valid)")
        value = self._passwords.valid(self.policy_of(user))
        response = self._api.password_operation(
            user.id, "set", {"value": value, "forceChange": force_change}
        )
        if response.status_code != 200:
            raise UserSetupError(
                self._explain("setting the password of a user under test", response.status_code)
            )
        user.password = value
        user.force_change = force_change

    def username_of(self, user_id: str) -> str:
        """The username of a live user of this run (its id when it is not known)."""
        with self._lock:
            user = self._live.get(user_id)
        return user.username if user is not None else user_id

    def delete(self, user_id: str) -> bool:
        """Delete a user; True when it is gone (204, or 404 because it already was)."""
        response = self._api.delete(self._api.user_url(user_id))
        gone = response.status_code in (200, 204, 404)
        if gone:
            with self._lock:
                if self._live.pop(user_id, None) is not None:
                    self.deleted += 1
        return gone

    def delete_all(self) -> list[str]:
        """Delete every live user of this run; returns the ids that could not be deleted."""
        failed = []
        for user in self.live:
            try:
                if not self.delete(user.id):
                    failed.append(user.id)
            except Exception:  # noqa: BLE001 - keep deleting the others; report the id
                failed.append(user.id)
        return failed

    def delete_untracked(self) -> int:
        """Delete users with this run's own prefix that the run lost track of; returns how many.

        A run interrupted between the target's answer to a user creation and the registry
        noting it leaves a user no list holds; the username (`p1conf-<run id>-…`) still says
        whose it is.
        """
        removed = 0
        known = {user.id for user in self.live}
        for user, _now in self._listed_with_prefix():
            user_id = user.get("id")
            if not str(user.get("username", "")).startswith(self.prefix):
                continue
            if isinstance(user_id, str) and user_id not in known and self.delete_foreign(user_id):
                removed += 1
        return removed

    def delete_stale(self, older_than: timedelta = STALE_AFTER) -> int:
        """Delete leftovers of earlier runs: prefix match AND created longer ago than that.

        "Now" is the target's own clock (the `Date` header of the list answer) when it sends
        one, so a skewed local clock cannot make a fresh user look stale.
        """
        removed = 0
        for user, now in self._listed_with_prefix():
            username = str(user.get("username", ""))
            if username.startswith(self.prefix):
                continue
            created_at = parse_timestamp(user.get("createdAt"))
            if created_at is None or now - created_at <= older_than:
                continue
            if isinstance(user.get("id"), str) and self.delete_foreign(user["id"]):
                removed += 1
        return removed

    def delete_foreign(self, user_id: str) -> bool:
        """Delete a stale user of an earlier run (not tracked as this run's)."""
        response = self._api.delete(self._api.user_url(user_id))
        return response.status_code in (200, 204, 404)

    def _listed_with_prefix(self) -> Iterator[tuple[dict[str, Any], datetime]]:
        url: str | None = self._api.env_url("users")
        params: dict[str, str] | None = {"filter": f'username sw "{USERNAME_PREFIX}"'}
        for _ in range(MAX_LISTED_PAGES):
            if url is None:
                return
            response = self._api.get(url, params=params)
            if response.status_code != 200:
                return
            now = server_time(response.headers.get("Date"))
            page = response.json()
            for user in _embedded_users(page):
                if str(user.get("username", "")).startswith(USERNAME_PREFIX):
                    yield user, now
            url = _next_link(page)
            params = None


def server_time(date_header: str | None) -> datetime:
    """The time an HTTP `Date` header states, or the local UTC time without one."""
    if date_header:
        try:
            moment = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime, or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _embedded_users(page: Any) -> list[dict[str, Any]]:
    embedded = page.get("_embedded") if isinstance(page, dict) else None
    users = embedded.get("users") if isinstance(embedded, dict) else None
    return [u for u in users if isinstance(u, dict)] if isinstance(users, list) else []


def _next_link(page: Any) -> str | None:
    links = page.get("_links") if isinstance(page, dict) else None
    following = links.get("next") if isinstance(links, dict) else None
    href = following.get("href") if isinstance(following, dict) else None
    return href if isinstance(href, str) and href else None


class UserFactory:
    """Per-test users: made on demand, deleted when the test ends (passed or not)."""

    def __init__(self, registry: UserRegistry) -> None:
        self._registry = registry
        self._mine: list[str] = []

    def create(
        self,
        password: str | None = None,
        force_change: bool = False,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> UserUnderTest:
        """A new user under test; `password="valid"` also sets a policy-conformant password.

        `extra_fields` are more create-user body fields (see `UserRegistry.create`).
        """
        user = self._registry.create(password=None, extra_fields=extra_fields)
        self._mine.append(user.id)
        if password is not None:
            self._registry.set_password(user, password, force_change)
        return user

    def policy_of(self, user: UserUnderTest) -> PasswordPolicy:
        """The user's password policy as the target reports it."""
        return self._registry.policy_of(user)

    def next_username(self) -> str:
        """The username the next user of this run gets (for an import)."""
        return self._registry.next_username()

    def default_policy(self) -> PasswordPolicy:
        """The environment's default password policy."""
        return self._registry.default_policy()

    def import_user(
        self, username: str, password: dict[str, Any]
    ) -> tuple[UserUnderTest | None, requests.Response]:
        """Import a user with a password; it is deleted when the test ends."""
        user, response = self._registry.import_user(username, password)
        if user is not None:
            self._mine.append(user.id)
        return user, response

    def cleanup(self) -> list[str]:
        """Delete this test's users, each as a named step; returns the ids not deleted."""
        failed = []
        for user_id in self._mine:
            with allure.step(f"delete user {self._registry.username_of(user_id)}"):
                try:
                    if not self._registry.delete(user_id):
                        failed.append(user_id)
                except Exception:  # noqa: BLE001 - delete the rest; the session sweep retries
                    failed.append(user_id)
        self._mine.clear()
        return failed
