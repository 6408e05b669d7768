"""Fixtures of the security suite, read from what the harness exposes, and its test order.

- `exchange_audit`: every response of the run (from preflight on), for the run-wide checks.
- `reference_controls`: the reference's test routes when the target offers them (the embedded
  reference, or a reference whose environment links to them), else None.
- `credential_context`: what building a refused credential may use.

The run-wide audit (test_run_audit.py) is moved to the very end of the run, so that "no response
of the run" means every response the run's other tests provoked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.client import ApiClient
from harness.config import Target
from harness.exchange_audit import ExchangeAudit
from harness.run_context import RunContext
from harness.security_probes import CredentialContext, ReferenceControls, find_reference_controls

RUN_AUDIT_MODULE = Path(__file__).with_name("test_run_audit.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the run-wide audit after every other test of the run."""
    audit = [item for item in items if Path(str(item.path)) == RUN_AUDIT_MODULE]
    if audit:
        rest = [item for item in items if Path(str(item.path)) != RUN_AUDIT_MODULE]
        items[:] = rest + audit


@pytest.fixture(scope="session")
def exchange_audit(run_context: RunContext) -> ExchangeAudit:
    """Every response of the run and the credentials it sent (memory only, never written)."""
    return run_context.exchange_audit


@pytest.fixture(scope="session")
def shared_by_workers(request: pytest.FixtureRequest, target: Target) -> bool:
    """True when parallel workers test this same target at once (not one reference each)."""
    return hasattr(request.config, "workerinput") and not target.is_reference


@pytest.fixture(scope="session")
def reference_controls(api: ApiClient, target: Target) -> ReferenceControls | None:
    """The reference's test routes, when the target offers them."""
    return find_reference_controls(api, target)


@pytest.fixture(scope="session")
def credential_context(
    api: ApiClient, target: Target, reference_controls: ReferenceControls | None
) -> CredentialContext:
    """What building a refused credential may use."""
    return CredentialContext(target=target, redactor=api.redactor, controls=reference_controls)
