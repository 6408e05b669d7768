"""Hashing cleartext passwords for storage (argon2id) and verifying against what is stored.

Cleartext is stored as ``{ARGON2}`` + an argon2id PHC string, so every stored value, hashed here
or imported pre-encoded, has the same ``{SCHEME}encoded`` form and one verification path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
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


# At most this many memory-hard hashes or verifications run at once, so that concurrent requests
# with the strong profile (64 MiB each) cannot exhaust memory; the others wait their turn.
MAX_CONCURRENT_HASHES = max(2, os.cpu_count() or 2)
# Only an argon2 computation of at least this much memory (KiB) takes a slot. The fast profile
# (8 KiB) and the imported schemes that need next to no memory (SSHA, bcrypt, PBKDF2) cannot
# exhaust anything, and queueing them on a semaphore made every concurrent check wait for
# threads to hand it over (measured in reference/README.md, "Check under load").
GATED_MEMORY_KIB = 1024


# Set while an operation runs on the event loop's own thread (``on_event_loop``). A context
# variable, not a thread-local: a worker thread started afterwards runs in a copy of the context
# as it is then, and the flag is reset before any operation moves to a worker.
_ON_EVENT_LOOP: ContextVar[bool] = ContextVar("reference_on_event_loop", default=False)


class Offload(Exception):  # noqa: N818 - a signal to the caller, not an error
    """Raised on the event loop by hashing too costly to do there, before it starts.

    The caller runs the whole operation again in a worker thread. Every operation hashes and
    verifies before it writes, but for recover, whose first write checks the code: a wrong code
    ends the operation there, before any hashing, and a right one writes nothing that a second
    run would not write again. So the first attempt has changed nothing that counts.
    """


@contextmanager
def on_event_loop() -> Iterator[None]:
    """Marks the work inside as running on the event loop: costly hashing raises ``Offload``."""
    token = _ON_EVENT_LOOP.set(True)
    try:
        yield
    finally:
        _ON_EVENT_LOOP.reset(token)


def _offload_unless(cheap: bool) -> None:
    if not cheap and _ON_EVENT_LOOP.get():
        raise Offload


class PasswordHasher:
    """Hashes cleartext with the configured argon2id profile and verifies stored values."""

    def __init__(self, profile: HashProfile) -> None:
        cost = PROFILES[profile]
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
        self._hash_gated = cost.memory_cost >= GATED_MEMORY_KIB
        self.hash_is_cheap = encodings.argon2_is_cheap(
            memory_kib=cost.memory_cost, passes=cost.time_cost
        )
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
        _offload_unless(self.hash_is_cheap)
        with self._slots if self._hash_gated else nullcontext():
            return "{ARGON2}" + self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Checks a cleartext password against any stored ``{SCHEME}`` value."""
        cost = encodings.verification_cost(stored)
        _offload_unless(cost.cheap)
        with self._slots if cost.memory_kib >= GATED_MEMORY_KIB else nullcontext():
            return encodings.verify(stored, password)
