"""The run's verdict as a user reads it: short failures, selection by requirement, level and
class, INCOMPLETE and --require-complete, and one line for rate limiting.

Each test runs the suites in a child pytest against a reference (faults applied from outside
it, as in the fault catalog) and reads what a person reads: the terminal and the summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.config import ExitCode
from harness.requirements import Level, RequirementCatalog
from tests.faults.catalog import get as fault_named
from tests.faults.rewriting import ASGIApp, Exchange, Match, Receive, Scope, Send, rewrite
from tests.suite_runs import run_suites

CHECK_CALLS = Match.for_operation("check")


def _fault(name: str) -> Any:
    return fault_named(name).apply


def _summary(workdir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((workdir / "conformance-summary.json").read_text())
    return document


def test_failures_read_as_short_blocks_without_harness_source(tmp_path: Path) -> None:
    # The checks' own requirement family is enough to fail, and to show what a failure reads as.
    run = run_suites(
        tmp_path,
        wrap=_fault("check-accepts-wrong-password"),
        suite_args=("--requirement", "P1-CHECK"),
    )
    failed = run.outcomes("failed")
    assert failed, run.output[-2000:]
    assert "unmet expectation(s)" in run.output
    assert "conformance failure: step 1 (check)" in run.output
    # None of the harness's own code is printed: no source lines, no harness frames.
    assert "def _check" not in run.output
    assert "harness/behaviour_cases.py:" not in run.output
    assert "problems = unmet(" not in run.output
    failures = run.output.split("= FAILURES =", 1)[1].split("short test summary", 1)[0]
    assert len(failures.splitlines()) < 30 * len(failed), failures


def test_requirement_selection_runs_only_its_tests_and_says_the_rest_were_deselected(
    tmp_path: Path,
) -> None:
    run = run_suites(tmp_path, suite_args=("--requirement", "P1-CHECK-00"))
    assert run.exit_code == 0, run.output[-2000:]
    summary = _summary(tmp_path)
    by_id = {v["id"]: v for v in summary["verdicts"]}
    assert by_id["P1-CHECK-002"]["verdict"] == "PASS"
    assert by_id["P1-SET-002"]["verdict"] == "NOT ASSESSED"
    assert by_id["P1-SET-002"]["reason"] == "deselected"
    # deselected MUST requirements: not a PASS
    assert summary["verdict"] == "INCOMPLETE"
    assert "P1-SET-002" in summary["incomplete"]


def test_an_unknown_requirement_filter_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suites(tmp_path, suite_args=("--requirement", "P1-NOSUCH"))
    assert run.exit_code == 4, run.output[-2000:]
    assert "no requirement id starts with it" in run.output


def test_selection_by_level_marker(tmp_path: Path) -> None:
    catalog = RequirementCatalog.load()
    run = run_suites(tmp_path, suite_args=("-m", "observed", "--conformance", "behaviour"))
    ran = {node for node, record in run.records.items() if record["outcome"] == "passed"}
    assert ran, run.output[-2000:]
    for node in ran:
        levels = {catalog.get(rid).level for rid in run.records[node]["requirements"]}  # type: ignore[attr-defined]
        assert Level.OBSERVED in levels, node


def test_selection_by_requirement_keyword(tmp_path: Path) -> None:
    run = run_suites(tmp_path, suite_args=("-k", "P1-CHECK-003"))
    ran = {node for node, record in run.records.items() if record["outcome"] == "passed"}
    assert ran, run.output[-2000:]
    assert all("P1-CHECK-003" in run.records[node]["requirements"] for node in ran)  # type: ignore[operator]


def test_a_class_not_claimed_is_reported_as_outside_the_claimed_class(tmp_path: Path) -> None:
    run = run_suites(
        tmp_path, suite_args=("--conformance", "security", "--requirement", "P1-TOKEN")
    )
    summary = _summary(tmp_path)
    by_id = {v["id"]: v for v in summary["verdicts"]}
    assert summary["conformance"] == ["security"]
    assert by_id["P1-CHECK-002"]["reason"] == "outside the claimed class"
    assert by_id["P1-CHECK-002"]["verdict"] == "NOT ASSESSED"
    assert run.exit_code in (0, 5), run.output[-2000:]


def test_require_complete_turns_incomplete_into_its_exit_code(tmp_path: Path) -> None:
    run = run_suites(tmp_path, suite_args=("--requirement", "P1-CHECK", "--require-complete"))
    assert _summary(tmp_path)["verdict"] == "INCOMPLETE"
    assert run.exit_code == int(ExitCode.INCOMPLETE), run.output[-2000:]
    assert "verdict: INCOMPLETE" in run.output


def _first_check_limited(app: ASGIApp) -> ASGIApp:
    """Every user's first password check is answered 429 (Retry-After: 0) before the reference
    sees it, as a rate limiter in front of a service does: the refused check counts nothing."""
    seen: set[str] = set()

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        media_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
        path = str(scope.get("path", ""))
        if not CHECK_CALLS.accepts(scope.get("method", ""), path, media_type.lower()):
            await app(scope, receive, send)
            return
        if path in seen:
            await app(scope, receive, send)
            return
        seen.add(path)
        body = json.dumps({"id": "r", "code": "REQUEST_LIMITED", "message": "limited"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return limited


def test_429_retries_add_up_to_one_summary_line(tmp_path: Path) -> None:
    run = run_suites(tmp_path, wrap=_first_check_limited, suite_args=("--requirement", "P1-CHECK"))
    assert run.exit_code == 0, run.output[-2000:]
    lines = [line for line in run.output.splitlines() if line.startswith("rate limited:")]
    assert len(lines) == 1, run.output[-2000:]
    assert "retries after 429" in lines[0]
    assert _summary(tmp_path)["rate_limit"]["retries"] >= 1


def test_a_target_that_stops_answering_is_unavailable_not_failing(tmp_path: Path) -> None:
    """Every answer is 503: after the retries the tests report the target unavailable."""

    def unavailable(exchange: Exchange) -> None:
        exchange.status = 503
        exchange.headers = [(b"content-type", b"application/json"), (b"retry-after", b"0")]
        exchange.body = {"id": "u", "code": "SERVICE_UNAVAILABLE", "message": "down"}

    def wrap(app: ASGIApp) -> ASGIApp:
        return rewrite(app, CHECK_CALLS, on_response=unavailable)

    # The property suite reports its own failures (a generated sequence is no harness request).
    behaviour = ("--conformance", "contract,behaviour,security")
    run = run_suites(tmp_path, wrap=wrap, suite_args=("--requirement", "P1-CHECK", *behaviour))
    assert run.exit_code == int(ExitCode.TARGET_UNAVAILABLE), run.output[-2000:]
    summary = _summary(tmp_path)
    assert summary["verdict"] == "INCOMPLETE"
    assert "unavailable" in summary["reason"]
    by_id = {v["id"]: v for v in summary["verdicts"]}
    assert by_id["P1-CHECK-002"]["verdict"] == "NOT ASSESSED"
    assert by_id["P1-CHECK-002"]["reason"] == "target unavailable"
    assert "target unavailable: POST" in run.output
