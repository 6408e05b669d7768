"""Password policies: the three every environment starts with, and evaluation of their rules.

Rule semantics (README.md, "Policy rules", says where Ping is silent and what was chosen):
a rule whose property is absent is not enforced. ``evaluate`` returns every unsatisfied rule,
one ``minCharacters`` entry per character set that falls short, in the shape Ping reports as
``innerError.unsatisfiedRequirements`` plus one message per rule name.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reference import complexity
from reference.common_passwords import is_common

Policy = dict[str, Any]

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
SPECIAL = "~!@#$%^&*()-_=+[]{}|;:,.<>/?"
POLICY_NAMESPACE = uuid.UUID("6f0c3a52-8d1e-4d6b-9a57-2f4e1c0b7d93")

SEQUENCES: dict[str, tuple[str, ...]] = {
    "alphabetSequenceRule": (LOWER,),
    "numberSequenceRule": (DIGITS,),
    "qwertySequenceRule": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    "shiftedNumberRowSequenceRule": ("!@#$%^&*()",),
}

_LOCKOUT = {"failureCount": 5, "durationSeconds": 900}
_ALL_SETS = {UPPER: 1, LOWER: 1, DIGITS: 1, SPECIAL: 1}

BUILT_IN_POLICIES: dict[str, Policy] = {
    "Standard": {
        "name": "Standard",
        "description": "A standard policy that incorporates industry best practices",
        "excludesCommonlyUsed": True,
        "excludesProfileData": True,
        "notSimilarToCurrent": True,
        "history": {"count": 6, "retentionDays": 365},
        "lockout": dict(_LOCKOUT),
        "length": {"min": 8, "max": 255},
        "minCharacters": dict(_ALL_SETS),
        "maxRepeatedCharacters": 2,
        "minUniqueCharacters": 5,
        "minAgeDays": 1,
        "maxAgeDays": 182,
    },
    "Basic": {
        "name": "Basic",
        "description": "A basic policy that requires a mix of character types and no expiry",
        "excludesCommonlyUsed": True,
        "excludesProfileData": False,
        "notSimilarToCurrent": False,
        "lockout": dict(_LOCKOUT),
        "length": {"min": 8, "max": 255},
        "minCharacters": dict(_ALL_SETS),
    },
    "Passphrase": {
        "name": "Passphrase",
        "description": "A policy that encourages the use of passphrases",
        "excludesCommonlyUsed": True,
        "excludesProfileData": True,
        "notSimilarToCurrent": True,
        "history": {"count": 6, "retentionDays": 365},
        "lockout": dict(_LOCKOUT),
        "minComplexity": 7,
    },
}


def policy_id(env_id: str, name: str) -> str:
    """Returns the stable id of a named policy in an environment."""
    return str(uuid.uuid5(POLICY_NAMESPACE, f"{env_id}/{name}"))


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merges ``overrides`` into a copy of ``base``; a ``None`` value removes the key."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def environment_policies(
    env_id: str, default_name: str, overrides: Mapping[str, Any]
) -> dict[str, Policy]:
    """Returns the environment's policies by id, with ``overrides`` merged into the default."""
    if default_name not in BUILT_IN_POLICIES:
        raise ValueError(f"unknown default policy {default_name!r}")
    policies: dict[str, Policy] = {}
    for name, template in BUILT_IN_POLICIES.items():
        policy = copy.deepcopy(template)
        if name == default_name:
            policy = deep_merge(policy, overrides)
        policy["id"] = policy_id(env_id, name)
        policy["default"] = name == default_name
        policies[policy["id"]] = policy
    return policies


@dataclass(frozen=True)
class ProfileData:
    """The user attributes ``excludesProfileData`` looks for inside a password."""

    username: str = ""
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None

    def fragments(self) -> list[str]:
        """Returns the lower-cased attributes of length >= 3 (the email's local part only)."""
        email_local = self.email.split("@", 1)[0] if self.email else None
        values = (self.username, email_local, self.given_name, self.family_name)
        return [v.lower() for v in values if v and len(v) >= 3]


