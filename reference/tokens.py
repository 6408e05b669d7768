"""Worker-application access tokens: HS256 JWTs signed with a per-process random key.

Tokens carry ``iss``, ``sub``, ``client_id``, ``env``, ``iat`` and ``exp``. They are checked
against real time, not the reference clock, so advancing the reference clock to test lockout or
expiry does not invalidate the caller's token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PROCESS_SIGNING_KEY = secrets.token_bytes(32)
HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenError(ValueError):
    """The token is malformed, wrongly signed or expired; the message never quotes the token."""


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its lifetime in seconds."""

    access_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"IssuedToken(expires_in={self.expires_in})"


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims the API needs."""

    env: str
    client_id: str
    expires_at: int


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("malformed token") from exc


class TokenService:
    """Issues and verifies tokens; ``now`` defaults to real time."""

    def __init__(
        self,
        key: bytes = PROCESS_SIGNING_KEY,
        ttl_seconds: int = 3600,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._ttl = ttl_seconds
        self._now = now

    def issue(
        self, *, issuer: str, env_id: str, client_id: str, ttl_seconds: int | None = None
    ) -> IssuedToken:
        """Returns a signed token for the client in the environment.

        ``ttl_seconds`` overrides the service's lifetime; a negative value makes a token that is
        already expired (test routes mint those to probe how the API treats them).
        """
        ttl = self._ttl if ttl_seconds is None else ttl_seconds
        issued_at = int(self._now())
        claims = {
            "iss": issuer,
            "sub": client_id,
            "client_id": client_id,
            "env": env_id,
            "iat": issued_at,
            "exp": issued_at + ttl,
            "jti": secrets.token_hex(8),
        }
        return IssuedToken(self._sign(claims), ttl)

    def _sign(self, claims: dict[str, Any]) -> str:
        header = _b64url(json.dumps(HEADER, separators=(",", ":")).encode())
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode("ascii")
        signature = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    def verify(self, token: str) -> TokenClaims:
        """Returns the claims of a well-signed, unexpired token; raises TokenError otherwise."""
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise TokenError("malformed token")
        try:
            signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        except UnicodeEncodeError as exc:
            raise TokenError("malformed token") from exc
        expected = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64url_decode(parts[2])):
            raise TokenError("bad signature")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("malformed token") from exc
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError("unsupported algorithm")
        if not isinstance(claims, dict):
            raise TokenError("malformed token")
        env, client_id, expires_at = claims.get("env"), claims.get("client_id"), claims.get("exp")
        if not isinstance(env, str) or not isinstance(client_id, str):
            raise TokenError("malformed token")
        if not isinstance(expires_at, int) or expires_at <= self._now():
            raise TokenError("expired token")
        return TokenClaims(env=env, client_id=client_id, expires_at=expires_at)
