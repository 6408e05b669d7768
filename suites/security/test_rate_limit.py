"""Rate limiting: a burst over the limit gets 429 REQUEST_LIMITED with Retry-After in seconds,
and a retry after that delay is served.

The suite never floods a shared tenant: it provokes a 429 only where the reference's test routes
can switch a rate limit on (and lifts it again). Elsewhere this test needs a source; the run-wide
audit (test_run_audit.py) still checks every 429 the target answers during the run.
"""

from __future__ import annotations

import time

import pytest

from harness.client import ApiClient, RateLimitPolicy
from harness.schemas import SchemaStore
from harness.security_probes import ReferenceControls, envelope_problems
from harness.users import UserFactory

LIMIT_PER_SECOND = 2.0
BURST = 20
MAX_WAIT_SECONDS = 10


@pytest.mark.requirement("P1-RL-001", "P1-SEC-007")
def test_a_burst_over_the_limit_gets_429_with_retry_after(
    api: ApiClient,
    user_factory: UserFactory,
    schemas: SchemaStore,
    reference_controls: ReferenceControls | None,
    shared_by_workers: bool,
) -> None:
    """Requests over the rate limit answer 429 REQUEST_LIMITED with Retry-After in whole seconds,
    and the request repeated after that delay is served.

    "when exceeded, the API returns 429 REQUEST_LIMITED with a Retry-After header (delay in
    seconds)" (rate-limiting page, as the research digest renders it).
    """
    if reference_controls is None:
        pytest.skip(
            "needs a source: rate-limit (the suite does not flood a target to provoke a 429; "
            "only the reference's test routes can switch a rate limit on)"
        )
    if shared_by_workers:
        pytest.skip(
            "needs a source: rate-limit (parallel workers share this target: a rate limit "
            "switched on here would throttle the other workers' tests)"
        )
    user = user_factory.create(password="valid")
    policy, api.rate_limit = api.rate_limit, RateLimitPolicy(max_retries=0)
    reference_controls.set_rate_limit(LIMIT_PER_SECOND)
    try:
        for _ in range(BURST):
            response = api.password_operation(user.id, "read")
            if response.status_code == 429:
                break
        exchange = api.last_exchange()
        assert exchange is not None
        assert response.status_code == 429, (
            f"{BURST} reads at once under a limit of {LIMIT_PER_SECOND:.0f}/s got no 429\n"
            f"{exchange.summary()}"
        )
        problems = envelope_problems(response, schemas, "REQUEST_LIMITED")
        assert not problems, f"{'; '.join(problems)}\n{exchange.summary()}"
        retry_after = response.headers.get("Retry-After", "")
        assert retry_after.strip().isdigit(), (
            f"Retry-After is {retry_after!r}, not a whole number of seconds\n{exchange.summary()}"
        )
        time.sleep(min(int(retry_after), MAX_WAIT_SECONDS))
        again = api.password_operation(user.id, "read")
        assert again.status_code == 200, (
            f"the read repeated after Retry-After {retry_after} s answered {again.status_code}"
        )
    finally:
        api.rate_limit = policy
        reference_controls.set_rate_limit(None)
