"""Preflight stops a suite run before any test, with one line on stderr and its exit code.

Each case runs `pytest suites` in a child process, configured only through the environment,
the way CI would.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import KNOWN_CLIENT_SECRET, ReferenceStarter, run_pytest, target_environment

ENV_ID = "3f9c2c8e-6a4b-4f5e-9d1a-2b7c8e0f1a2b"

PREFIX = "pingone-conformance: "


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_stopped_before_tests(
    code: int, returncode: int, stderr: str, stdout: str, fragment: str, summary_dir: Path
) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert returncode == code, stdout + stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith(PREFIX), lines[0]
    assert fragment in lines[0]
    assert "Traceback" not in stdout + stderr
    assert " passed" not in stdout
    assert " failed" not in stdout
    assert "Exit" not in stdout + stderr, "the failure is said twice (as a pytest Exit banner)"
    summary = json.loads((summary_dir / "conformance-summary.json").read_text())
    assert summary["verdict"] == "NO VERDICT", summary
    assert summary["run_passes"] is False
    assert f"(exit {code})" in summary["reason"]
    assert summary["verdicts"] == []


def test_unreachable_target_exits_11(tmp_path: Path) -> None:
    port = _free_port()
    run = run_pytest(
        ["suites", "-q", "--summary-dir", str(tmp_path / "summary")],
        env={
            "PINGONE_API_URL": f"http://127.0.0.1:{port}/v1",
            "PINGONE_ENV_ID": ENV_ID,
            "PINGONE_CLIENT_ID": "client-1",
            "PINGONE_CLIENT_SECRET": KNOWN_CLIENT_SECRET,
        },
    )
    _assert_stopped_before_tests(
        11, run.returncode, run.stderr, run.stdout, "target unreachable", tmp_path / "summary"
    )
    assert "connection refused" in run.stderr
    assert KNOWN_CLIENT_SECRET not in run.output


def test_refused_client_secret_exits_12(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    reference = start_known_reference()
    env = target_environment(reference)
    env["PINGONE_CLIENT_SECRET"] = "wrong-secret-7d0c5e"
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        12, run.returncode, run.stderr, run.stdout, "credentials refused", tmp_path / "summary"
    )
    assert "wrong-secret-7d0c5e" not in run.output


def test_refused_static_token_exits_12(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    reference = start_known_reference()
    env = {
        "PINGONE_API_URL": reference.api_base_url,
        "PINGONE_ENV_ID": reference.env_id,
        "PINGONE_ACCESS_TOKEN": "not-a-token-5b2f",
    }
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        12, run.returncode, run.stderr, run.stdout, "HTTP 401", tmp_path / "summary"
    )
    assert "not-a-token-5b2f" not in run.output


def test_unknown_environment_at_the_token_endpoint_exits_13(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    reference = start_known_reference()
    env = target_environment(reference)
    env["PINGONE_ENV_ID"] = "00000000-0000-4000-8000-000000000000"
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        13, run.returncode, run.stderr, run.stdout, "unknown environment", tmp_path / "summary"
    )


def test_unknown_environment_at_the_api_exits_13(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    reference = start_known_reference()
    token = httpx.post(
        f"{reference.auth_base_url}/{reference.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(reference.client_id, KNOWN_CLIENT_SECRET),
    ).json()["access_token"]
    env = {
        "PINGONE_API_URL": reference.api_base_url,
        "PINGONE_ENV_ID": "00000000-0000-4000-8000-000000000000",
        "PINGONE_ACCESS_TOKEN": token,
    }
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        13, run.returncode, run.stderr, run.stdout, "unknown environment", tmp_path / "summary"
    )
    assert token not in run.output


def test_a_base_url_without_the_api_path_exits_10_with_a_hint(
    tmp_path: Path, start_known_reference: ReferenceStarter
) -> None:
    reference = start_known_reference()
    env = target_environment(reference)
    env["PINGONE_API_URL"] = reference.auth_base_url  # http://127.0.0.1:PORT, no /v1
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        10, run.returncode, run.stderr, run.stdout, "add /v1", tmp_path / "summary"
    )
    assert "unknown environment" not in run.stderr


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        pytest.param(
            {
                "PINGONE_API_URL": "https://api.pingone.com/v1",
                "PINGONE_CLIENT_ID": "c",
                "PINGONE_CLIENT_SECRET": KNOWN_CLIENT_SECRET,
            },
            "environment id",
            id="base-url-without-env-id",
        ),
        pytest.param(
            {"PINGONE_API_URL": "https://api.pingone.com/v1", "PINGONE_ENV_ID": ENV_ID},
            "credentials",
            id="base-url-without-credentials",
        ),
        pytest.param(
            {"PINGONE_ENV_ID": ENV_ID}, "without a base URL", id="env-id-without-base-url"
        ),
    ],
)
def test_incomplete_configuration_exits_10(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    run = run_pytest(["suites", "-q", "--summary-dir", str(tmp_path / "summary")], env=env)
    _assert_stopped_before_tests(
        10, run.returncode, run.stderr, run.stdout, fragment, tmp_path / "summary"
    )
    assert KNOWN_CLIENT_SECRET not in run.output


def test_collect_only_does_not_contact_the_target(tmp_path: Path) -> None:
    run = run_pytest(
        ["suites", "--collect-only", "-q", "--summary-dir", str(tmp_path / "summary")],
        env={
            "PINGONE_API_URL": f"http://127.0.0.1:{_free_port()}/v1",
            "PINGONE_ENV_ID": ENV_ID,
            "PINGONE_ACCESS_TOKEN": "t",
        },
    )
    assert run.returncode == 0, run.output
    assert "test_behaviour_case[check:" in run.stdout
    assert not (tmp_path / "summary").exists(), "collect-only wrote a summary although nothing ran"


def test_project_tests_never_contact_the_target() -> None:
    run = run_pytest(
        ["tests/harness/test_config.py", "-q"],
        env={
            "PINGONE_API_URL": f"http://127.0.0.1:{_free_port()}/v1",
            "PINGONE_ENV_ID": ENV_ID,
            "PINGONE_ACCESS_TOKEN": "t",
        },
    )
    assert run.returncode == 0, run.output
    assert PREFIX not in run.output