@dataclass
class PolicyResult:
    """The unsatisfied rules, in order, and one message per rule name."""

    unsatisfied: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every rule is satisfied."""
        return not self.unsatisfied

    def fail(self, rule: str, message: str) -> None:
        """Records one unsatisfied rule; the first message per rule name is kept."""
        self.unsatisfied.append(rule)
        self.messages.setdefault(rule, message)

    def inner_error(self) -> dict[str, Any]:
        """Returns the ``innerError`` object Ping reports for a policy failure."""
        return {"unsatisfiedRequirements": list(self.unsatisfied), **self.messages}


def evaluate(
    policy: Policy,
    password: str,
    *,
    profile: ProfileData,
    current: str | None = None,
    reused: Callable[[str], bool] | None = None,
) -> PolicyResult:
    """Checks a cleartext password against every rule the policy has.

    ``current`` is the user's current password when the caller supplied it (a self change);
    ``notSimilarToCurrent`` applies only then. ``reused`` answers whether the password matches the
    current one or one in the history; ``history`` applies only when it is given.
    """
    result = PolicyResult()
    for charset, minimum in (policy.get("minCharacters") or {}).items():
        if sum(1 for c in password if c in charset) < int(minimum):
            result.fail(
                "minCharacters",
                "The provided password did not contain enough characters from the character "
                f"set '{charset}'.  The minimum number of characters from that set that must be "
                f"present in user passwords is {minimum}",
            )
    if policy.get("excludesCommonlyUsed") and is_common(password):
        result.fail(
            "excludesCommonlyUsed",
            "The provided password (or a variant of that password) was found in a list of "
            "prohibited passwords",
        )
    if policy.get("excludesProfileData") and _contains_profile_data(password, profile):
        result.fail(
            "excludesProfileData",
            "The provided password contains a value from the user's profile",
        )
    _check_length(policy, password, result)
    max_repeated = policy.get("maxRepeatedCharacters")
    if max_repeated is not None and _longest_repeat(password) > int(max_repeated):
        result.fail(
            "maxRepeatedCharacters",
            "The provided password is not acceptable because it contains a character repeated "
            f"more than {max_repeated} times in a row",
        )
    min_unique = policy.get("minUniqueCharacters")
    if min_unique is not None and len(set(password)) < int(min_unique):
        result.fail(
            "minUniqueCharacters",
            "The provided password does not contain enough unique characters.  The minimum "
            f"number of unique characters that may appear in a user password is {min_unique}",
        )
    min_complexity = policy.get("minComplexity")
    if min_complexity is not None and complexity.days_to_crack(password) < float(min_complexity):
        result.fail(
            "minComplexity",
            "The provided password is not complex enough: it could be guessed in fewer than "
            f"{min_complexity} days",
        )
    for rule, sequences in SEQUENCES.items():
        setting = policy.get(rule)
        if setting and _longest_sequence(password, sequences) > int(setting["maxLength"]):
            result.fail(
                rule,
                "The provided password contains a sequence of more than "
                f"{setting['maxLength']} consecutive characters",
            )
    if policy.get("notSimilarToCurrent") and current is not None:
        if within_distance(password.lower(), current.lower(), SIMILARITY_DISTANCE - 1):
            result.fail(
                "notSimilarToCurrent",
                "The provided new password is too similar to the current password",
            )
    if policy.get("history") and reused is not None and reused(password):
        result.fail(
            "history",
            "The provided new password cannot be the same as the current password or any "
            "password in the password history.",
        )
    return result


SIMILARITY_DISTANCE = 3


def _check_length(policy: Policy, password: str, result: PolicyResult) -> None:
    length = policy.get("length") or {}
    if "min" in length and len(password) < int(length["min"]):
        result.fail(
            "length",
            "The provided password is shorter than the minimum required length of "
            f"{length['min']} characters",
        )
    elif "max" in length and len(password) > int(length["max"]):
        result.fail(
            "length",
            "The provided password is longer than the maximum allowed length of "
            f"{length['max']} characters",
        )


def _contains_profile_data(password: str, profile: ProfileData) -> bool:
    lowered = password.lower()
    return any(fragment in lowered for fragment in profile.fragments())


def _longest_repeat(password: str) -> int:
    longest = run = 0
    previous = None
    for char in password:
        run = run + 1 if char == previous else 1
        previous = char
        longest = max(longest, run)
    return longest


def _longest_sequence(password: str, sequences: Iterable[str]) -> int:
    """Returns the longest run of neighbours in one of ``sequences``, either direction."""
    lowered = password.lower()
    longest = 1 if lowered else 0
    for sequence in sequences:
        for step in (1, -1):
            run = 1
            for previous, char in zip(lowered, lowered[1:], strict=False):
                i, j = sequence.find(previous), sequence.find(char)
                run = run + 1 if i >= 0 and j >= 0 and j - i == step else 1
                longest = max(longest, run)
    return longest


def within_distance(a: str, b: str, limit: int) -> bool:
    """True when the Levenshtein distance between ``a`` and ``b`` is at most ``limit``.

    Only a band of width ``2 * limit + 1`` is computed, so long inputs stay cheap.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    big = limit + 1
    previous = {j: j for j in range(0, min(len(b), limit) + 1)}
    for i in range(1, len(a) + 1):
        current: dict[int, int] = {}
        low, high = max(0, i - limit), min(len(b), i + limit)
        for j in range(low, high + 1):
            if j == 0:
                current[j] = i
                continue
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(
                previous.get(j, big) + 1,
                current.get(j - 1, big) + 1,
                previous.get(j - 1, big) + cost,
            )
        if min(current.values()) > limit:
            return False
        previous = current
    return previous.get(len(b), big) <= limit
