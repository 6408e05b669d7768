"""``start_reference`` over real HTTP, and ``python -m reference`` as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference.config import ReferenceConfig
from reference.server import start_reference
from tests.reference.conftest import GOOD_PASSWORD, MEDIA

ROOT = Path(__file__).resolve().parents[2]


def _token(auth_base: str, env_id: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{auth_base}/{env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def test_start_reference_serves_on_a_free_port_and_stops() -> None:
    config = ReferenceConfig(hash_profile="fast")
    with start_reference(config, host="127.0.0.1", port=0) as ref:
        assert ref.api_base_url == f"http://127.0.0.1:{ref.port}/v1"
        assert ref.auth_base_url == f"http://127.0.0.1:{ref.port}"
        assert (ref.env_id, ref.client_id, ref.client_secret) == (
            config.env_id,
            config.client_id,
            config.client_secret,
        )
        token = _token(ref.auth_base_url, ref.env_id, ref.client_id, ref.client_secret)
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{ref.api_base_url}/environments/{ref.env_id}/users",
            json={"username": "http-user"},
            headers=headers,
        )
        assert created.status_code == 201
        assert created.headers["location"].startswith(ref.api_base_url)
        password_url = created.headers["location"] + "/password"
        state = httpx.put(
            password_url,
            content=json.dumps({"value": GOOD_PASSWORD}),
            headers={**headers, "Content-Type": MEDIA["set"]},
        ).json()
        assert state["_links"]["self"]["href"] == password_url
        port = ref.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/environments/x", timeout=2)


def test_app_wrapper_wraps_the_served_app() -> None:
    seen: list[str] = []

    def wrapper(app: Any) -> Any:
        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append(scope["path"])
            await app(scope, receive, send)

        return wrapped

    with start_reference(ReferenceConfig(hash_profile="fast"), app_wrapper=wrapper) as ref:
        httpx.get(f"{ref.api_base_url}/environments/{ref.env_id}/users")
    assert seen == [f"/v1/environments/{ref.env_id}/users"]


def test_stop_is_graceful_and_repeatable() -> None:
    ref = start_reference(ReferenceConfig(hash_profile="fast"))
    ref.stop()
    ref.stop()
    assert "client_secret" not in repr(ref)
    assert ref.client_secret not in repr(ref.config)


def _run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reference", "--port", "0", "--hash-cost", "fast", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    return process, process.stdout.readline()


def _stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Sends Ctrl-C; returns the exit code and the rest of stdout and stderr."""
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def test_cli_json_line_and_serving() -> None:
    process, line = _run_cli("--json", "--enable-test-routes")
    try:
        info = json.loads(line)
        assert set(info) == {
            "api_base_url",
            "auth_base_url",
            "env_id",
            "client_id",
            "client_secret",
        }
        port = int(info["auth_base_url"].rsplit(":", 1)[1])
        assert port > 0
        assert info["api_base_url"] == info["auth_base_url"] + "/v1"
        token = _token(
            info["auth_base_url"], info["env_id"], info["client_id"], info["client_secret"]
        )
        response = httpx.post(
            f"{info['auth_base_url']}/__reference/clock",
            json={"advanceSeconds": 0},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    finally:
        code, _, _ = _stop(process)
    assert code == 0


def test_cli_does_not_echo_a_given_secret() -> None:
    secret = "Given-Secret-From-Env-42"
    process, line = _run_cli(
        "--json",
        "--env-id",
        "env-1",
        "--client-id",
        "client-1",
        env={"REFERENCE_CLIENT_SECRET": secret},
    )
    try:
        info = json.loads(line)
        assert info["client_secret"] == "(as given)"
        assert (info["env_id"], info["client_id"]) == ("env-1", "client-1")
        _token(info["auth_base_url"], "env-1", "client-1", secret)
    finally:
        _, out, err = _stop(process)
    assert secret not in out + err


def test_cli_text_output_names_everything() -> None:
    process, first = _run_cli("--client-secret", "typed-secret")
    assert process.stdout is not None
    text = first + "".join(process.stdout.readline() for _ in range(5))
    _, _, err = _stop(process)
    assert first.startswith("API base URL:")
    for label in ("Auth base URL:", "Environment id:", "Client id:", "Client secret:  (as given)"):
        assert label in text
    assert "typed-secret" not in text + err


def test_cli_reports_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "reference", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "cannot listen" in result.stderr


def test_small_responses_do_not_wait_on_delayed_acks() -> None:
    """Keep-alive requests answer in milliseconds: TCP_NODELAY is on (without it, each small
    response waits about 40 ms for the client's delayed ACK)."""
    with start_reference(ReferenceConfig(hash_profile="fast")) as ref:
        token = _token(ref.auth_base_url, ref.env_id, ref.client_id, ref.client_secret)
        url = f"{ref.api_base_url}/environments/{ref.env_id}/passwordPolicies"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            client.get(url).raise_for_status()
            durations = []
            for _ in range(21):
                started = time.perf_counter()
                client.get(url).raise_for_status()
                durations.append(time.perf_counter() - started)
    assert sorted(durations)[10] < 0.03
