"""Pre-encoded password values in LDAP ``userPassword`` syntax: ``{SCHEME}encoded``.

Supported schemes and layouts (README.md has a worked example of each):

- ``{SSHA}``, ``{SSHA256}``, ``{SSHA384}``, ``{SSHA512}``: standard base64 of
  ``digest(password + salt) + salt`` with SHA-1/256/384/512; the salt is whatever follows the
  digest (it may be empty).
- ``{BCRYPT}`` followed by a modular-crypt string ``$2a$``/``$2b$``/``$2y$``, cost 04..17.
- ``{ARGON2}`` followed by a PHC string ``$argon2id$v=19$m=..,t=..,p=..$salt$hash`` (also argon2i
  and argon2d, v=16 or 19), with m <= 262144 KiB, t <= 16, p <= 16.
- ``{PBKDF2}`` followed by ``$pbkdf2-<digest>$<iterations>$<salt>$<hash>`` with digest sha1,
  sha256 or sha512 (``$pbkdf2$`` is passlib's SHA-1 spelling); salt and hash in passlib's adapted
  base64 (``.`` for ``+``, no padding) or standard base64; 1..2,000,000 iterations.

The cost limits keep one verification bounded. Verification compares in constant time.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type, verify_secret

SCHEME_PREFIX = re.compile(r"^\{([A-Za-z0-9_-]+)\}")

SSHA_DIGESTS = {"SSHA": "sha1", "SSHA256": "sha256", "SSHA384": "sha384", "SSHA512": "sha512"}
PBKDF2_DIGESTS = {
    "pbkdf2": "sha1",
    "pbkdf2-sha1": "sha1",
    "pbkdf2-sha256": "sha256",
    "pbkdf2-sha512": "sha512",
}
SUPPORTED_SCHEMES = (*SSHA_DIGESTS, "BCRYPT", "ARGON2", "PBKDF2")

BCRYPT_PATTERN = re.compile(r"^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$")
ARGON2_PATTERN = re.compile(
    r"^\$argon2(id|i|d)\$v=(16|19)\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})"
    r"\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
)
PBKDF2_PATTERN = re.compile(r"^\$(pbkdf2(?:-sha1|-sha256|-sha512)?)\$(\d{1,10})\$([^$]+)\$([^$]+)$")
BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/.]+={0,2}$")

BCRYPT_MAX_COST = 17
BCRYPT_MAX_BYTES = 72
ARGON2_MAX_MEMORY_KIB = 262_144
ARGON2_MAX_TIME = 16
ARGON2_MAX_PARALLELISM = 16
PBKDF2_MAX_ITERATIONS = 2_000_000


class EncodingError(ValueError):
    """The value starts with ``{SCHEME}`` but the scheme is unknown or the encoding malformed."""


@dataclass(frozen=True)
class PreEncoded:
    """A validated pre-encoded value: its scheme and the text after ``{SCHEME}``."""

    scheme: str
    encoded: str

    @property
    def stored(self) -> str:
        """Returns the value as stored and as given: ``{SCHEME}encoded``."""
        return "{" + self.scheme + "}" + self.encoded


def scheme_of(value: str) -> str | None:
    """Returns the ``{SCHEME}`` name a value starts with, or None for a cleartext value."""
    match = SCHEME_PREFIX.match(value)
    return match.group(1) if match else None


def _split(value: str) -> tuple[str, str] | None:
    """``{SCHEME}encoded`` → (the scheme in capitals, the text after it); None for cleartext."""
    scheme = scheme_of(value)
    return None if scheme is None else (scheme.upper(), value[len(scheme) + 2 :])


def parse(value: str) -> PreEncoded | None:
    """Returns the validated pre-encoded value, None for cleartext; raises EncodingError."""
    split = _split(value)
    if split is None:
        return None
    scheme, encoded = split
    if scheme not in SUPPORTED_SCHEMES:
        raise EncodingError("unsupported password encoding scheme")
    _validate(scheme, encoded)
    return PreEncoded(scheme, encoded)


def verify(stored: str, password: str) -> bool:
    """Checks ``password`` against a stored ``{SCHEME}encoded`` value.

    Every stored value went through ``parse`` (or was hashed here) when it was written, so the
    value is not validated again on each check; a value that is not well formed never matches.
    """
    split = _split(stored)
    if split is None or split[0] not in SUPPORTED_SCHEMES:
        return False
    scheme, encoded = split
    secret = password.encode("utf-8")
    try:
        if scheme in SSHA_DIGESTS:
            return _verify_ssha(SSHA_DIGESTS[scheme], encoded, secret)
        if scheme == "BCRYPT":
            return _verify_bcrypt(encoded, secret)
        if scheme == "ARGON2":
            return _verify_argon2(encoded, password)
        return _verify_pbkdf2(encoded, secret)
    except EncodingError:
        return False


# The most argon2 work (memory in KiB times passes) a verification may take and still count as
# cheap: 1 MiB-pass is well under a millisecond here; the fast profile is 8 KiB, one pass.
CHEAP_ARGON2_KIB_PASSES = 1024


@dataclass(frozen=True)
class VerificationCost:
    """What verifying one stored value costs: whether it is cheap, and argon2's memory (KiB)."""

    cheap: bool
    memory_kib: int


