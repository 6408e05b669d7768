"""The run-wide audit: every response of the run, from preflight to the last test of every suite,
checked for secrets, hashes, internals, error ids and 429s.

suites/security/conftest.py moves these tests to the end of the run. The audit sees each raw
response as it arrived (retried 429s included), in memory only; findings name the exchange and
the kind of leak, never the leaked text.
"""

from __future__ import annotations

from collections import Counter

import pytest

from harness.exchange_audit import ExchangeAudit
from harness.schemas import SchemaStore

IDS_NOT_REQUIRED = (403, 429)  # error-limited.schema.json: code and message only (P1-ERR-001)


def listing(findings: list[str], limit: int = 20) -> str:
    shown = "\n".join(findings[:limit])
    more = f"\n… and {len(findings) - limit} more" if len(findings) > limit else ""
    return shown + more


@pytest.mark.requirement("P1-SEC-004")
def test_no_response_of_the_run_carries_a_password_or_token_it_sent(
    exchange_audit: ExchangeAudit,
) -> None:
    """No response of the run carries a password or bearer credential the run sent.

    "never returned in the response" (the User password sub-object, Go SDK spec).
    """
    if not exchange_audit.audited_secrets():
        pytest.skip("no password or token that can be looked for was sent in this run")
    findings = exchange_audit.secret_echoes()
    assert not findings, listing(findings)


@pytest.mark.requirement("P1-SEC-005")
def test_no_response_of_the_run_carries_a_password_hash(exchange_audit: ExchangeAudit) -> None:
    """No response of the run carries something shaped like a stored password hash.

    "never returned in the response" (the User password sub-object, Go SDK spec).
    """
    assert exchange_audit.responses, "the audit saw no response"
    findings = exchange_audit.hashes()
    assert not findings, listing(findings)


@pytest.mark.requirement("P1-SEC-006")
def test_no_response_of_the_run_carries_a_stack_trace_or_internal_path(
    exchange_audit: ExchangeAudit,
) -> None:
    """No response of the run carries a stack trace or a path of the server's own files.

    "Uncaught error occurred. Platform outage" is all Ping's spec says of a 500.
    """
    assert exchange_audit.responses, "the audit saw no response"
    findings = exchange_audit.internals()
    assert not findings, listing(findings)


@pytest.mark.requirement("P1-ERR-002")
def test_every_error_of_the_run_carries_an_id_of_its_own(exchange_audit: ExchangeAudit) -> None:
    """Every error envelope of the run carries an id, and no two errors share one.

    The id is unique, logged, and "always included in an error response" (error-codes page).
    """
    errors = exchange_audit.errors()
    if len(errors) < 2:
        pytest.skip("fewer than two errors were answered in this run")
    missing = [
        f"{observed.title}: no id"
        for observed, error_id in errors
        if observed.status not in IDS_NOT_REQUIRED and not (isinstance(error_id, str) and error_id)
    ]
    counts = Counter(error_id for _, error_id in errors if isinstance(error_id, str) and error_id)
    repeated = [
        f"{count} errors share the id {error_id}" for error_id, count in counts.items() if count > 1
    ]
    assert not missing, listing(missing)
    assert not repeated, listing(repeated)


@pytest.mark.requirement("P1-RL-001")
def test_every_429_of_the_run_carries_retry_after_and_request_limited(
    exchange_audit: ExchangeAudit, schemas: SchemaStore
) -> None:
    """Every 429 of the run, retried ones included, carries REQUEST_LIMITED and Retry-After in
    whole seconds.

    "when exceeded, the API returns 429 REQUEST_LIMITED with a Retry-After header (delay in
    seconds)" (rate-limiting page, as the research digest renders it).
    """
    limited = exchange_audit.rate_limited()
    if not limited:
        pytest.skip("needs a source: rate-limit (the target answered no 429 in this run)")
    findings = []
    for observed in limited:
        retry_after = observed.headers.get("Retry-After") or observed.headers.get("retry-after")
        if not (retry_after and retry_after.strip().isdigit()):
            findings.append(f"{observed.title}: Retry-After is not a whole number of seconds")
        body = observed.json()
        problems = schemas.errors(body, "error-limited.schema.json")
        if isinstance(body, dict) and body.get("code") != "REQUEST_LIMITED":
            problems.append(f"code is {body.get('code')!r}, not REQUEST_LIMITED")
        findings += [f"{observed.title}: {problem}" for problem in problems]
    assert not findings, listing(findings)
