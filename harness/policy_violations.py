"""Passwords that break exactly one rule of the target's password policy.

A case asks for `<violating:RULE>`; the value is built from the rule's value as the target's
policy states it (`length.min` − 1 characters, no character of one `minCharacters` set, a run one
longer than `maxRepeatedCharacters`, …) and satisfies every other rule this model knows, so a
400 can only be about that rule. When the policy lacks the rule, or its other rules leave no room
for such a value, the builder says why and the case skips; it never passes.

`excludesCommonlyUsed` and `excludesProfileData` depend on data the policy does not hold (the
target's list of common passwords, the user's profile): the values used are "Password" with a
digit and a symbol appended (a variant of the most common password of every published list) and
a valid password with one of the user's profile values (username, given or family name) inside.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
from collections.abc import Callable, Sequence

from harness.passwords import DIGITS, LOWER, SPECIAL, UPPER, PasswordPolicy

ALL_SETS = (UPPER, LOWER, DIGITS, SPECIAL)
ATTEMPTS = 2000
# A variant of "password", the most common password of every published list, with the
# characters a policy's minCharacters rules usually ask for.
COMMON_VARIANTS = ("Password1!", "Password123!", "Password#2024", "Password!2345678")


class NoViolation(Exception):
    """The policy lacks the rule, or its other rules leave no room for a value breaking it."""


# The rule names of `<violating:RULE>`; `length` breaks length.min, `lengthMax` length.max.
# `<violating>` without a rule takes the first the policy has, in this order (short values first).
RULES = (
    "length",
    "minCharacters",
    "maxRepeatedCharacters",
    "minUniqueCharacters",
    "excludesCommonlyUsed",
    "excludesProfileData",
    "lengthMax",
)
# The innerError.unsatisfiedRequirements name of each rule.
REPORTED_AS = {"lengthMax": "length"}


class ViolationMaker:
    """Builds one-rule violations of a policy for a user with the given profile values."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or secrets.SystemRandom()

    def make(self, rule: str | None, policy: PasswordPolicy, profile: Sequence[str]) -> str:
        """A value breaking `rule` only; None picks the first rule of RULES the policy has."""
        if rule is None:
            for candidate in RULES:
                try:
                    return self.make(candidate, policy, profile)
                except NoViolation:
                    continue
            raise NoViolation("the user's password policy has no rule a value can break")
        builders: dict[str, Callable[[PasswordPolicy, Sequence[str]], str]] = {
            "length": self._too_short,
            "lengthMax": self._too_long,
            "minCharacters": self._missing_set,
            "maxRepeatedCharacters": self._repeated,
            "minUniqueCharacters": self._few_unique,
            "excludesCommonlyUsed": self._common,
            "excludesProfileData": self._profile,
        }
        if rule not in builders:
            raise ValueError(f"unknown policy rule {rule!r} (known: {', '.join(RULES)})")
        return builders[rule](policy, profile)

    # --- one builder per rule -------------------------------------------------------------------
    def _too_short(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        length = _rule(policy, "length")
        if not isinstance(length, dict) or not isinstance(length.get("min"), int):
            raise NoViolation("the user's password policy has no length.min rule")
        size = int(length["min"]) - 1
        if size < 1:
            raise NoViolation(f"length.min is {length['min']}: nothing is shorter")
        return self._search(policy, ["length"], lambda: self._shaped(policy, size, ALL_SETS))

    def _too_long(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        length = _rule(policy, "length")
        if not isinstance(length, dict) or not isinstance(length.get("max"), int):
            raise NoViolation("the user's password policy has no length.max rule")
        size = int(length["max"]) + 1
        return self._search(policy, ["length"], lambda: self._shaped(policy, size, ALL_SETS))

    def _missing_set(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        if not policy.min_characters:
            raise NoViolation("the user's password policy has no minCharacters rule")
        left_out = sorted(policy.min_characters)[0]
        others = tuple(s for s in ALL_SETS if s != left_out) or (UPPER,)
        pool = tuple("".join(c for c in s if c not in left_out) for s in others)
        kept = dataclasses.replace(policy, min_characters=_without(policy, left_out))
        size = _comfortable_length(policy)
        return self._search(
            policy, ["minCharacters"], lambda: self._shaped(kept, size, tuple(p for p in pool if p))
        )

    def _repeated(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        if policy.max_repeated is None:
            raise NoViolation("the user's password policy has no maxRepeatedCharacters rule")
        run = policy.max_repeated + 1
        size = _comfortable_length(policy)
        if size < run:
            raise NoViolation(f"length.max {policy.max_length} leaves no room for a run of {run}")

        def candidate() -> str:
            base = list(self._shaped(policy, size, ALL_SETS))
            start = self._rng.randrange(0, size - run + 1)
            base[start : start + run] = [base[start]] * run
            return "".join(base)

        return self._search(policy, ["maxRepeatedCharacters"], candidate)

    def _few_unique(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        if policy.min_unique is None:
            raise NoViolation("the user's password policy has no minUniqueCharacters rule")
        distinct = policy.min_unique - 1
        sets = list(policy.min_characters) or [LOWER]
        if distinct < max(len(sets), 2):
            raise NoViolation(
                f"minUniqueCharacters {policy.min_unique} leaves too few distinct characters "
                "for the policy's character sets"
            )
        size = max(policy.min_length, sum(policy.min_characters.values()), distinct)
        if size > policy.max_length:
            raise NoViolation("length.max leaves no room for a value with few unique characters")

        def candidate() -> str:
            chosen = [self._rng.choice(charset) for charset in sets]
            pool = "".join(ALL_SETS)
            while len(set(chosen)) < distinct:
                chosen.append(self._rng.choice(pool))
            chosen = list(dict.fromkeys(chosen))[:distinct]
            self._rng.shuffle(chosen)
            return "".join(chosen[i % len(chosen)] for i in range(size))

        return self._search(policy, ["minUniqueCharacters"], candidate)

    def _common(self, policy: PasswordPolicy, _: Sequence[str]) -> str:
        if _rule(policy, "excludesCommonlyUsed") is not True:
            raise NoViolation("the user's password policy does not exclude commonly used ones")
        for value in COMMON_VARIANTS:
            if not policy.violations(value):
                return value
        raise NoViolation("no variant of 'password' satisfies the policy's other rules")

    def _profile(self, policy: PasswordPolicy, profile: Sequence[str]) -> str:
        if _rule(policy, "excludesProfileData") is not True:
            raise NoViolation("the user's password policy does not exclude profile data")
        for value in (v for v in profile if len(v) >= 3):

            def candidate(value: str = value) -> str:
                base = self._shaped(policy, max(policy.min_length, 8), ALL_SETS)
                cut = self._rng.randrange(0, len(base) + 1)
                return base[:cut] + value + base[cut:]

            try:
                return self._search(policy, [], candidate, attempts=50)
            except NoViolation:
                continue
        raise NoViolation("no profile value fits into a password that satisfies the other rules")

    # --- helpers ----------------------------------------------------------------------------------
    def _shaped(self, policy: PasswordPolicy, size: int, pool_sets: tuple[str, ...]) -> str:
        """`size` characters: each minCharacters set's count, the rest from `pool_sets`."""
        chars = [
            self._rng.choice(charset)
            for charset, count in policy.min_characters.items()
            for _ in range(count)
        ][:size]
        pool = "".join(dict.fromkeys("".join(pool_sets)))
        while len(chars) < size:
            chars.append(self._rng.choice(pool))
        self._rng.shuffle(chars)
        return "".join(chars)

    def _search(
        self,
        policy: PasswordPolicy,
        broken: list[str],
        make: Callable[[], str],
        attempts: int = ATTEMPTS,
    ) -> str:
        """The first candidate whose known violations are exactly `broken`."""
        for _ in range(attempts):
            value = make()
            if value.startswith("{"):  # it could read as a pre-encoded {SCHEME}… value
                continue
            found = policy.violations(value)
            if sorted(set(found)) == sorted(set(broken)):
                return value
        wanted = ", ".join(broken) or "no known rule"
        raise NoViolation(f"the policy's other rules leave no value that breaks {wanted} alone")


def _rule(policy: PasswordPolicy, name: str) -> object:
    return policy.raw.get(name)


def _without(policy: PasswordPolicy, charset: str) -> dict[str, int]:
    return {s: n for s, n in policy.min_characters.items() if s != charset}


def _comfortable_length(policy: PasswordPolicy) -> int:
    """A length inside the policy's bounds with room for every character rule."""
    wanted = max(policy.min_length, 16, sum(policy.min_characters.values()), policy.min_unique or 0)
    return min(wanted, policy.max_length)
