"""Stoplight Prism, the kind of stateless mock vendors build first, as a real target.

`prism mock schemas/openapi.yaml` is started on a free loopback port and the suites run against
it in a child pytest, the way a vendor would point them at a mock: base URL without `/v1`, a
static bearer token (Prism checks only that one is present), any UUID as the environment id.

- The contract class passes, except the known Prism limitations below: each is a real
  disagreement between Prism and Ping's docs, recorded with its reason. The suite keeps the
  documented expectation for every target; a limitation that stops failing is reported here.
- Against the full suites, the behaviour requirements that need state fail as failures with a
  verdict in the summary, never as errors or crashes.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, PytestRun, run_pytest

PRISM = REPO / "node_modules" / ".bin" / "prism"
ENV_ID = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
STARTUP_SECONDS = 90.0
# A hang guard: Prism's start-up plus a child run of every suite.
pytestmark = pytest.mark.timeout(900)

# Contract-suite tests that fail against Prism 5.14.2, by node id pattern, each with its reason.
PRISM_LIMITATIONS: dict[str, str] = {
    "suites/contract/test_media_types.py::test_a_type_that_selects_no_operation_is_refused"
    "[unknown vnd.pingidentity type on PUT]": (
        "Prism serves a PUT whose Content-Type the document does not declare as if it were one "
        "of the declared types (200), instead of refusing it."
    ),
    "suites/contract/test_media_types.py::test_a_type_that_selects_no_operation_is_refused"
    "[application/json on PUT]": (
        "Prism serves application/json on PUT as a declared type (200); the PUT operations "
        "declare only the vnd.pingidentity types."
    ),
    "suites/contract/test_request_bodies.py::test_valid_body_is_accepted[forceChange: *]": (
        "Prism does not parse a body sent under a media type without a +json suffix "
        "(…password.forceChange, the docs' spelling) as JSON, so `{}` fails the object schema: 400."
    ),
    "suites/contract/test_request_bodies.py::test_valid_body_is_accepted[unlock: *]": (
        "Prism does not parse a body under …password.unlock (the prose's spelling, no +json) "
        "as JSON, so `{}` fails the object schema: 400."
    ),
    "suites/contract/test_request_bodies.py::test_invalid_body_answers_400_with_the_envelope"
    "[*: body is not JSON]": (
        "Prism answers non-JSON bytes with its own body {error: {code: invalid_json}}, not the "
        "PingOne error envelope (no id, code, message)."
    ),
    "suites/contract/test_request_bodies.py::test_invalid_body_answers_400_with_the_envelope"
    "[*: body is not UTF-8]": (
        "Prism decodes bytes that are not UTF-8 leniently (replacement characters) and serves "
        "the body as valid, where a 400 is expected."
    ),
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running `prism mock` of schemas/openapi.yaml; yields its base URL; always stopped."""
    if not PRISM.exists() or shutil.which("node") is None:
        pytest.skip("Prism is not installed (run `make node`); the Prism target is not assessed")
    port = _free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "schemas/openapi.yaml"],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while "listening" not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Prism did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _run(prism: str, tmp_path: Path, *args: str) -> tuple[PytestRun, dict[str, dict[str, Any]]]:
    record = tmp_path / "record.json"
    run = run_pytest(
        [
            *args,
            "-q",
            "-p",
            "tests.faults.recorder",
            "--fault-record",
            str(record),
            "--summary-dir",
            str(tmp_path),
        ],
        env={
            "PINGONE_API_URL": prism,
            "PINGONE_ACCESS_TOKEN": "prism-accepts-any-bearer-token",
            "PINGONE_ENV_ID": ENV_ID,
        },
    )
    records = json.loads(record.read_text()) if record.exists() else {}
    return run, records


def _limitation(node: str) -> str | None:
    for pattern in PRISM_LIMITATIONS:
        if fnmatch.fnmatchcase(node, pattern.replace("[", "[[]")):
            return pattern
    return None


def test_the_contract_class_passes_against_prism_but_for_known_limitations(
    prism: str, tmp_path: Path
) -> None:
    run, records = _run(prism, tmp_path, "suites/contract")
    assert len(records) > 150, f"the contract suite hardly ran:\n{run.output[-3000:]}"
    errors = sorted(node for node, rec in records.items() if rec["outcome"] == "error")
    assert not errors, f"errors, not verdicts: {errors[:10]}\n{run.output[-3000:]}"
    failed = sorted(node for node, rec in records.items() if rec["outcome"] == "failed")
    unexpected = [node for node in failed if _limitation(node) is None]
    assert not unexpected, f"contract failures against Prism: {unexpected}\n{run.output[-3000:]}"
    still = {_limitation(node) for node in failed}
    expired = sorted(set(PRISM_LIMITATIONS) - still)
    assert not expired, f"known Prism limitations that no longer fail (remove them): {expired}"
    assert sum(rec["outcome"] == "passed" for rec in records.values()) > 150


def test_stateful_requirements_fail_with_verdicts_against_prism(prism: str, tmp_path: Path) -> None:
    run, records = _run(prism, tmp_path, "suites")
    assert run.returncode == 1, f"expected failed tests (exit 1):\n{run.output[-3000:]}"
    behaviour = {node: rec for node, rec in records.items() if "suites/behaviour/" in node}
    assert behaviour, f"the behaviour suites did not run:\n{run.output[-3000:]}"
    errors = sorted(node for node, rec in records.items() if rec["outcome"] == "error")
    assert not errors, f"errors, not verdicts: {errors[:10]}\n{run.output[-3000:]}"
    assert any(rec["outcome"] == "failed" for rec in behaviour.values())
    summary = json.loads((tmp_path / "conformance-summary.json").read_text())
    verdicts = {entry["id"]: entry["verdict"] for entry in summary["verdicts"]}
    stateful = {"P1-SET-002", "P1-SET-004", "P1-CHECK-002", "P1-CHECK-005"}
    assert {rid: verdicts.get(rid) for rid in stateful} == dict.fromkeys(stateful, "FAIL")
    assert "Traceback" not in run.output, run.output[-3000:]
