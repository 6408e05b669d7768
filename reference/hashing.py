"""Hashing cleartext passwords for storage (argon2id) and verifying against what is stored.

Cleartext is stored as ``{ARGON2}`` + an argon2id PHC string, so every stored value, hashed here
or imported pre-encoded, has the same ``{SCHEME}encoded`` form and one verification path.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import argon2

from reference import encodings
from reference.config import HashProfile


@dataclass(frozen=True)
class Argon2Cost:
    """argon2id cost parameters: passes, memory in KiB, lanes."""

    time_cost: int
    memory_cost: int
    parallelism: int


# "strong" is RFC 9106 section 4's second recommended option; "fast" keeps tests quick.
PROFILES: dict[str, Argon2Cost] = {
    "strong": Argon2Cost(time_cost=3, memory_cost=65_536, parallelism=4),
    "fast": Argon2Cost(time_cost=1, memory_cost=8, parallelism=1),
}


# At most this many hashes or verifications run at once, so that concurrent requests with the
# strong profile (64 MiB each) cannot exhaust memory; the others wait their turn.
MAX_CONCURRENT_HASHES = max(2, os.cpu_count() or 2)


class PasswordHasher:
    """Hashes cleartext with the configured argon2id profile and verifies stored values."""

    def __init__(self, profile: HashProfile) -> None:
        cost = PROFILES[profile]
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost,
            parallelism=cost.parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        """Returns the stored form of a cleartext password: ``{ARGON2}$argon2id$...``."""
        with self._slots:
            return "{ARGON2}" + self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Checks a cleartext password against any stored ``{SCHEME}`` value."""
        with self._slots:
            return encodings.verify(stored, password)
