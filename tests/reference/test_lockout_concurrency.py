"""Concurrent wrong checks are counted exactly: N at once lower failuresRemaining by exactly N,
up to the lockout, whichever storage the reference uses.

The checks go over HTTP to a reference served by uvicorn in a thread (real worker threads, real
SQLite connections), each from its own connection, opened beforehand and released together at a
barrier so that they overlap on the server.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference.config import ReferenceConfig
from reference.server import RunningReference, start_reference
from tests.reference.conftest import GOOD_PASSWORD, MEDIA

WRONG = json.dumps({"password": "Not-The-Password-1"})
CHECK = {"Content-Type": MEDIA["check"]}


def _token(ref: RunningReference) -> str:
    response = httpx.post(
        f"{ref.auth_base_url}/{ref.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(ref.client_id, ref.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _remaining(response: httpx.Response) -> int:
    assert response.status_code == 400, response.text
    detail = response.json()["details"][0]
    assert detail["code"] == "INVALID_VALUE"
    return int(detail["innerError"]["failuresRemaining"])


def _is_locked_refusal(response: httpx.Response) -> bool:
    body: dict[str, Any] = response.json()
    return (
        response.status_code == 400
        and body.get("code") == "REQUEST_FAILED"
        and [d.get("code") for d in body.get("details", [])] == ["ACCOUNT_NOT_USABLE"]
    )


def _concurrent_wrong_checks(
    ref: RunningReference, headers: dict[str, str], url: str, n: int
) -> list[httpx.Response]:
    """Sends ``n`` wrong checks at once, each on its own already-open connection."""
    barrier = threading.Barrier(n)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=ref.api_base_url, headers=headers, timeout=30) as client:
            client.get(url).raise_for_status()  # the connection is open before the barrier
            barrier.wait(timeout=30)
            return client.post(url, content=WRONG, headers=CHECK)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.parametrize("storage", ["memory", "file"])
@pytest.mark.parametrize(
    ("failure_count", "concurrent"),
    [
        (40, 1),
        (40, 8),
        (40, 24),  # well below the lockout: every check counts, one each
        (13, 12),  # exactly the failures left: the last one locks
        (6, 16),  # past the lockout: 5 count, the other 11 are refused as locked
    ],
)
def test_n_concurrent_wrong_checks_lower_failures_remaining_by_exactly_n(
    storage: str, failure_count: int, concurrent: int, tmp_path: Path
) -> None:
    db_path = ":memory:" if storage == "memory" else str(tmp_path / "reference.sqlite3")
    config = ReferenceConfig(
        hash_profile="fast",
        db_path=db_path,
        policy_overrides={"lockout": {"failureCount": failure_count, "durationSeconds": 900}},
    )
    with start_reference(config) as ref:
        headers = {"Authorization": f"Bearer {_token(ref)}"}
        with httpx.Client(base_url=ref.api_base_url, headers=headers, timeout=30) as http:
            user = http.post(f"/environments/{ref.env_id}/users", json={"username": "racer"})
            url = f"/environments/{ref.env_id}/users/{user.json()['id']}/password"
            http.put(
                url,
                content=json.dumps({"value": GOOD_PASSWORD}),
                headers={"Content-Type": MEDIA["set"]},
            ).raise_for_status()
            # One wrong check first, so the count under test does not start from zero.
            before = _remaining(http.post(url, content=WRONG, headers=CHECK))

            responses = _concurrent_wrong_checks(ref, headers, url, concurrent)

            counted = [r for r in responses if not _is_locked_refusal(r)]
            refused = len(responses) - len(counted)
            expected_counted = min(concurrent, before)
            # Each counted check saw its own failure: before-1, before-2, …, one value each.
            assert sorted((_remaining(r) for r in counted), reverse=True) == list(
                range(before - 1, before - 1 - expected_counted, -1)
            )
            assert refused == concurrent - expected_counted
            after = before - expected_counted
            state = http.get(url).json()["status"]
            if after == 0:
                assert state == "PASSWORD_LOCKED_OUT"
                assert _is_locked_refusal(http.post(url, content=WRONG, headers=CHECK))
            else:
                assert state == "OK"
                # The next sequential failure continues from exactly N lower.
                assert _remaining(http.post(url, content=WRONG, headers=CHECK)) == after - 1
