"""The property suite's machinery: plugin loading, media-type views, checks and the model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import requests
import yaml

from harness.property_model import LOCKED, PasswordModel
from harness.property_plugin import wants_property_suite

REPO = Path(__file__).resolve().parents[2]


def _config(*args: str) -> Any:
    return SimpleNamespace(
        rootpath=REPO, args=list(args), invocation_params=SimpleNamespace(dir=REPO)
    )


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (("suites",), True),
        (("suites/property",), True),
        (("suites/property/test_password_sequences.py::test_x",), True),
        ((), True),
        (("suites/behaviour",), False),
        (("tests",), False),
        (("tests/harness/test_property.py",), False),
    ],
    ids=lambda value: str(value),
)
def test_schemathesis_is_loaded_only_for_the_property_suite(
    args: tuple[str, ...], wanted: bool
) -> None:
    assert wants_property_suite(_config(*args)) is wanted


def test_every_media_type_without_json_suffix_has_a_serializer() -> None:
    """A media type of the document that is not `…+json` is aliased to JSON (else: no bodies)."""
    from harness.property_checks import suffixless_media_types

    document = yaml.safe_load((REPO / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))
    declared = {
        media
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {})
    }
    needing = {m for m in declared if not m.endswith("+json") and m != "application/json"}
    assert needing, "the document declares suffix-less media types"
    assert needing <= set(suffixless_media_types())


def test_every_view_generates_a_body_of_its_own_media_type() -> None:
    from hypothesis import given, settings

    from harness.operations import OperationTable
    from harness.property import media_type_views, project_settings

    seen: dict[str, set[str | None]] = {}
    for view in media_type_views(project_settings(1), OperationTable.load()):
        operation = next(iter(view.schema.get_all_operations())).ok()
        name = view.name

        @settings(max_examples=3, database=None, deadline=None)
        @given(operation.as_strategy(path_parameters={"envID": "e", "userID": "u"}))
        def generate(case: Any) -> None:
            seen.setdefault(name, set()).add(case.media_type)  # noqa: B023 - runs right here

        generate()
        assert seen.get(name) == {view.media_type}, name


def test_documented_rejection_needs_a_400_class_code_and_a_detail_code() -> None:
    from harness.property_checks import documented_rejection

    policy = {"code": "INVALID_DATA", "details": [{"code": "INVALID_VALUE", "target": "value"}]}
    assert documented_rejection(policy)
    assert not documented_rejection({"code": "INVALID_DATA"})
    assert not documented_rejection({"code": "UNEXPECTED_ERROR", "details": [{"code": "X"}]})
    assert not documented_rejection(None)


def test_sent_secrets_ignore_short_values_and_the_documents_words() -> None:
    from harness.property_checks import SentSecrets

    sent = SentSecrets()
    sent.add_from(
        {"value": "Qx7#unique-Lantern-20", "password": "abc", "x": {"value": "environments"}}
    )
    assert len(sent) == 1
    assert sent.found_in('{"echo": "Qx7#unique-Lantern-20"}')
    assert not sent.found_in('{"status": "OK"}')


def test_a_secret_inside_a_string_the_request_sent_openly_is_no_echo() -> None:
    from harness.property_checks import SentSecrets

    sent = SentSecrets()
    sent.add_from({"value": "lorem ipsum dolor sit"})
    username = "p1conf-run-7-lorem ipsum dolor sit"
    record = f'{{"username": "{username}"}}'
    assert not sent.found_in(record, allowed=[username])
    # ...but the same secret elsewhere in the answer still is.
    assert sent.found_in(record + ' "note": "lorem ipsum dolor sit"', allowed=[username])


def _clock() -> float:
    return 0.0


def test_model_flags_a_read_that_contradicts_the_last_operation() -> None:
    model = PasswordModel(clock=_clock)
    assert model.observe("forceChange", 200, {"status": "MUST_CHANGE_PASSWORD"}) == []
    broken = model.observe("read", 200, {"status": "OK"})
    assert broken
    assert "MUST_CHANGE_PASSWORD" in broken[0]


def test_model_flags_last_changed_moving_backwards() -> None:
    model = PasswordModel(clock=_clock)
    model.observe("set", 200, {"status": "OK", "lastChangedAt": "2026-01-02T00:00:00.000Z"})
    assert model.observe("read", 200, {"status": "OK", "lastChangedAt": "2026-01-01T00:00:00Z"})


def test_model_flags_a_locked_password_that_checks_ok() -> None:
    model = PasswordModel(clock=_clock)
    model.observe("read", 200, {"status": LOCKED})
    assert model.observe("check", 200, {"status": "OK"})


def _wrong(remaining: int) -> dict[str, Any]:
    return {"code": "INVALID_DATA", "details": [{"innerError": {"failuresRemaining": remaining}}]}


def test_model_flags_a_rising_counter_and_accepts_one_after_unlock() -> None:
    wrong = _wrong
    model = PasswordModel(clock=_clock)
    assert model.observe("check", 400, wrong(3)) == []
    assert model.observe("sendRecoveryCode", 200, {"status": "OK"}) == []
    assert model.observe("check", 400, wrong(4))
    model.observe("unlock", 200, {"status": "OK"})
    assert model.observe("check", 400, wrong(4)) == []


def test_model_flags_a_countdown_that_an_unlock_did_not_restart() -> None:
    model = PasswordModel(clock=_clock, failure_limit=5)
    model.observe("set", 200, {"status": "OK"})
    assert model.observe("check", 400, _wrong(4)) == []  # a new user has no failure yet
    assert model.observe("read", 200, {"status": "OK"}) == []
    assert model.observe("unlock", 200, {"status": "OK"}) == []
    broken = model.observe("check", 400, _wrong(3))
    assert broken
    assert "leave 4 of the policy's lockout.failureCount 5" in broken[0]


def test_model_counts_down_only_where_the_number_of_failures_is_known() -> None:
    model = PasswordModel(clock=_clock, failure_limit=5)
    model.observe("check", 400, _wrong(4))
    # A wrong current password may count as a failure on another server: say nothing after it.
    model.observe("resetSelf", 400, {"code": "INVALID_DATA"})
    assert model.observe("check", 400, _wrong(2)) == []
    # A new password may or may not clear counted failures: unknown again until an unlock.
    model.observe("unlock", 200, {"status": "OK"})
    model.observe("check", 400, _wrong(4))
    model.observe("set", 200, {"status": "OK"})
    assert model.observe("check", 400, _wrong(3)) == []
    # A recovery-code request leaves the count where it was.
    model.observe("unlock", 200, {"status": "OK"})
    model.observe("sendRecoveryCode", 200, {"status": "OK"})
    assert model.observe("check", 400, _wrong(4)) == []
    assert model.observe("check", 400, _wrong(3)) == []


def test_model_accepts_a_lockout_that_expired() -> None:
    now = [0.0]
    model = PasswordModel(clock=lambda: now[0])
    model.observe("read", 200, {"status": LOCKED, "secondsUntilUnlock": 5})
    now[0] = 10.0
    assert model.observe("read", 200, {"status": "OK"}) == []


class _Flaky(BaseHTTPRequestHandler):
    """Answers `/busy` 429 once then 200, `/down` 503 always, `/slow` after the read timeout."""

    calls: ClassVar[dict[str, int]] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen = self.calls[self.path] = self.calls.get(self.path, 0) + 1
        if self.path == "/slow":
            time.sleep(0.5)
        status = {"/busy": 429 if seen == 1 else 200, "/down": 503}.get(self.path, 200)
        self.send_response(status)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.calls = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_generated_traffic_is_retried_like_the_clients_and_never_a_read_timeout(
    flaky_server: str,
) -> None:
    from harness.client import SPENT_RETRIES, RateLimitPolicy, retrying_session

    policy = RateLimitPolicy(backoff_seconds=0.0)
    session = retrying_session(policy)
    # A POST answered 429 is sent again after Retry-After, and the second answer is the one.
    assert session.post(f"{flaky_server}/busy", json={}, timeout=5).status_code == 200
    assert _Flaky.calls["/busy"] == 2
    # Unavailable every time: the retries are spent and the error names the status.
    with pytest.raises(requests.exceptions.RetryError) as spent:
        session.post(f"{flaky_server}/down", json={}, timeout=5)
    assert _Flaky.calls["/down"] == 1 + max(policy.max_retries, policy.unavailable_retries)
    found = SPENT_RETRIES.search(str(spent.value))
    assert found is not None
    assert found.group(1) == "503"
    # A read timeout is not retried: the target may have acted on the request.
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(f"{flaky_server}/slow", json={}, timeout=(5, 0.1))
    time.sleep(0.6)
    assert _Flaky.calls["/slow"] == 1


def test_workers_property_records_merge_into_one_with_the_seed_to_replay() -> None:
    from harness.summary import merge_property_runs, property_line

    one = {"seed": 7, "profile": "quick", "cases": 10, "statuses": {"2xx": 6, "4xx": 4}}
    two = {
        "seed": 7,
        "profile": "quick",
        "cases": 5,
        "statuses": {"4xx": 5},
        "failures": {"t": "x"},
    }
    merged = merge_property_runs([one, None, two])
    assert merged == {
        "seed": 7,
        "profile": "quick",
        "cases": 15,
        "statuses": {"2xx": 6, "4xx": 9},
        "failures": {"t": "x"},
    }
    assert merge_property_runs([None]) is None
    line = property_line(merged)
    assert "seed 7, profile quick, 15 generated cases sent, 1 failing tests" in line
    assert "--property-seed 7" in line
