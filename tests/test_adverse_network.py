"""The suites against the reference through an adverse network: no false failure, no leftover.

Between the suites and a correct reference sit a resetting TCP proxy and the reference's own
seam (tests/adverse.py): 10% of requests answered 429 (Retry-After: 0), an occasional 503,
100 ms added to every request, connections closed after a quarter of the answers and reset at
random when opened. A correct client must see a correct server: the run has no conformance
failure and leaves no user under test behind. A target that stays unavailable beyond the
retries is "target unavailable" (tests/harness/test_verdict.py), never a conformance failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference.config import ReferenceConfig
from reference.server import RunningReference, start_reference
from tests.adverse import AdverseSettings, ResettingProxy, adverse_app
from tests.conftest import PytestRun, start_pytest, wait_pytest

pytestmark = pytest.mark.timeout(900)
RUN_TIMEOUT = 800.0


class AdverseRun:
    """The whole suite through the adverse network, in a child pytest on a thread of its own.

    The run waits on latency far more than it computes (about 40% of one core over its two to
    three minutes), so tests/conftest.py starts it as soon as collection ends and it runs beside
    the rest of `make test`; the test below only waits for its outcome.
    """

    def __init__(self) -> None:
        self.settings = AdverseSettings()
        self.folder = Path(tempfile.mkdtemp(prefix="adverse-run-"))
        self.outcome: Future[PytestRun] = Future()
        self.child: subprocess.Popen[str] | None = None
        self.reference = start_reference(
            ReferenceConfig(hash_profile="fast", test_routes=True),
            app_wrapper=lambda app: adverse_app(app, self.settings),
        )
        try:
            self.proxy = ResettingProxy(self.reference.port).start()
        except BaseException:
            self.reference.stop()
            raise
        self._thread = threading.Thread(target=self._run, name="adverse-run", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        through_proxy = f"http://127.0.0.1:{self.proxy.port}"
        env = {
            "PINGONE_API_URL": f"{through_proxy}/v1",
            "PINGONE_AUTH_URL": through_proxy,
            "PINGONE_ENV_ID": self.reference.env_id,
            "PINGONE_CLIENT_ID": self.reference.client_id,
            "PINGONE_CLIENT_SECRET": self.reference.client_secret,
        }
        args = ["suites", "-q", "--summary-dir", str(self.folder), *SELECTION]
        try:
            self.child = start_pytest(args, env=env)
            self.outcome.set_result(wait_pytest(self.child, RUN_TIMEOUT))
        except BaseException as error:  # a timeout or a failed start: the test reports it
            self.outcome.set_exception(error)

    def close(self) -> None:
        """Stop the run (its child at once when it has not ended), the proxy and the reference."""
        if self.child is not None and self.child.poll() is None:
            self.child.kill()
        self._thread.join(timeout=30)
        self.proxy.stop()
        self.reference.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


_started: list[AdverseRun] = []
_lock = threading.Lock()


def start_early(session: pytest.Session | None = None) -> None:
    """Start the run now, once per process (tests/conftest.py, when collection has ended)."""
    with _lock:
        if not _started:
            _started.append(AdverseRun())


def stop() -> None:
    """Stop a started run (tests/conftest.py, at the end of the session)."""
    with _lock:
        while _started:
            _started.pop().close()


@pytest.fixture
def adverse() -> AdverseRun:
    start_early()  # a no-op when collection already started it
    return _started[0]


def _leftovers(reference: RunningReference) -> list[dict[str, Any]]:
    """Users with the suite's prefix, read from the reference directly (no proxy)."""
    with httpx.Client(transport=httpx.HTTPTransport(retries=3)) as client:
        for _ in range(20):  # the reference itself still answers 429/503 at times
            token = client.post(
                f"{reference.auth_base_url}/{reference.env_id}/as/token",
                data={"grant_type": "client_credentials"},
                auth=(reference.client_id, reference.client_secret),
            )
            if token.status_code != 200:
                continue
            answer = client.get(
                f"{reference.api_base_url}/environments/{reference.env_id}/users",
                params={"filter": 'username sw "p1conf-"', "limit": "1000"},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            if answer.status_code == 200:
                users: list[dict[str, Any]] = answer.json().get("_embedded", {}).get("users", [])
                return users
    pytest.fail("could not list the reference's users")


# The whole suite with two workers, generated traffic included (the property suite's session
# retries as the harness's client does). Only the long stateful scenarios are left out: their
# thousand-odd requests through 100 ms of latency would add two minutes to `make test`, and they
# send through the same retrying session as the generated-request tests that do run here.
SELECTION = ("-n", "2", "-k", "not test_password_sequences_keep_the_model")


def _excerpt(output: str) -> str:
    """The start of the failure reports (what went wrong) and the end (the summary)."""
    start = output.find("= FAILURES =")
    failures = output[start : start + 6000] + "\n[...]\n" if start >= 0 else ""
    return failures + output[-3000:]


def test_an_adverse_network_causes_no_false_failure_and_no_leftover(adverse: AdverseRun) -> None:
    run = adverse.outcome.result(timeout=RUN_TIMEOUT + 30)
    settings, proxy = adverse.settings, adverse.proxy
    summary = json.loads((adverse.folder / "conformance-summary.json").read_text())
    failing = [v["id"] for v in summary["verdicts"] if v["verdict"] == "FAIL"]
    assert failing == [], _excerpt(run.output)
    assert summary["unavailable"] == [], _excerpt(run.output)
    assert run.returncode == 0, _excerpt(run.output)
    # Generated traffic went through the same network (counted across both workers).
    assert summary["property_run"]["cases"] > 100, _excerpt(run.output)
    # The adversity really happened, and the client really retried through it.
    assert settings.counts["429"] > 0
    assert settings.counts["503"] > 0
    assert settings.counts["close"] > 0
    assert proxy.resets > 0
    assert summary["rate_limit"]["retries"] > 0
    assert summary["rate_limit"]["unavailable_retries"] > 0
    assert _leftovers(adverse.reference) == []