@functools.lru_cache(maxsize=4096)
def verification_cost(stored: str) -> VerificationCost:
    """Reads a stored value's cost once: every check asks it before verifying, and a stored
    value never changes (a new password is a new string), so the parse is kept, not repeated.

    Cheap: a salted SHA digest, or argon2 of at most ``CHEAP_ARGON2_KIB_PASSES``. bcrypt and
    PBKDF2 are built to be slow whatever their parameters, so they never are; nor is a value
    that is not well formed (it would not match anyway, and saying "not cheap" only moves its
    refusal to a worker thread). The memory is argon2's ``m``, 0 for every other scheme.
    """
    split = _split(stored)
    if split is None:
        return VerificationCost(cheap=False, memory_kib=0)
    scheme, encoded = split
    if scheme in SSHA_DIGESTS:
        return VerificationCost(cheap=True, memory_kib=0)
    match = ARGON2_PATTERN.match(encoded) if scheme == "ARGON2" else None
    if match is None:
        return VerificationCost(cheap=False, memory_kib=0)
    memory = int(match.group(3))
    return VerificationCost(
        cheap=argon2_is_cheap(memory_kib=memory, passes=int(match.group(4))), memory_kib=memory
    )


def argon2_is_cheap(*, memory_kib: int, passes: int) -> bool:
    """True when argon2 with this cost is cheap enough to compute on the event loop."""
    return memory_kib * passes <= CHEAP_ARGON2_KIB_PASSES


def _validate(scheme: str, encoded: str) -> None:
    if scheme in SSHA_DIGESTS:
        raw = _b64decode(encoded, adapted=False)
        if len(raw) < hashlib.new(SSHA_DIGESTS[scheme]).digest_size:
            raise EncodingError("salted hash is shorter than its digest")
    elif scheme == "BCRYPT":
        match = BCRYPT_PATTERN.match(encoded)
        if match is None or not 4 <= int(match.group(1)) <= BCRYPT_MAX_COST:
            raise EncodingError("malformed bcrypt value")
    elif scheme == "ARGON2":
        match = ARGON2_PATTERN.match(encoded)
        if match is None:
            raise EncodingError("malformed argon2 value")
        memory, time_cost, parallelism = (int(match.group(i)) for i in (3, 4, 5))
        if not (
            8 * parallelism <= memory <= ARGON2_MAX_MEMORY_KIB
            and 1 <= time_cost <= ARGON2_MAX_TIME
            and 1 <= parallelism <= ARGON2_MAX_PARALLELISM
        ):
            raise EncodingError("argon2 parameters out of range")
        try:
            argon2.extract_parameters(encoded)
        except InvalidHashError as exc:
            raise EncodingError("malformed argon2 value") from exc
    else:
        match = PBKDF2_PATTERN.match(encoded)
        if match is None or not 1 <= int(match.group(2)) <= PBKDF2_MAX_ITERATIONS:
            raise EncodingError("malformed PBKDF2 value")
        salt = _b64decode(match.group(3), adapted=True)
        digest = _b64decode(match.group(4), adapted=True)
        if not salt or not 1 <= len(digest) <= 256:
            raise EncodingError("malformed PBKDF2 value")


def _b64decode(text: str, *, adapted: bool) -> bytes:
    """Decodes standard base64, or passlib's adapted base64 when ``adapted`` (``.`` for ``+``)."""
    if not text or BASE64_CHARS.match(text) is None or (not adapted and "." in text):
        raise EncodingError("malformed base64")
    body = text.rstrip("=").replace(".", "+")
    if len(body) % 4 == 1:
        raise EncodingError("malformed base64")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EncodingError("malformed base64") from exc


def _verify_ssha(digest_name: str, encoded: str, secret: bytes) -> bool:
    raw = _b64decode(encoded, adapted=False)
    size = hashlib.new(digest_name).digest_size
    expected, salt = raw[:size], raw[size:]
    actual = hashlib.new(digest_name, secret + salt).digest()
    return hmac.compare_digest(expected, actual)


def _verify_bcrypt(encoded: str, secret: bytes) -> bool:
    # bcrypt reads at most 72 bytes of the password; bcrypt 5 refuses longer input, so truncate
    # the way every classic implementation does. The $2y$ prefix is the same algorithm as $2b$.
    normalized = "$2b$" + encoded[4:] if encoded.startswith("$2y$") else encoded
    try:
        return bcrypt.checkpw(secret[:BCRYPT_MAX_BYTES], normalized.encode("ascii"))
    except ValueError:
        return False


ARGON2_TYPES = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}


def _verify_argon2(encoded: str, password: str) -> bool:
    # The PHC string carries its own parameters; only the variant has to be named.
    variant = ARGON2_TYPES.get(encoded[1:].split("$", 1)[0])
    if variant is None:
        return False
    try:
        return verify_secret(encoded.encode("ascii"), password.encode("utf-8"), variant)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def _verify_pbkdf2(encoded: str, secret: bytes) -> bool:
    match = PBKDF2_PATTERN.match(encoded)
    if match is None:
        return False
    digest_name = PBKDF2_DIGESTS[match.group(1)]
    iterations = int(match.group(2))
    salt = _b64decode(match.group(3), adapted=True)
    expected = _b64decode(match.group(4), adapted=True)
    actual = hashlib.pbkdf2_hmac(digest_name, secret, salt, iterations, dklen=len(expected))
    return hmac.compare_digest(expected, actual)
