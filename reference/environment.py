"""The one environment a reference instance serves: its ids, worker client and policies."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field
from typing import Any

from reference import policies
from reference.config import ReferenceConfig

POPULATION_NAMESPACE = uuid.UUID("0d7a4c0e-2f8b-4f61-a1d3-5b9e7c2a8f40")


@dataclass
class Environment:
    """An environment: id, worker client, default population and password policies."""

    id: str
    client_id: str
    client_secret: str = field(repr=False)
    policies: dict[str, dict[str, Any]] = field(repr=False)
    default_policy_id: str = ""

    @classmethod
    def from_config(cls, config: ReferenceConfig) -> Environment:
        """Builds the environment a configuration describes."""
        book = policies.environment_policies(
            config.env_id, config.default_policy, config.policy_overrides
        )
        default_id = next(pid for pid, policy in book.items() if policy["default"])
        return cls(config.env_id, config.client_id, config.client_secret, book, default_id)

    @property
    def default_population_id(self) -> str:
        """Returns the id of the population users land in when none is given."""
        return str(uuid.uuid5(POPULATION_NAMESPACE, self.id))

    @property
    def default_policy(self) -> dict[str, Any]:
        """Returns the policy every user of the environment has."""
        return self.policies[self.default_policy_id]

    def client_matches(self, client_id: str, client_secret: str) -> bool:
        """Compares client credentials in constant time."""
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        return id_ok and secret_ok
