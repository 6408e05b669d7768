"""Passwords that satisfy the target's password policy, and distinct wrong ones.

The policy is read from the target (`passwordPolicy.id` → `GET /passwordPolicies/{id}`, or the
environment's default policy), never assumed. Every password made here is registered with
redaction the moment it exists.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from harness.client import ApiClient
from harness.redaction import Redactor

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
SPECIAL = "~!@#$%^&*()-_=+[]{}|;:,.<>/?"

# Rows that sequence rules look for. When a policy names a sequence rule, runs longer than its
# maxLength are avoided; when it does not, runs of 3 are avoided anyway (strictest documented).
SEQUENCE_ROWS: dict[str, tuple[str, ...]] = {
    "alphabetSequenceRule": (LOWER,),
    "numberSequenceRule": (DIGITS,),
    "qwertySequenceRule": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    "shiftedNumberRowSequenceRule": ("!@#$%^&*()",),
}
DEFAULT_SEQUENCE_LIMIT = 2
# A cleartext password must not start like `{SCHEME}`: set would take it as pre-encoded.
PRE_ENCODED_PREFIX = re.compile(r"^\{[A-Za-z0-9_-]*\}")
PREFERRED_LENGTH = 20
ABSOLUTE_MAX_LENGTH = 255


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules of one password policy that password generation and lockout cases need."""

    id: str | None
    name: str | None
    min_length: int
    max_length: int
    min_characters: dict[str, int]
    max_repeated: int | None
    min_unique: int | None
    lockout_failure_count: int | None
    sequence_limits: dict[str, int]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> PasswordPolicy:
        """Read a policy resource as `GET /passwordPolicies/{id}` returns it."""
        length = _object(document.get("length"))
        min_characters = {
            str(charset): int(count)
            for charset, count in (document.get("minCharacters") or {}).items()
            if isinstance(count, int) and count > 0
        }
        lockout = _object(document.get("lockout"))
        failures = lockout.get("failureCount")
        limits = {}
        for rule in SEQUENCE_ROWS:
            spec = document.get(rule)
            if isinstance(spec, dict) and isinstance(spec.get("maxLength"), int):
                limits[rule] = int(spec["maxLength"])
        return cls(
            id=document.get("id") if isinstance(document.get("id"), str) else None,
            name=document.get("name") if isinstance(document.get("name"), str) else None,
            min_length=int(length.get("min", 1)),
            max_length=int(length.get("max", ABSOLUTE_MAX_LENGTH)),
            min_characters=min_characters,
            max_repeated=_optional_int(document.get("maxRepeatedCharacters")),
            min_unique=_optional_int(document.get("minUniqueCharacters")),
            lockout_failure_count=failures if isinstance(failures, int) else None,
            sequence_limits=limits,
            raw=dict(document),
        )

    def violations(self, password: str) -> list[str]:
        """The rules (of those this model knows) that `password` breaks; empty when it passes."""
        broken = []
        if not self.min_length <= len(password) <= self.max_length:
            broken.append("length")
        for charset, count in self.min_characters.items():
            if sum(1 for c in password if c in charset) < count:
                broken.append("minCharacters")
        if self.max_repeated is not None and _longest_repeat(password) > self.max_repeated:
            broken.append("maxRepeatedCharacters")
        if self.min_unique is not None and len(set(password)) < self.min_unique:
            broken.append("minUniqueCharacters")
        for rule, rows in SEQUENCE_ROWS.items():
            limit = self.sequence_limits.get(rule, DEFAULT_SEQUENCE_LIMIT)
            if _longest_sequence(password, rows) > limit:
                broken.append(rule)
        return broken


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _longest_repeat(text: str) -> int:
    longest = run = 0
    previous = None
    for char in text:
        run = run + 1 if char == previous else 1
        previous = char
        longest = max(longest, run)
    return longest


def _longest_sequence(text: str, rows: tuple[str, ...]) -> int:
    """The longest run of consecutive row neighbours, ascending or descending, case-folded."""
    folded = text.lower()
    longest = 1 if text else 0
    for row in rows:
        for direction in (row, row[::-1]):
            run = 1
            for previous, char in zip(folded, folded[1:], strict=False):
                index = direction.find(previous)
                if index >= 0 and index + 1 < len(direction) and direction[index + 1] == char:
                    run += 1
                else:
                    run = 1
                longest = max(longest, run)
    return longest


def looks_pre_encoded(password: str) -> bool:
    """True when a value starts like a pre-encoded `{SCHEME}…` one (a server would not hash it)."""
    return bool(PRE_ENCODED_PREFIX.match(password))


