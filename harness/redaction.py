"""Redaction: the one place that scrubs secrets from what a run writes.

Everything that reaches Allure, a log, the terminal, a report or an exception message passes
through a `Redactor` (docs/architecture.md, "Redaction"):

- headers `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie` become `[REDACTED]`;
- JSON keys that name secrets are scrubbed case-insensitively at any depth;
- form bodies lose `client_secret`, `client_assertion` and `password`;
- secret strings registered at run time (the client secret, every token, every generated
  password) are replaced wherever they appear in free text, also in their URL-encoded and
  JSON-escaped spellings.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

REDACTED = "[REDACTED]"

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_JSON_KEYS = frozenset(
    key.lower()
    for key in (
        "value",
        "password",
        "currentPassword",
        "newPassword",
        "recoveryCode",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
    )
)
SECRET_FORM_FIELDS = frozenset({"client_secret", "client_assertion", "password"})


def _spellings(secret: str) -> set[str]:
    """The forms a secret takes in the text we write: raw, URL-encoded, JSON-escaped."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return {form for form in forms if form}


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The base64 blob of an HTTP Basic header, so it can be registered as a secret too."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return base64.b64encode(raw).decode("ascii")


# Strings shorter than this are not scrubbed from free text: replacing every "t" or "ab" would
# destroy the text and protect nothing (no real credential or generated password is that short).
# Structured redaction (headers, JSON keys, form fields) still hides them wherever they are sent.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Scrubs secrets from headers, bodies and free text; secrets can be registered at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.register(secret)

    def register(self, secret: str | None) -> None:
        """Remember a secret string; from now on `text` replaces it wherever it appears."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            before = len(self._secrets)
            self._secrets |= _spellings(secret)
            if len(self._secrets) != before:
                self._pattern = None

    def is_registered(self, candidate: str) -> bool:
        """True when `candidate` is one of the registered secrets (any spelling)."""
        with self._lock:
            return candidate in self._secrets

    @property
    def secret_count(self) -> int:
        """How many secret spellings are registered (never the secrets themselves)."""
        with self._lock:
            return len(self._secrets)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                # Longest first, so a secret that contains another is replaced whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            return self._pattern

    def text(self, text: str) -> str:
        """Free text with every registered secret replaced by `[REDACTED]`."""
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of `headers` with the secret-bearing ones replaced and the rest scrubbed."""
        return {
            name: REDACTED if name.lower() in SECRET_HEADERS else self.text(str(value))
            for name, value in headers.items()
        }

    def json_value(self, value: Any) -> Any:
        """A deep copy of a decoded JSON value with secret keys scrubbed at any depth.

        A secret key holding an object or array is descended into (the set-password body's
        `password` object carries gateway settings, not a secret); a scalar under a secret key
        becomes `[REDACTED]`. Every remaining string is scrubbed of registered secrets.
        """
        if isinstance(value, dict):
            scrubbed: dict[str, Any] = {}
            for key, item in value.items():
                if str(key).lower() in SECRET_JSON_KEYS and not isinstance(item, dict | list):
                    scrubbed[key] = item if item is None else REDACTED
                else:
                    scrubbed[key] = self.json_value(item)
            return scrubbed
        if isinstance(value, list):
            return [self.json_value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def form(self, body: str) -> str:
        """An `application/x-www-form-urlencoded` body with the secret fields replaced."""
        pairs = parse_qsl(body, keep_blank_values=True)
        if not pairs:
            return self.text(body)
        parts = []
        for name, value in pairs:
            shown = REDACTED if name.lower() in SECRET_FORM_FIELDS else quote_plus(value)
            parts.append(f"{quote_plus(name)}={shown}")
        return self.text("&".join(parts))

    def body(self, body: bytes | str | None, content_type: str | None) -> str:
        """Any request or response body as redacted text, chosen by its media type."""
        if body is None:
            return ""
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            return self.form(text)
        if media == "application/json" or media.endswith("+json") or _looks_like_json(text):
            try:
                decoded = json.loads(text)
            except ValueError:
                return self.text(text)
            return json.dumps(self.json_value(decoded), indent=2, ensure_ascii=False)
        return self.text(text)

    def exception_message(self, error: BaseException) -> str:
        """`Type: message` of an exception, scrubbed; for one-line reports of failures."""
        return self.text(f"{type(error).__name__}: {error}")

    def scrub_exception(self, error: BaseException) -> None:
        """Rewrite an exception's string arguments in place so its message carries no secret."""
        if error.args:
            error.args = tuple(self.text(a) if isinstance(a, str) else a for a in error.args)
        notes = getattr(error, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [self.text(n) if isinstance(n, str) else n for n in notes]


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")
