"""The run's exchange audit: every raw response of the run, checked for secrets and internals.

`ApiClient.observers` hands the audit each response as it arrives (retried 429s and replayed
401s included), with the request that produced it. The audit remembers, in memory only:

- every credential the run sent: password fields of JSON bodies at any depth (the redaction's
  secret keys) and bearer tokens;
- every other string the run sent (usernames, emails, ...), so a password that is also a
  username (a profile-data case) is not mistaken for an echo when the user resource names it;
- each response's status, headers and body text.

The findings it reports name the exchange (method, redacted path, status) and the kind of leak,
never the leaked text: a finding is safe to print. Nothing here is ever written anywhere.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests

from harness.embedded_reference import TEST_ROUTES_PATH
from harness.redaction import SECRET_JSON_KEYS, Redactor

# Credentials that cannot be told from ordinary words are not looked for in responses: a
# policy-violation case may send "password", which every password-state body spells as a key.
MIN_AUDITED_SECRET_LENGTH = 8
MAX_BODY_CHARACTERS = 256 * 1024
MAX_RESPONSES = 50_000
TOKEN_KEYS = frozenset({"client_secret", "access_token", "refresh_token", "id_token"})
PASSWORD_KEYS = SECRET_JSON_KEYS - TOKEN_KEYS

# Stored password hashes: LDAP {SCHEME} prefixes (the set operation's pre-encoded syntax) and the
# modular-crypt / PHC strings of common hashing libraries.
HASH_PATTERNS: dict[str, re.Pattern[str]] = {
    # A scheme name alone (an error naming an unsupported scheme) is not a hash: the prefix must
    # be followed by an encoded value.
    "an LDAP-encoded password": re.compile(
        r"\{(?:S?SHA(?:1|256|384|512)?|S?MD5|MSKCC_PBKDF2|PBKDF2(?:[-_]SHA\d+)?|ARGON2(?:ID|I|D)?"
        r"|BCRYPT|SCRYPT(?:_RFC7914)?|CRYPT)\}[A-Za-z0-9+/=$.,-]{16,}",
        re.IGNORECASE,
    ),
    "an argon2 hash": re.compile(r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+"),
    "a bcrypt hash": re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{22,}"),
    "a PBKDF2 hash": re.compile(r"\$pbkdf2(?:-sha\d+)?\$\d+\$[./A-Za-z0-9+=]{8,}"),
    "a scrypt hash": re.compile(r"\$scrypt\$[^\s\"$]*\$[./A-Za-z0-9+=]{8,}"),
    "a crypt(3) SHA hash": re.compile(
        r"\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{20,}"
    ),
}

# Stack traces of the usual server runtimes, and paths of the server's own files.
INTERNAL_PATTERNS: dict[str, re.Pattern[str]] = {
    "a Python traceback": re.compile(r"Traceback \(most recent call last\)"),
    "a Python stack frame": re.compile(r"File \\?\"[^\"\\]+\\?\", line \d+"),
    "a Java stack frame": re.compile(r"\bat (?:java|javax|jdk|sun|org|com|io|net)\.[\w$.]+\("),
    "a Java exception class": re.compile(r"\b(?:java|javax)\.[\w.]+(?:Exception|Error)\b"),
    "a .NET stack frame": re.compile(r"\bat System\.[\w.`]+\(|\bSystem\.[\w.]*Exception\b"),
    "a Node.js stack frame": re.compile(r"\bat [\w.<>$ ]+\((?:/|node:|file:)[^)]*:\d+:\d+\)"),
    "a Go panic": re.compile(r"goroutine \d+ \[|\bpanic: "),
    "a Ruby stack frame": re.compile(r"\.rb:\d+:in `"),
    "a PHP stack trace": re.compile(r"Stack trace:\s*#0"),
    "an internal Unix path": re.compile(
        r"(?<![\w.:/-])/(?:usr|home|opt|var|srv|etc|tmp|root|app|Users|workspace|proc)/[\w.@-]+"
    ),
    "an internal Windows path": re.compile(r"\b[A-Za-z]:(?:\\\\|\\)[\w. -]+(?:\\\\|\\)"),
    "a package install path": re.compile(r"\b(?:site-packages|dist-packages|node_modules)\b"),
    "a source file and line": re.compile(r"\b[\w-]+\.(?:py|java|go|js|ts|rb|php|cs|kt):\d+\b"),
}


@dataclass(frozen=True)
class Observed:
    """One response as it arrived. `headers` and `text` are raw: never print them."""

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(repr=False)
    text: str = field(repr=False)

    @property
    def title(self) -> str:
        """`POST /v1/environments/…/password → 400` (the path is redacted)."""
        return f"{self.method} {self.path} → {self.status}"

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    def issues_token(self) -> bool:
        """True for a 200 whose body hands out an access token (it is where a token comes from)."""
        body = self.json()
        return self.status == 200 and isinstance(body, dict) and "access_token" in body

    def searchable(self) -> Iterator[str]:
        """The texts a leak could hide in: header values, the body, its decoded strings."""
        yield "\n".join(self.headers.values())
        yield self.text
        yield "\n".join(_strings(self.json()))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _split_strings(value: Any, secret: bool = False) -> Iterator[tuple[bool, str]]:
    """Every string leaf of a request body, flagged when it sits under a password key."""
    if isinstance(value, str):
        yield secret, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _split_strings(item, secret or str(key).lower() in PASSWORD_KEYS)
    elif isinstance(value, list):
        for item in value:
            yield from _split_strings(item, secret)


def _spellings(secret: str) -> set[str]:
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def _distinctive(secret: str) -> bool:
    """Long enough and of at least two character classes: it cannot occur in a body by chance."""
    classes = sum(
        (
            any(c.islower() for c in secret),
            any(c.isupper() for c in secret),
            any(c.isdigit() for c in secret),
            any(not c.isalnum() for c in secret),
        )
    )
    return len(secret) >= MIN_AUDITED_SECRET_LENGTH and classes >= 2


def response_leaks(response: requests.Response, secrets: set[str]) -> list[str]:
    """What one response gives away: any of `secrets`, a hash, a stack trace or internal path.

    The findings name the kind of leak only, never the leaked text.
    """
    observed = Observed(
        method="",
        path="",
        status=response.status_code,
        headers=dict(response.headers),
        text=response.content[:MAX_BODY_CHARACTERS].decode("utf-8", errors="replace"),
    )
    forms = {form for secret in secrets for form in _spellings(secret)}
    found = []
    if any(form in text for text in observed.searchable() for form in forms):
        found.append("a password sent in the request")
    for patterns in (HASH_PATTERNS, INTERNAL_PATTERNS):
        for kind, pattern in patterns.items():
            if any(pattern.search(text) for text in observed.searchable()):
                found.append(kind)
    return found


class ExchangeAudit:
    """Collects the run's responses and the credentials it sent; reports leaks without quoting."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor or Redactor()
        self._lock = threading.Lock()
        self._responses: list[Observed] = []
        self._secrets: set[str] = set()
        self._public: set[str] = set()
        self.dropped = 0

    # --- collecting ---------------------------------------------------------------------------
    def observe(
        self,
        method: str,
        request_headers: Mapping[str, str],
        data: bytes | None,
        response: requests.Response,
    ) -> None:
        """The `ApiClient` observer: note what was sent and what came back."""
        secrets, public = self._sent(request_headers, data)
        path = urlsplit(response.url or "").path
        if path.startswith(f"{TEST_ROUTES_PATH}/"):
            # The reference's own test routes are not the API under test (they hand out
            # recovery codes and tokens on purpose); what the run sent them still counts.
            with self._lock:
                self._secrets |= secrets
                self._public |= public
            return
        observed = Observed(
            method=method,
            path=self._redactor.text(path),
            status=response.status_code,
            headers=dict(response.headers),
            text=response.content[: MAX_BODY_CHARACTERS * 4].decode("utf-8", errors="replace")[
                :MAX_BODY_CHARACTERS
            ],
        )
        with self._lock:
            self._secrets |= secrets
            self._public |= public
            if len(self._responses) < MAX_RESPONSES:
                self._responses.append(observed)
            else:
                self.dropped += 1

    @staticmethod
    def _sent(headers: Mapping[str, str], data: bytes | None) -> tuple[set[str], set[str]]:
        secrets: set[str] = set()
        public: set[str] = set()
        for name, value in headers.items():
            if name.lower() == "authorization":
                _, _, credential = value.partition(" ")
                if credential.strip():
                    secrets.add(credential.strip())
        if data:
            try:
                body = json.loads(data)
            except ValueError:
                body = None
            for is_secret, text in _split_strings(body):
                (secrets if is_secret else public).add(text)
        return secrets, public

    # --- what was seen ------------------------------------------------------------------------
    @property
    def responses(self) -> list[Observed]:
        """Every response seen so far, in order."""
        with self._lock:
            return list(self._responses)

    def audited_secrets(self) -> set[str]:
        """The credentials sent that are looked for in responses (distinctive, not also public)."""
        with self._lock:
            secrets, public = set(self._secrets), set(self._public)
        return {
            secret
            for secret in secrets
            if _distinctive(secret) and not any(secret in text for text in public)
        }

    # --- findings (safe to print: they never quote the leaked text) ---------------------------
    def secret_echoes(self) -> list[str]:
        """Responses that carry a credential the run sent."""
        secrets = self.audited_secrets()
        forms = {form for secret in secrets for form in _spellings(secret)}
        found = []
        for observed in self.responses:
            if observed.issues_token():
                continue  # where a token comes from (the test routes' minting), not an echo
            for text in observed.searchable():
                if any(form in text for form in forms):
                    found.append(f"{observed.title}: carries a password or token sent in this run")
                    break
        return found

    def pattern_findings(self, patterns: Mapping[str, re.Pattern[str]]) -> list[str]:
        """Responses in which one of `patterns` occurs, named by the pattern's description."""
        found = []
        for observed in self.responses:
            kinds = sorted(
                {
                    kind
                    for kind, pattern in patterns.items()
                    for text in observed.searchable()
                    if pattern.search(text)
                }
            )
            if kinds:
                found.append(f"{observed.title}: carries {', '.join(kinds)}")
        return found

    def hashes(self) -> list[str]:
        """Responses that carry something shaped like a stored password hash."""
        return self.pattern_findings(HASH_PATTERNS)

    def internals(self) -> list[str]:
        """Responses that carry a stack trace or a path of the server's files."""
        return self.pattern_findings(INTERNAL_PATTERNS)

    def errors(self) -> list[tuple[Observed, Any]]:
        """Every PingOne error envelope seen (a 4xx/5xx JSON object with a code), with its id."""
        found = []
        for observed in self.responses:
            body = observed.json()
            if observed.status >= 400 and isinstance(body, dict) and "code" in body:
                found.append((observed, body.get("id")))
        return found

    def rate_limited(self) -> list[Observed]:
        """Every 429 seen, retried ones included."""
        return [observed for observed in self.responses if observed.status == 429]