class PasswordBook:
    """Makes passwords for policies, remembers every one, and registers each with redaction."""

    def __init__(self, redactor: Redactor, rng: random.Random | None = None) -> None:
        self._redactor = redactor
        self._rng = rng or secrets.SystemRandom()
        self._made: set[str] = set()

    @property
    def count(self) -> int:
        """How many passwords were made in this run."""
        return len(self._made)

    def register(self, value: str) -> str:
        """Remember a password made elsewhere (a violation, an encoding) and redact it."""
        self._made.add(value)
        self._redactor.register(value)
        return value

    def valid(self, policy: PasswordPolicy) -> str:
        """A new password that satisfies `policy` and differs from every one made before."""
        return self._new(policy)

    def wrong(self, policy: PasswordPolicy) -> str:
        """A new password that is not any user's password here: policy-shaped, never reused.

        It satisfies the policy too, so a server cannot tell it from a right one by its shape.
        """
        return self._new(policy)

    def _new(self, policy: PasswordPolicy) -> str:
        # A value starting with "{" could read as a pre-encoded `{SCHEME}…` value; never make one.
        for _ in range(1000):
            candidate = self._candidate(policy)
            if (
                candidate not in self._made
                and not policy.violations(candidate)
                and not looks_pre_encoded(candidate)
            ):
                self._made.add(candidate)
                self._redactor.register(candidate)
                return candidate
        raise ValueError(
            f"could not make a password for policy {policy.name or policy.id!r}: "
            "its length and character rules contradict each other"
        )

    def _candidate(self, policy: PasswordPolicy) -> str:
        required = sum(policy.min_characters.values())
        length = max(policy.min_length, PREFERRED_LENGTH, required, policy.min_unique or 0)
        length = min(length, policy.max_length)
        charsets = list(policy.min_characters) or [UPPER, LOWER, DIGITS, SPECIAL]
        chars = [
            self._rng.choice(charset)
            for charset, count in policy.min_characters.items()
            for _ in range(count)
        ]
        pool = "".join(dict.fromkeys("".join(charsets)))
        while len(chars) < length:
            chars.append(self._rng.choice(pool))
        self._rng.shuffle(chars)
        return "".join(chars)


class PolicyBook:
    """The target's password policies, read once and looked up by id, default, or user."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api
        self._by_id: dict[str, PasswordPolicy] = {}
        self._default: PasswordPolicy | None = None

    def load(self, documents: list[dict[str, Any]]) -> None:
        """Remember the policies of a `GET /passwordPolicies` answer."""
        for document in documents:
            policy = PasswordPolicy.from_json(document)
            if policy.id:
                self._by_id[policy.id] = policy
            if document.get("default") is True:
                self._default = policy

    @property
    def known(self) -> list[PasswordPolicy]:
        """The policies read so far."""
        return list(self._by_id.values())

    def default(self) -> PasswordPolicy:
        """The environment's default policy (the one marked `default: true`)."""
        if self._default is None:
            response = self._api.get(self._api.env_url("passwordPolicies"))
            if response.status_code != 200:
                raise LookupError(f"reading password policies answered HTTP {response.status_code}")
            self.load(policies_in(response.json()))
        if self._default is None:
            raise LookupError("no password policy of the environment is marked default")
        return self._default

    def by_id(self, policy_id: str) -> PasswordPolicy:
        """The policy `policy_id`, read from the target the first time it is asked for."""
        if policy_id not in self._by_id:
            response = self._api.get(self._api.env_url("passwordPolicies", policy_id))
            if response.status_code != 200:
                raise LookupError(
                    f"reading password policy {policy_id} answered HTTP {response.status_code}"
                )
            document = response.json()
            self.load([document])
            if policy_id not in self._by_id:
                # The target answered this URL with a policy of another id (a mock's canned
                # document): that answer is the policy the target serves under this id.
                self._by_id[policy_id] = PasswordPolicy.from_json(document)
        return self._by_id[policy_id]

    def for_user(self, user_id: str) -> PasswordPolicy:
        """The policy a user's password state names, or the default when it names none.

        A named policy the target cannot read falls back to the default too: that defect is
        P1-STATE-004's finding, and every other case can still run on the policy in force.
        """
        response = self._api.password_operation(user_id, "read")
        if response.status_code == 200:
            state = response.json()
            reference = state.get("passwordPolicy") if isinstance(state, dict) else None
            if isinstance(reference, dict) and isinstance(reference.get("id"), str):
                try:
                    return self.by_id(reference["id"])
                except LookupError:
                    pass
        return self.default()


def policies_in(collection: Any) -> list[dict[str, Any]]:
    """The policy objects of a `GET /passwordPolicies` body (`_embedded.passwordPolicies`)."""
    embedded = collection.get("_embedded") if isinstance(collection, dict) else None
    found = embedded.get("passwordPolicies") if isinstance(embedded, dict) else None
    if not isinstance(found, list):
        return []
    return [policy for policy in found if isinstance(policy, dict)]
