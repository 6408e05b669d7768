"""Where password operations run: on the event loop's thread when their hashing is cheap and the
database is in memory, in a worker thread otherwise, with the same outcome either way.

A worker thread costs the interpreter-bound server more than a whole read (reference/README.md,
"Check under load"), so the fast profile's work stays on the loop; what must not block it (the
strong profile, bcrypt, PBKDF2, a database file another process may lock) still moves off it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reference import encodings, hashing
from reference.hashing import PasswordHasher
from tests.reference.conftest import GOOD_PASSWORD, OTHER_PASSWORD, Api, error_details, make_api
from tests.reference.test_encodings import ENCODERS, PASSWORD, WRONG


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class Where:
    """For every verification and hash one app's hasher ran: on the event loop's thread?"""

    verified: list[bool] = field(default_factory=list)
    hashed: list[bool] = field(default_factory=list)


def _watch(api: Api, monkeypatch: pytest.MonkeyPatch) -> Where:
    """Records where this app's hasher works. Only this app's: other references in the same
    process (a test's background server) hash too, on their own loops."""
    hasher: PasswordHasher = api.client.app.state.passwords.hasher  # type: ignore[attr-defined]
    where = Where()
    real_verify, real_hash = hasher.verify, hasher.hash

    def verify(stored: str, password: str) -> bool:
        matches = real_verify(stored, password)  # raises Offload on the loop when not cheap
        where.verified.append(_on_event_loop())
        return matches

    def hash_(password: str) -> str:
        stored = real_hash(password)  # raises Offload on the loop when not cheap
        where.hashed.append(_on_event_loop())
        return stored

    monkeypatch.setattr(hasher, "verify", verify)
    monkeypatch.setattr(hasher, "hash", hash_)
    return where


def _built(**overrides: Any) -> Iterator[Api]:
    api = make_api(**overrides)
    with api.client:
        yield api


@pytest.fixture
def strong_api() -> Iterator[Api]:
    yield from _built(hash_profile="strong")


@pytest.fixture
def file_api(tmp_path: Path) -> Iterator[Api]:
    yield from _built(db_path=str(tmp_path / "reference.sqlite3"))


def test_fast_profile_checks_and_changes_run_on_the_event_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = api.user_with_password()
    where = _watch(api, monkeypatch)
    assert api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200
    wrong = api.op("check", user_id, {"password": GOOD_PASSWORD + "x"})
    assert error_details(wrong)[0]["innerError"]["failuresRemaining"] == 4
    body = {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD}
    assert api.op("reset", user_id, body).status_code == 200
    assert where.verified
    assert all(where.verified), where.verified
    assert where.hashed
    assert all(where.hashed), where.hashed


def test_strong_profile_hashing_moves_to_a_worker_thread(
    strong_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _watch(strong_api, monkeypatch)
    user_id = strong_api.user_with_password()
    assert strong_api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200
    wrong = strong_api.op("check", user_id, {"password": GOOD_PASSWORD + "x"})
    # The attempt on the loop stopped before it counted anything: one failure, not two.
    assert error_details(wrong)[0]["innerError"]["failuresRemaining"] == 4
    assert where.hashed == [False], where.hashed
    assert where.verified == [False, False], where.verified


@pytest.mark.parametrize("scheme", ["BCRYPT-2b", "PBKDF2-sha256-passlib", "SSHA", "ARGON2-id"])
def test_imported_values_verify_where_their_cost_allows(
    api: Api, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    where = _watch(api, monkeypatch)
    user_id = api.create_user()
    value = ENCODERS[scheme](PASSWORD)
    assert api.op("set", user_id, {"value": value}).status_code == 200
    wrong = api.op("check", user_id, {"password": WRONG})
    assert error_details(wrong)[0]["innerError"]["failuresRemaining"] == 4
    assert api.op("check", user_id, {"password": PASSWORD}).status_code == 200
    expected_on_loop = encodings.verification_cost(value).cheap
    assert where.verified == [expected_on_loop] * 2, where.verified
    assert expected_on_loop is (scheme in ("SSHA", "ARGON2-id"))


def test_a_database_file_keeps_every_operation_off_the_loop(
    file_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _watch(file_api, monkeypatch)
    user_id = file_api.user_with_password()
    assert file_api.op("check", user_id, {"password": GOOD_PASSWORD}).status_code == 200
    assert where.verified == [False]
    assert where.hashed
    assert not any(where.hashed), where.hashed


def test_recover_with_strong_hashing_moves_to_a_worker_and_succeeds(
    strong_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _watch(strong_api, monkeypatch)
    user_id = strong_api.user_with_password()
    assert strong_api.op("sendRecoveryCode", user_id).status_code == 200
    code = strong_api.request("GET", f"/__reference/recovery-codes/{user_id}").json()
    body = {"recoveryCode": code["recoveryCode"], "newPassword": OTHER_PASSWORD}
    assert strong_api.op("recover", user_id, body).status_code == 200
    assert strong_api.state(user_id)["status"] == "OK"
    assert strong_api.op("check", user_id, {"password": OTHER_PASSWORD}).status_code == 200
    assert where.hashed[-1] is False


@pytest.mark.parametrize(
    ("stored", "cheap"),
    [
        ("{ARGON2}$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", True),
        ("{argon2}$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", True),
        ("{ARGON2}$argon2id$v=19$m=512,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", False),
        ("{ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", False),
        ("{ARGON2}$argon2id$v=19$m=8", False),
        ("{SSHA512}c2FsdA==", True),
        ("{BCRYPT}$2b$04$x", False),
        ("{PBKDF2}$pbkdf2-sha256$1$c2FsdA$aGFzaA", False),
        ("cleartext", False),
    ],
)
def test_which_stored_values_are_cheap_to_verify(stored: str, cheap: bool) -> None:
    assert encodings.verification_cost(stored).cheap is cheap


@pytest.mark.parametrize(
    ("work", "offloads"),
    [
        pytest.param(lambda h: h.verify("{BCRYPT}$2b$04$x", "pw"), True, id="verify-bcrypt"),
        pytest.param(lambda h: h.verify("{SSHA}c2FsdA==", "pw"), False, id="verify-ssha"),
        pytest.param(lambda h: h.hash("pw"), False, id="hash-fast"),
    ],
)
def test_offload_is_raised_only_on_the_event_loop(
    work: Callable[[PasswordHasher], object], offloads: bool
) -> None:
    hasher = PasswordHasher("fast")
    work(hasher)  # outside on_event_loop: never raises
    with hashing.on_event_loop():
        if offloads:
            with pytest.raises(hashing.Offload):
                work(hasher)
        else:
            work(hasher)
    strong = PasswordHasher("strong")
    with hashing.on_event_loop(), pytest.raises(hashing.Offload):
        strong.hash("pw")
