"""The bundled list of commonly used passwords and the "is it (a variant of) one" test."""

from __future__ import annotations

import functools
import re
from pathlib import Path

LIST_PATH = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[^A-Za-z]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """Returns the bundled list, lower case; lines starting with ``#`` are comments."""
    lines = LIST_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True when the password, case-insensitively, is on the list or is one plus trailing
    digits and symbols ("Password123!" is a variant of "password")."""
    words = common_passwords()
    lowered = password.lower()
    if lowered in words:
        return True
    stripped = TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    return bool(stripped) and stripped != lowered and stripped in words
