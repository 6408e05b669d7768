"""No response body or header ever carries a password, a stored hash or the client secret.

Every request through the ``Api`` helper is also checked for leaks (tests/reference/conftest.py);
this test drives every operation, including failures, and scans every response once more.
"""

from __future__ import annotations

import base64
import hashlib
import os

from tests.reference.conftest import GOOD_PASSWORD, HASH_MARKERS, IMPORT, OTHER_PASSWORD, Api


def test_no_response_leaks_a_password_or_hash(api: Api) -> None:
    salt = os.urandom(4)
    ssha_value = (
        "{SSHA256}"
        + base64.b64encode(hashlib.sha256(b"Imported-Secret-9q" + salt).digest() + salt).decode()
    )
    secrets = [
        GOOD_PASSWORD,
        OTHER_PASSWORD,
        "Imported-Secret-9q",
        "Temp-Lantern-58w",
        "Wrong-Guess-000",
        "weakpw",
        ssha_value,
        api.config.client_secret,
    ]

    user_id = api.create_user(username="hygiene", email="h@example.com")
    api.request(
        "POST",
        f"{api.env}/users",
        json={"username": "imported", "password": {"value": ssha_value}},
        headers={"Content-Type": IMPORT},
    )
    api.op("set", user_id, {"value": "weakpw"})
    api.op("set", user_id, {"value": GOOD_PASSWORD})
    api.op("check", user_id, {"password": GOOD_PASSWORD})
    api.op("check", user_id, {"password": "Wrong-Guess-000"})
    api.op("reset", user_id, {"currentPassword": "Wrong-Guess-000", "newPassword": OTHER_PASSWORD})
    api.op("reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": GOOD_PASSWORD})
    api.op("reset", user_id, {"currentPassword": GOOD_PASSWORD, "newPassword": OTHER_PASSWORD})
    api.op("reset", user_id, {"newPassword": "Temp-Lantern-58w"})
    api.op("sendRecoveryCode", user_id)
    code = api.client.get(f"/__reference/recovery-codes/{user_id}", headers=api.auth).json()[
        "recoveryCode"
    ]
    api.op("recover", user_id, {"recoveryCode": "WRONG123", "newPassword": GOOD_PASSWORD})
    api.op("recover", user_id, {"recoveryCode": code, "newPassword": "weakpw"})
    api.op("recover", user_id, {"recoveryCode": code, "newPassword": "Imported-Secret-9q"})
    api.op("set", user_id, {"value": ssha_value})
    api.op("setValue", user_id, {"value": GOOD_PASSWORD, "bypassPolicy": True})
    api.op("forceChange", user_id)
    api.op("unlock", user_id)
    api.op("check", user_id, {"password": ["Wrong-Guess-000"]})
    api.request("GET", api.password_url(user_id), params={"expand": "passwordPolicy"})
    api.request("GET", f"{api.env}/users/{user_id}")
    api.request("GET", f"{api.env}/users")
    api.request("GET", f"{api.env}/users", params={"filter": 'username eq "hygiene"'})

    assert len(api.responses) >= 20
    secrets.append(code)
    for response in api.responses:
        text = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in secrets:
            assert secret not in text, f"{response.request.method} {response.request.url.path}"
        for marker in HASH_MARKERS:
            assert marker not in text
