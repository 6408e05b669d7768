"""Pre-encoded passwords: every supported scheme verifies the right password and refuses a wrong
one; unknown schemes and malformed encodings are 400 INVALID_DATA on ``value``."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import argon2
import bcrypt
import pytest

from reference import encodings, hashing
from reference.hashing import PasswordHasher
from tests.reference.conftest import IMPORT, Api, assert_envelope, error_details

PASSWORD = "pw"  # fails every Standard rule: proves pre-encoded values skip the policy
WRONG = "pw2"


def ssha(name: str, digest: str, salt_length: int = 8) -> Callable[[str], str]:
    def encode(password: str) -> str:
        salt = os.urandom(salt_length)
        raw = hashlib.new(digest, password.encode() + salt).digest() + salt
        return "{" + name + "}" + base64.b64encode(raw).decode()

    return encode


def bcrypt_value(prefix: str) -> Callable[[str], str]:
    def encode(password: str) -> str:
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=b"2b"))
        return "{BCRYPT}" + prefix + hashed.decode()[4:]

    return encode


def argon2_value(kind: argon2.Type) -> Callable[[str], str]:
    def encode(password: str) -> str:
        hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=kind)
        return "{ARGON2}" + hasher.hash(password)

    return encode


def pbkdf2_value(label: str, digest: str, adapted: bool) -> Callable[[str], str]:
    def b64(data: bytes) -> str:
        text = base64.b64encode(data).decode()
        return text.rstrip("=").replace("+", ".") if adapted else text

    def encode(password: str) -> str:
        salt = os.urandom(16)
        derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt, 1000)
        return f"{{PBKDF2}}${label}$1000${b64(salt)}${b64(derived)}"

    return encode


ENCODERS = {
    "SSHA": ssha("SSHA", "sha1"),
    "SSHA256": ssha("SSHA256", "sha256"),
    "SSHA384": ssha("SSHA384", "sha384"),
    "SSHA512": ssha("SSHA512", "sha512"),
    "SSHA512-no-salt": ssha("SSHA512", "sha512", salt_length=0),
    "BCRYPT-2a": bcrypt_value("$2a$"),
    "BCRYPT-2b": bcrypt_value("$2b$"),
    "BCRYPT-2y": bcrypt_value("$2y$"),
    "ARGON2-id": argon2_value(argon2.Type.ID),
    "ARGON2-i": argon2_value(argon2.Type.I),
    "ARGON2-d": argon2_value(argon2.Type.D),
    "PBKDF2-sha1-passlib": pbkdf2_value("pbkdf2", "sha1", adapted=True),
    "PBKDF2-sha256-passlib": pbkdf2_value("pbkdf2-sha256", "sha256", adapted=True),
    "PBKDF2-sha512-passlib": pbkdf2_value("pbkdf2-sha512", "sha512", adapted=True),
    "PBKDF2-sha256-standard": pbkdf2_value("pbkdf2-sha256", "sha256", adapted=False),
}


@pytest.mark.parametrize("scheme", list(ENCODERS))
def test_module_verifies_each_scheme(scheme: str) -> None:
    value = ENCODERS[scheme](PASSWORD)
    assert encodings.verify(value, PASSWORD)
    assert not encodings.verify(value, WRONG)


@pytest.mark.parametrize("scheme", list(ENCODERS))
def test_set_pre_encoded_then_check(api: Api, scheme: str) -> None:
    user_id = api.create_user()
    value = ENCODERS[scheme](PASSWORD)
    response = api.op("set", user_id, {"value": value, "forceChange": False})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "OK"
    assert api.op("check", user_id, {"password": PASSWORD}).status_code == 200
    wrong = api.op("check", user_id, {"password": WRONG})
    assert wrong.status_code == 400
    assert error_details(wrong)[0]["innerError"]["failuresRemaining"] == 4


def test_import_with_a_pre_encoded_password(api: Api) -> None:
    value = ENCODERS["BCRYPT-2b"](PASSWORD)
    response = api.request(
        "POST",
        f"{api.env}/users",
        content=f'{{"username": "imported", "password": '
        f'{{"value": "{value}", "forceChange": true}}}}'.encode(),
        headers={"Content-Type": IMPORT},
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    check = api.op("check", user_id, {"password": PASSWORD})
    assert check.json()["status"] == "MUST_CHANGE_PASSWORD"


def test_the_documented_example_value_is_accepted(api: Api) -> None:
    example = (
        "{SSHA512}UkGWfORubNKFpFBWh+Lgy4FrciclzUXneuryV+B+zBDR4Gqd5wvMqAvKRixgQWoZlZUg"
        "q8Wh40uMK3s6bvW8EQ=="
    )
    response = api.op("set", api.create_user(), {"value": example, "forceChange": True})
    assert response.status_code == 200, response.text


def test_cleartext_is_stored_as_argon2id() -> None:
    stored = PasswordHasher("fast").hash("Spruce-Harbor-71k")
    assert stored.startswith("{ARGON2}$argon2id$v=19$m=8,t=1,p=1$")
    assert encodings.verify(stored, "Spruce-Harbor-71k")
    strong = argon2.extract_parameters(PasswordHasher("strong").hash("x")[len("{ARGON2}") :])
    assert (strong.time_cost, strong.memory_cost, strong.parallelism) == (3, 65536, 4)


BAD_VALUES = {
    "unknown-scheme": "{MD5}X03MO1qnZdYdgyfeuILPmQ==",
    "documented-but-unsupported": "{SCRYPT}abcd",
    "ssha-not-base64": "{SSHA}not base64!",
    "ssha-too-short": "{SSHA256}" + base64.b64encode(b"short").decode(),
    "bcrypt-garbage": "{BCRYPT}$2b$04$tooshort",
    "bcrypt-cost-too-high": "{BCRYPT}$2b$31$" + "a" * 53,
    "bcrypt-unknown-variant": "{BCRYPT}$2x$04$" + "a" * 53,
    "argon2-garbage": "{ARGON2}$argon2id$v=19$nonsense",
    "argon2-memory-too-high": "{ARGON2}$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    "pbkdf2-unknown-digest": "{PBKDF2}$pbkdf2-md5$1000$c2FsdA$aGFzaA",
    "pbkdf2-too-many-iterations": "{PBKDF2}$pbkdf2-sha256$99999999$c2FsdA$aGFzaA",
    "pbkdf2-missing-part": "{PBKDF2}$pbkdf2-sha256$1000$c2FsdA",
    "empty-after-scheme": "{SSHA512}",
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_unknown_or_malformed_encodings_are_400_on_value(api: Api, name: str) -> None:
    user_id = api.create_user()
    response = api.op("set", user_id, {"value": BAD_VALUES[name]})
    assert_envelope(response, 400, "INVALID_DATA")
    [detail] = error_details(response)
    assert (detail["code"], detail["target"]) == ("INVALID_VALUE", "value")
    assert BAD_VALUES[name] not in response.text
    assert api.state(user_id)["status"] == "NO_PASSWORD"


def test_bcrypt_reads_only_the_first_72_bytes() -> None:
    long_password = "x" * 80
    value = "{BCRYPT}" + bcrypt.hashpw(long_password[:72].encode(), bcrypt.gensalt(4)).decode()
    assert encodings.verify(value, long_password)
    assert encodings.verify(value, "x" * 72 + "different")


README = Path(__file__).resolve().parents[2] / "reference" / "README.md"
README_VALUE = re.compile(r"\{(?:SSHA\d*|BCRYPT|ARGON2|PBKDF2)\}[A-Za-z0-9+/=.$,-]+")


def test_readme_examples_verify() -> None:
    examples = sorted(set(README_VALUE.findall(README.read_text(encoding="utf-8"))))
    assert len(examples) >= 8
    for value in examples:
        assert encodings.verify(value, "Spruce-Harbor-71k"), value
        assert not encodings.verify(value, "Spruce-Harbor-71K"), value


MEMORY_HARD = "{ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
CHEAP = "{ARGON2}$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"


def _peak_concurrency(monkeypatch: pytest.MonkeyPatch, stored: str) -> int:
    running, peak = 0, 0
    lock = threading.Lock()

    def slow_verify(stored: str, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return True

    monkeypatch.setattr(encodings, "verify", slow_verify)
    hasher = PasswordHasher("fast")
    with ThreadPoolExecutor(max_workers=hashing.MAX_CONCURRENT_HASHES + 4) as pool:
        results = list(pool.map(lambda _: hasher.verify(stored, "pw"), range(20)))
    assert all(results)
    return peak


def test_concurrent_memory_hard_verifications_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    peak = _peak_concurrency(monkeypatch, MEMORY_HARD)
    assert 1 < peak <= hashing.MAX_CONCURRENT_HASHES


@pytest.mark.parametrize("stored", [CHEAP, "{SSHA}c2FsdA==", "{BCRYPT}$2b$04$x"])
def test_cheap_verifications_do_not_queue(monkeypatch: pytest.MonkeyPatch, stored: str) -> None:
    assert _peak_concurrency(monkeypatch, stored) > hashing.MAX_CONCURRENT_HASHES


def test_memory_of_stored_values() -> None:
    assert encodings.verification_cost(MEMORY_HARD).memory_kib == 65536
    assert (
        encodings.verification_cost(MEMORY_HARD.replace("{ARGON2}", "{argon2}")).memory_kib == 65536
    )
    assert encodings.verification_cost(CHEAP).memory_kib == 8
    assert encodings.verification_cost("{PBKDF2}$pbkdf2-sha256$1000$c2FsdA$aGFzaA").memory_kib == 0


def test_a_malformed_stored_value_never_matches() -> None:
    for stored in ("{ARGON2}$argon2id$v=19$m=8", "{SSHA}***", "{NOPE}abc", "plain", "{BCRYPT}x"):
        assert encodings.verify(stored, "pw") is False
