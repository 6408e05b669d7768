"""Pre-encoded password values, built here from a known cleartext for the set and import cases.

PingOne accepts a `value` in the LDAP `userPassword` syntax `{SCHEME}…`, stored as given and
never evaluated against the policy. The schemes made here are those both Ping's current and its
older encoding pages list: `{SSHA}`, `{SSHA256}`, `{SSHA384}`, `{SSHA512}` (standard base64 of
`digest(password + salt) + salt`, the `{SCHEME}base64(hash+salt)` form the encoding page gives)
and `{BCRYPT}` (a modular-crypt `$2b$` string, cost 10; the page shows no layout for it, so the
cases using it are SHOULD). Nothing here imports the reference: it is a second, independent
implementation of the same formats.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

import bcrypt

SSHA_DIGESTS = {"SSHA": "sha1", "SSHA256": "sha256", "SSHA384": "sha384", "SSHA512": "sha512"}
SALT_BYTES = 8
BCRYPT_COST = 10
SCHEMES = (*SSHA_DIGESTS, "BCRYPT")


def encode(scheme: str, cleartext: str) -> str:
    """`{SCHEME}…` for `cleartext`, with a fresh random salt."""
    secret = cleartext.encode("utf-8")
    if scheme in SSHA_DIGESTS:
        salt = secrets.token_bytes(SALT_BYTES)
        digest = hashlib.new(SSHA_DIGESTS[scheme], secret + salt).digest()
        return "{" + scheme + "}" + base64.b64encode(digest + salt).decode("ascii")
    if scheme == "BCRYPT":
        if len(secret) > 72:
            raise ValueError("bcrypt reads at most 72 bytes; the cleartext is longer")
        hashed = bcrypt.hashpw(secret, bcrypt.gensalt(rounds=BCRYPT_COST, prefix=b"2b"))
        return "{BCRYPT}" + hashed.decode("ascii")
    raise ValueError(f"unknown encoding scheme {scheme!r} (known: {', '.join(SCHEMES)})")
