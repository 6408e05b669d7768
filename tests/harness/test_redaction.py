"""Redaction scrubs every kind of secret the suites handle, wherever it would surface."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote, quote_plus

import pytest

from harness.client import curl_command
from harness.redaction import REDACTED, Redactor, basic_credentials

SECRET = "s3cr3t Value/with+specials&=é"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([SECRET])


def test_credential_headers_are_replaced_whatever_their_case(redactor: Redactor) -> None:
    headers = {
        "authorization": "Bearer abc.def.ghi",
        "Proxy-Authorization": "Basic Zm9vOmJhcg==",
        "COOKIE": "session=1",
        "Set-Cookie": "a=b",
        "Content-Type": "application/json",
    }
    scrubbed = redactor.headers(headers)
    assert scrubbed == {
        "authorization": REDACTED,
        "Proxy-Authorization": REDACTED,
        "COOKIE": REDACTED,
        "Set-Cookie": REDACTED,
        "Content-Type": "application/json",
    }


def test_other_headers_lose_registered_secrets(redactor: Redactor) -> None:
    assert redactor.headers({"X-Echo": f"x {SECRET} y"}) == {"X-Echo": f"x {REDACTED} y"}


@pytest.mark.parametrize(
    "key",
    [
        "value",
        "password",
        "currentPassword",
        "newPassword",
        "recoveryCode",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "NEWPASSWORD",
        "Access_Token",
    ],
)
def test_secret_json_keys_are_scrubbed_at_any_depth(key: str) -> None:
    body = {"outer": [{"inner": {key: "plain-secret-1"}}], key: "plain-secret-2", "keep": "me"}
    scrubbed = Redactor().json_value(body)
    assert scrubbed == {"outer": [{"inner": {key: REDACTED}}], key: REDACTED, "keep": "me"}
    assert "plain-secret" not in json.dumps(scrubbed)


def test_non_string_secret_values_and_nulls() -> None:
    scrubbed = Redactor().json_value({"value": 12345, "password": None, "forceChange": True})
    assert scrubbed == {"value": REDACTED, "password": None, "forceChange": True}


def test_secret_key_holding_an_object_is_descended_not_dropped() -> None:
    body = {"value": "x-secret", "password": {"external": {"gateway": {"id": "gw-1"}}}}
    assert Redactor().json_value(body) == {
        "value": REDACTED,
        "password": {"external": {"gateway": {"id": "gw-1"}}},
    }


def test_form_bodies_lose_secret_fields() -> None:
    form = "grant_type=client_credentials&client_id=abc&client_secret=p%40ss&PASSWORD=x"
    scrubbed = Redactor().form(form)
    assert scrubbed == (
        f"grant_type=client_credentials&client_id=abc&client_secret={REDACTED}&PASSWORD={REDACTED}"
    )
    assert "p%40ss" not in scrubbed


def test_client_assertion_in_a_form_body_is_replaced() -> None:
    assert REDACTED in Redactor().form("client_assertion=eyJ.x.y&grant_type=client_credentials")
    assert "eyJ" not in Redactor().form("client_assertion=eyJ.x.y")


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(SECRET, id="raw"),
        pytest.param(quote(SECRET, safe=""), id="percent-encoded"),
        pytest.param(quote_plus(SECRET), id="form-encoded"),
        pytest.param(json.dumps(SECRET)[1:-1], id="json-escaped"),
    ],
)
def test_registered_secret_is_replaced_in_free_text_in_its_spellings(
    redactor: Redactor, spelling: str
) -> None:
    assert redactor.text(f"before {spelling} after") == f"before {REDACTED} after"


def test_longer_secret_containing_a_shorter_one_is_replaced_whole() -> None:
    redactor = Redactor(["abcdef", "abcdefghijkl"])
    assert redactor.text("xx abcdefghijkl yy") == f"xx {REDACTED} yy"


def test_secrets_registered_later_are_scrubbed_too(redactor: Redactor) -> None:
    assert redactor.text("token tok-123456") == "token tok-123456"
    redactor.register("tok-123456")
    assert redactor.text("token tok-123456") == f"token {REDACTED}"


def test_empty_and_none_registrations_change_nothing() -> None:
    redactor = Redactor()
    redactor.register("")
    redactor.register(None)
    assert redactor.secret_count == 0
    assert redactor.text("nothing to hide") == "nothing to hide"


def test_too_short_strings_are_not_scrubbed_from_free_text() -> None:
    """A one-letter "secret" would turn every word into [REDACTED]; such strings are ignored."""
    redactor = Redactor(["t"])
    assert redactor.secret_count == 0
    assert redactor.text("the target") == "the target"
    assert redactor.headers({"Authorization": "Bearer t"})["Authorization"] == "[REDACTED]"


def test_exception_messages_are_scrubbed_in_place(redactor: Redactor) -> None:
    error = AssertionError(f"expected 200, body echoed {SECRET}")
    error.add_note(f"note with {SECRET}")
    redactor.scrub_exception(error)
    assert SECRET not in str(error)
    assert REDACTED in str(error)
    assert all(SECRET not in note for note in error.__notes__)
    assert SECRET not in redactor.exception_message(ValueError(SECRET))


def test_body_dispatches_on_media_type(redactor: Redactor) -> None:
    vendor = redactor.body(
        json.dumps({"value": "a", "note": SECRET}).encode(),
        "application/vnd.pingidentity.password.set+json; charset=utf-8",
    )
    assert json.loads(vendor) == {"value": REDACTED, "note": REDACTED}
    form = redactor.body(b"client_secret=zzz&grant_type=x", "application/x-www-form-urlencoded")
    assert "zzz" not in form
    text = redactor.body(f"plain {SECRET}".encode(), "text/plain")
    assert text == f"plain {REDACTED}"
    assert redactor.body(None, None) == ""


def test_json_without_a_json_media_type_is_still_scrubbed() -> None:
    scrubbed = Redactor().body(b'{"password": "hunter2-hunter2"}', None)
    assert "hunter2" not in scrubbed


def test_the_basic_credentials_blob_can_be_registered() -> None:
    blob = basic_credentials("client", "secret")
    redactor = Redactor([blob])
    assert redactor.text(f"Authorization: Basic {blob}") == f"Authorization: Basic {REDACTED}"


def test_curl_reproducer_uses_the_environment_token_and_hides_secrets(redactor: Redactor) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.payload.signature"
    redactor.register(token)
    command = curl_command(
        "PUT",
        "https://api.example.test/v1/environments/e/users/u/password",
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.pingidentity.password.set+json",
            "Cookie": "a=b",
        },
        json.dumps({"value": "Pa55-word-123", "forceChange": False}).encode(),
        redactor,
    )
    assert '"Authorization: Bearer $PINGONE_ACCESS_TOKEN"' in command
    assert token not in command
    assert "Pa55-word-123" not in command
    assert f"'Cookie: {REDACTED}'" in command
    assert '"value":"[REDACTED]"' in command
    words = shlex.split(command)
    assert words[:5] == [
        "curl",
        "-sS",
        "-X",
        "PUT",
        "https://api.example.test/v1/environments/e/users/u/password",
    ]
    assert "Authorization: Bearer $PINGONE_ACCESS_TOKEN" in words
    body = json.loads(words[words.index("--data-binary") + 1])
    assert body == {"value": REDACTED, "forceChange": False}
