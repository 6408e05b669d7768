"""The harness's pytest hooks, exercised on small probe suites run in a child pytest.

A probe is a throw-away project: a copy of pytest.ini and a `suites/` folder with one test
file. The child loads the repository's root conftest as a plugin, so options, fixtures,
requirement checks, grading and report scrubbing are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, PytestRun, ReferenceStarter, run_pytest, target_environment

PROBE = """
import pytest

@pytest.mark.requirement("P1-SET-001")
def test_must_passes(target):
    assert target.env_id

@pytest.mark.requirement("P1-SET-004")
def test_should_fails():
    assert 1 == 2

@pytest.mark.requirement("P1-CHECK-003")
def test_observed_fails():
    assert 1 == 2

@pytest.mark.requirement("P1-SET-002")
def test_must_fails():
    assert 1 == 2

def test_unlabelled_fails():
    assert 1 == 2
"""


def _probe(tmp_path: Path, source: str) -> Path:
    project = tmp_path / "probe"
    (project / "suites").mkdir(parents=True)
    (project / "pytest.ini").write_text((REPO / "pytest.ini").read_text())
    (project / "suites" / "test_probe.py").write_text(source)
    return project


def _run_probe(project: Path, *args: str, env: dict[str, str] | None = None) -> PytestRun:
    child_env = {"PYTHONPATH": str(REPO), **(env or {})}
    return run_pytest(
        ["suites", "-p", "conftest", "--summary-dir", str(project / "summary"), *args],
        env=child_env,
        cwd=project,
    )


def test_unknown_requirement_ids_stop_collection(tmp_path: Path) -> None:
    project = _probe(
        tmp_path,
        'import pytest\n\n@pytest.mark.requirement("P1-NOPE-999")\ndef test_x():\n    pass\n\n'
        "@pytest.mark.requirement()\ndef test_y():\n    pass\n",
    )
    run = _run_probe(project)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.output
    assert "suites/test_probe.py::test_x: unknown requirement id(s) ['P1-NOPE-999']" in run.stderr
    assert "suites/test_probe.py::test_y: @pytest.mark.requirement() names no" in run.stderr
    assert "pingone-conformance:" not in run.output  # stopped before preflight


@pytest.mark.parametrize(
    ("selection", "gate", "returncode"),
    [
        ("test_must_passes or test_should_fails", "must", 0),
        ("test_must_passes or test_should_fails", "should", 1),
        ("test_observed_fails", "should", 0),
        ("test_observed_fails", "observed", 1),
        ("test_must_fails", "must", 1),
        ("test_unlabelled_fails", "observed", 1),
    ],
    ids=[
        "should-under-must",
        "should-under-should",
        "observed-under-should",
        "observed-under-observed",
        "must-under-must",
        "unlabelled-always",
    ],
)
def test_the_gate_decides_the_exit_status_and_outcomes_stay_failed(
    tmp_path: Path, selection: str, gate: str, returncode: int
) -> None:
    project = _probe(tmp_path, PROBE)
    run = _run_probe(project, "-k", selection, "--gate", gate)
    assert run.returncode == returncode, run.output[-3000:]
    assert "1 failed" in run.stdout  # the outcome is never changed
    summary = json.loads((project / "summary" / "conformance-summary.json").read_text())
    assert summary["gate"] == gate
    assert summary["run_passes"] is (returncode == 0)
    assert summary["gate_explanation"] in run.stdout


def test_failure_reports_never_show_a_generated_password(tmp_path: Path) -> None:
    source = """
import os
import pathlib

import pytest

@pytest.mark.requirement("P1-SET-004")
def test_leaky(passwords, password_policy):
    secret = passwords.valid(password_policy)
    pathlib.Path(os.environ["PROBE_OUT"]).write_text(secret)
    print("captured", secret)
    assert secret == "nope", f"the secret was {secret}"
"""
    project = _probe(tmp_path, source)
    run = _run_probe(
        project,
        "-l",
        "--alluredir",
        str(project / "allure"),
        "--junitxml",
        str(project / "junit.xml"),
        "-rA",
        env={"PROBE_OUT": str(project / "secret.txt")},
    )
    secret = (project / "secret.txt").read_text()
    assert len(secret) >= 8
    assert run.returncode == 0, run.output  # a SHOULD failure under the default gate
    assert "[REDACTED]" in run.stdout
    assert secret not in run.output
    written = [p for p in project.rglob("*") if p.is_file() and p.name != "secret.txt"]
    assert any(p.suffix == ".json" for p in (project / "allure").iterdir())
    for path in written:
        assert secret not in path.read_text(errors="replace"), path.name


def test_sigterm_still_deletes_the_users_under_test(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    source = """
import os
import pathlib
import time

def test_waits(user_factory):
    user = user_factory.create(password="valid")
    pathlib.Path(os.environ["PROBE_OUT"]).write_text(user.id)
    time.sleep(60)
"""
    reference = start_known_reference()
    project = _probe(tmp_path, source)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")},
        **target_environment(reference),
        "PYTHONPATH": str(REPO),
        "PROBE_OUT": str(project / "user-id.txt"),
    }
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "--summary-dir",
            str(project / "summary"),
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    marker = project / "user-id.txt"
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the probe never created its user"
        user_id = marker.read_text()
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == pytest.ExitCode.INTERRUPTED, output
    token = httpx.post(
        f"{reference.auth_base_url}/{reference.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(reference.client_id, reference.client_secret),
    ).json()["access_token"]
    answer = httpx.get(
        f"{reference.api_base_url}/environments/{reference.env_id}/users/{user_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 404, "the user under test survived SIGTERM"
