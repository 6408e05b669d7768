"""The reference's configuration: one environment, its worker client, storage, costs, policy."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from reference.clock import Clock, SystemClock

HashProfile = Literal["strong", "fast"]


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class ReferenceConfig:
    """Every field has a default, so ``ReferenceConfig()`` is a complete, private environment.

    ``db_path`` ":memory:" means a private in-memory database shared by the server's threads.
    ``hash_profile`` "strong" hashes with argon2id t=3, m=64 MiB, p=4 (RFC 9106's second
    recommendation); "fast" with t=1, m=8 KiB, p=1 for tests. ``policy_overrides`` is deep-merged
    into the default policy; a key mapped to ``None`` removes that rule. ``clock`` drives the
    password model (lockout, expiry, recovery codes); access tokens use real time.
    """

    env_id: str = field(default_factory=_new_uuid)
    client_id: str = field(default_factory=_new_uuid)
    client_secret: str = field(default_factory=_new_secret, repr=False)
    db_path: str = ":memory:"
    hash_profile: HashProfile = "strong"
    token_ttl_seconds: int = 3600
    rate_limit_per_second: float | None = None
    test_routes: bool = False
    default_policy: str = "Standard"
    policy_overrides: dict[str, Any] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
