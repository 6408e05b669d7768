"""The estimate behind ``minComplexity``: days an offline attacker needs to guess a password.

The estimate is brute force over the character classes the password uses: with ``pool`` the sum
of the sizes of the classes present (26 upper, 26 lower, 10 digits, 33 for the policy's symbol
set (28), 33 more for anything else such as spaces or non-ASCII), an attacker searches on average
``pool ** length / 2`` candidates at ``GUESSES_PER_SECOND``. A password that is (a variant of) a
commonly used password is found at once: zero days.
"""

from __future__ import annotations

import math

from reference.common_passwords import is_common

GUESSES_PER_SECOND = 1e10
SECONDS_PER_DAY = 86_400
SYMBOLS = "~!@#$%^&*()-_=+[]{}|;:,.<>/?"


def character_pool(password: str) -> int:
    """Returns the number of symbols an attacker must try per position."""
    pool = 0
    if any("A" <= c <= "Z" for c in password):
        pool += 26
    if any("a" <= c <= "z" for c in password):
        pool += 26
    if any("0" <= c <= "9" for c in password):
        pool += 10
    if any(c in SYMBOLS for c in password):
        pool += len(SYMBOLS)
    if any(not (c.isascii() and (c.isalnum() or c in SYMBOLS)) for c in password):
        pool += 33
    return pool


def days_to_crack(password: str) -> float:
    """Returns the estimated days to guess ``password`` (see the module docstring)."""
    if not password or is_common(password):
        return 0.0
    log_guesses = len(password) * math.log10(character_pool(password)) - math.log10(2)
    log_days = log_guesses - math.log10(GUESSES_PER_SECOND) - math.log10(SECONDS_PER_DAY)
    return math.inf if log_days > 300 else float(10**log_days)
