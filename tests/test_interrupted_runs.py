"""A run interrupted midway still deletes every user it created.

The suites run in a child pytest against a reference whose answers are slowed down (so the
run is surely midway when the signal comes); once users under test exist, the run gets SIGINT
(Ctrl-C), or one xdist worker gets SIGTERM (what a CI runner's cancel sends). Afterwards the
reference holds no user with the suite's prefix.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference.config import ReferenceConfig
from reference.server import RunningReference, start_reference
from tests.conftest import REPO, target_environment
from tests.faults.rewriting import ASGIApp, Receive, Scope, Send

SLOW_SECONDS = 0.15
PREFIX = "p1conf-"
pytestmark = pytest.mark.timeout(240)


def _slowed(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/users" in str(scope.get("path", "")):
            await asyncio.sleep(SLOW_SECONDS)
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def slow_reference() -> Iterator[RunningReference]:
    running = start_reference(
        ReferenceConfig(hash_profile="fast", test_routes=True), app_wrapper=_slowed
    )
    try:
        yield running
    finally:
        running.stop()


def _suite_users(reference: RunningReference) -> list[dict[str, Any]]:
    token = httpx.post(
        f"{reference.auth_base_url}/{reference.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(reference.client_id, reference.client_secret),
    ).json()["access_token"]
    answer = httpx.get(
        f"{reference.api_base_url}/environments/{reference.env_id}/users",
        params={"filter": f'username sw "{PREFIX}"', "limit": "1000"},
        headers={"Authorization": f"Bearer {token}"},
    )
    users: list[dict[str, Any]] = answer.json().get("_embedded", {}).get("users", [])
    return users


def _start(reference: RunningReference, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    env.update(target_environment(reference))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "-q",
            "-p",
            "no:cacheprovider",
            "--conformance",
            "behaviour",
            "--summary-dir",
            str(tmp_path),
            *args,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_users(reference: RunningReference, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _suite_users(reference):
            return
        assert process.poll() is None, "the run ended before it created a user"
        time.sleep(0.05)
    pytest.fail("the run created no user within 60 s")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def test_ctrl_c_midway_deletes_every_user_created(
    slow_reference: RunningReference, tmp_path: Path
) -> None:
    process = _start(slow_reference, tmp_path)
    _wait_for_users(slow_reference, process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output[-3000:]  # pytest: interrupted
    assert _suite_users(slow_reference) == [], output[-3000:]


def test_sigterm_to_a_worker_midway_deletes_every_user_created(
    slow_reference: RunningReference, tmp_path: Path
) -> None:
    process = _start(slow_reference, tmp_path, "-n", "2")
    _wait_for_users(slow_reference, process)
    workers = _children(process.pid)
    assert workers, "no xdist worker process found"
    os.kill(workers[0], signal.SIGTERM)
    output, _ = process.communicate(timeout=180)
    assert process.returncode != 0, output[-3000:]
    assert _suite_users(slow_reference) == [], output[-3000:]
