"""Every Allure category catches a real failure of its kind, and Allure 3 gets the same rules.

`allure-categories.json` is the one list of rules. Here each rule is tried, the way Allure
tries it (first match wins; the pattern searched in message and trace), on the Allure results
of a real suite run against the reference with a fault applied that produces that kind of
failure. A category no fault can land a failure in would be a promise, not a category.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.faults.catalog import get as fault_named
from tests.faults.rewriting import ASGIApp, Exchange, Match, Receive, Scope, Send, rewrite
from tests.suite_runs import run_suites

CHECK_CALLS = Match.for_operation("check")

RULES: list[dict[str, Any]] = json.loads((REPO / "allure-categories.json").read_text())[
    "categories"
]


def category_of(result: dict[str, Any]) -> str | None:
    """The first category whose statuses and pattern accept the result, as Allure picks it."""
    details = result.get("statusDetails") or {}
    texts = [str(details.get("message") or ""), str(details.get("trace") or "")]
    for rule in RULES:
        if result.get("status") not in rule["statuses"]:
            continue
        if rule.get("messageless"):
            if not any(texts):
                return str(rule["name"])
            continue
        pattern = rule.get("pattern")
        if pattern is None or any(re.search(pattern, text) for text in texts):
            return str(rule["name"])
    return None


def _catalog(name: str) -> Callable[[ASGIApp], ASGIApp]:
    return fault_named(name).apply


def _answer_429(exchange: Exchange) -> None:
    exchange.status = 429
    exchange.headers = [(b"content-type", b"application/json"), (b"retry-after", b"0")]
    exchange.body = {"id": "x", "code": "REQUEST_LIMITED", "message": "Too many requests"}


def _drop_connection(app: ASGIApp) -> ASGIApp:
    """Password checks start a response, then the connection closes halfway."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and CHECK_CALLS.accepts(
            scope["method"], scope["path"], _content_type(scope)
        ):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"99")],
                }
            )
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise ConnectionResetError("the fault drops the connection")
        await app(scope, receive, send)

    return wrapped


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


USER_CREATION = Match(method="POST", path_suffix="/users")


def _refuse_users(exchange: Exchange) -> None:
    exchange.status = 403
    exchange.headers = [(b"content-type", b"application/json")]
    exchange.body = {"id": "y", "code": "ACCESS_FAILED", "message": "Forbidden"}


def _clean(app: ASGIApp) -> ASGIApp:
    return app


# A deviations file claiming that the clean reference fails P1-CHECK-002: it does not, so the
# strict xfail passes (XPASS) and the test fails with no message.
STALE_DEVIATION = """
deviations:
  - target: category-test
    requirement: P1-CHECK-002
    reason: claimed to answer 200 to a wrong password
    link: https://example.test/issues/1
    expires: 2999-12-31
"""

# category → (how to produce it, which tests to run)
PRODUCERS: dict[str, tuple[Callable[[ASGIApp], ASGIApp], str]] = {
    "Target unavailable": (_drop_connection, "P1-CHECK-002"),
    "Rate limited (429 after retries)": (
        lambda app: rewrite(app, CHECK_CALLS, on_response=_answer_429),
        "P1-CHECK-002",
    ),
    "Server errors (5xx)": (_catalog("check-crashes-on-wrong-password"), "P1-CHECK-002"),
    "Body does not match its JSON Schema": (_catalog("error-without-id"), "P1-CHECK-002"),
    "Known deviation no longer reproduces (strict XPASS)": (_clean, "P1-CHECK-002"),
    "Conformance failures": (_catalog("set-ignores-force-change"), "P1-SET-002"),
    "Suite or environment errors (broken)": (
        lambda app: rewrite(app, USER_CREATION, on_response=_refuse_users),
        "P1-CHECK-002",
    ),
}


def test_every_rule_has_a_producer() -> None:
    assert [rule["name"] for rule in RULES] == list(PRODUCERS)


@pytest.mark.parametrize("category", list(PRODUCERS))
def test_a_real_failure_lands_in_its_category(category: str, tmp_path: Path) -> None:
    wrap, requirement = PRODUCERS[category]
    results = tmp_path / "allure-results"
    deviations = tmp_path / "deviations.yaml"
    deviations.write_text(STALE_DEVIATION if wrap is _clean else "deviations: []\n")
    run = run_suites(
        tmp_path,
        wrap=wrap,
        suite_args=(
            *("--gate", "observed", "--alluredir", str(results), "-k", requirement),
            *("--deviations", str(deviations), "--target-name", "category-test"),
            "--strict-deviations",
        ),
        timeout=110,
    )
    assert run.exit_code != 0, run.output[-2000:]
    landed = [
        category_of(json.loads(path.read_text()))
        for path in results.glob("*-result.json")
        if json.loads(path.read_text()).get("status") in ("failed", "broken")
    ]
    assert landed, f"the fault produced no failed or broken result:\n{run.output[-2000:]}"
    assert set(landed) == {category}, (landed, run.output[-2000:])


@pytest.mark.skipif(shutil.which("node") is None, reason="needs a source: node (Node.js 20)")
def test_allure_3_reads_the_same_rules_in_the_same_order() -> None:
    script = (
        "import('./allurerc.mjs').then(m => console.log(JSON.stringify("
        "m.default.categories.map(c => c.name))))"
    )
    done = subprocess.run(
        ["node", "-e", script], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [rule["name"] for rule in RULES]


def test_patterns_mean_the_same_in_javascript_and_python() -> None:
    """No inline flags, look-behind or named groups: the dialects differ there."""
    for rule in RULES:
        pattern = rule.get("pattern")
        if pattern is None:
            continue
        re.compile(pattern)
        assert not re.search(r"\(\?[a-zA-Z<]|\(\?P", pattern), rule["name"]
