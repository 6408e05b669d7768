"""The embedded default target: the reference implementation on a free loopback port.

This is the only harness module that imports `reference`, and only to start it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.config import ClientCredentials, ConfigError, ExitCode, Target

TEST_ROUTES_PATH = "/__reference"


@contextmanager
def embedded_reference() -> Iterator[Target]:
    """Start the reference (fast hashing, test routes on) for the block; always stop it."""
    from reference.config import ReferenceConfig
    from reference.server import start_reference

    config = ReferenceConfig(hash_profile="fast", test_routes=True)
    try:
        running = start_reference(config, host="127.0.0.1", port=0)
    except (OSError, RuntimeError) as error:
        raise ConfigError(
            f"the embedded reference did not start: {type(error).__name__}", ExitCode.UNREACHABLE
        ) from None
    try:
        yield Target(
            api_base_url=running.api_base_url,
            auth_base_url=running.auth_base_url,
            env_id=running.env_id,
            credentials=ClientCredentials(running.client_id, running.client_secret),
            is_reference=True,
            test_routes_url=f"{running.auth_base_url}{TEST_ROUTES_PATH}",
        )
    finally:
        running.stop()
