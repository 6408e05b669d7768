"""What the security suite sends: credentials that must be refused, request bodies built from the
operation table's schemas, and the reference's test routes where a target offers them.

Every credential made here is registered with redaction the moment it exists, so a forged or
minted token can never reach a report, even though none of them grants anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.client import ApiClient
from harness.config import Target
from harness.operations import Operation
from harness.passwords import PasswordBook, PasswordPolicy
from harness.redaction import SECRET_JSON_KEYS, Redactor
from harness.schemas import SchemaStore
from harness.users import UserUnderTest

RECOVERY_CODE_CHARACTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# The relation by which the reference's environment resource links to its test routes.
TEST_ROUTES_RELATION = "reference.testRoutes"


# --- the reference's test routes ---------------------------------------------------------------
class ReferenceControls:
    """The reference's test routes (`/__reference/...`), called with the run's own token."""

    def __init__(self, api: ApiClient, base_url: str) -> None:
        self._api = api
        self.base_url = base_url.rstrip("/")

    def mint_token(
        self, *, expires_in: int | None = None, environment_id: str | None = None
    ) -> str:
        """A token the token endpoint never issues: expired, or for another environment."""
        body: dict[str, Any] = {}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        if environment_id is not None:
            body["environmentId"] = environment_id
        response = self._api.post_json(f"{self.base_url}/tokens", body)
        token = response.json().get("access_token") if response.status_code == 200 else None
        if not isinstance(token, str) or not token:
            raise LookupError(f"the test route did not mint a token (HTTP {response.status_code})")
        self._api.redactor.register(token)
        return token

    def set_rate_limit(self, per_second: float | None) -> None:
        """Limit the API to `per_second` requests a second, or lift the limit (None)."""
        response = self._api.post_json(f"{self.base_url}/rate-limit", {"perSecond": per_second})
        if response.status_code != 200:
            raise LookupError(f"the rate-limit test route answered HTTP {response.status_code}")


def find_reference_controls(api: ApiClient, target: Target) -> ReferenceControls | None:
    """The target's test routes: the embedded reference's, or those its environment links to.

    A link is followed only when it stays on the API's or the auth server's own origin, so a
    target cannot send the run's token elsewhere.
    """
    if target.test_routes_url:
        return ReferenceControls(api, target.test_routes_url)
    response = api.get(target.environment_url)
    body = response.json() if response.status_code == 200 else None
    links = body.get("_links") if isinstance(body, dict) else None
    link = links.get(TEST_ROUTES_RELATION) if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    if not isinstance(href, str):
        return None
    origins = {_origin(target.api_base_url)}
    if target.auth_base_url:
        origins.add(_origin(target.auth_base_url))
    return ReferenceControls(api, href) if _origin(href) in origins else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


# --- credentials that must be refused ----------------------------------------------------------
@dataclass(frozen=True)
class BadCredential:
    """One way of calling without a valid token: its id, and how to make the header.

    `make` returns the Authorization header value (None: send none). `needs` names the source it
    needs, if any (see harness/requirements.py SOURCES). `statuses` are the answers that pass.
    """

    id: str
    requirement: str
    needs: str | None
    make: Callable[[CredentialContext], str | None]
    statuses: tuple[int, ...] = (401,)


@dataclass(frozen=True)
class CredentialContext:
    """What building a bad credential may use."""

    target: Target
    redactor: Redactor
    controls: ReferenceControls | None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(target: Target) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": f"{target.auth_base_url or target.api_base_url}/{target.env_id}/as",
        "sub": "p1conf-forged",
        "client_id": "p1conf-forged",
        "env": target.env_id,
        "aud": ["https://api.pingone.com"],
        "iat": now,
        "exp": now + 3600,
    }


def _registered(context: CredentialContext, token: str) -> str:
    context.redactor.register(token)
    return token


def unsigned_token(context: CredentialContext) -> str:
    """A JWT with `alg: none` and plausible claims for the target's environment."""
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(_claims(context.target)).encode())
    return _registered(context, f"{header}.{payload}.")


def forged_token(context: CredentialContext) -> str:
    """An HS256 JWT with plausible claims, signed with a key of the suite's own."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(_claims(context.target)).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secrets.token_bytes(32), signing_input, hashlib.sha256).digest()
    return _registered(context, f"{header}.{payload}.{_b64url(signature)}")


def _minted(context: CredentialContext, **claims: Any) -> str:
    if context.controls is None:
        raise LookupError("no test routes")
    return context.controls.mint_token(**claims)


BAD_CREDENTIALS: tuple[BadCredential, ...] = (
    BadCredential("no token", "P1-AUTH-001", None, lambda c: None),
    # The scheme alone, with no credential after it.
    BadCredential("empty bearer", "P1-AUTH-002", None, lambda c: "Bearer"),
    BadCredential("not a token", "P1-AUTH-002", None, lambda c: "Bearer p1conf-not-a-token"),
    BadCredential(
        "basic scheme",
        "P1-AUTH-002",
        None,
        lambda c: "Basic " + _registered(c, _b64url(b"p1conf-client:p1conf-not-a-secret")),
    ),
    BadCredential("unsigned token", "P1-AUTH-002", None, lambda c: f"Bearer {unsigned_token(c)}"),
    BadCredential("forged signature", "P1-AUTH-002", None, lambda c: f"Bearer {forged_token(c)}"),
    BadCredential(
        "expired token",
        "P1-SEC-001",
        "token-minting",
        lambda c: f"Bearer {_minted(c, expires_in=-300)}",
    ),
    BadCredential(
        "other environment's token",
        "P1-SEC-002",
        "token-minting",
        lambda c: f"Bearer {_minted(c, environment_id=str(uuid.uuid4()))}",
        # A well-signed token of another environment: 401 (not valid here) and 403 (no access
        # here) are both ACCESS_FAILED in Ping's official Go client spec.
        statuses=(401, 403),
    ),
)


# --- request bodies ----------------------------------------------------------------------------
def example_body(
    operation: Operation,
    schemas: SchemaStore,
    passwords: PasswordBook,
    policy: PasswordPolicy,
    current_password: str | None,
    redactor: Redactor,
) -> Any:
    """A body the operation accepts, from its request schema's first example.

    Every top-level password field gets a fresh policy-conformant password, except the fields
    that must hold the user's current one (`currentPassword`, and the check's `password`), so a
    server that skipped authentication would carry the request out; a recovery code gets a fresh
    random (wrong) one. Every value is registered with redaction, so even a body sent as broken
    JSON, which redaction cannot parse, shows none of them. None when the operation has no
    request schema.
    """
    if operation.request_schema is None:
        return None
    examples = schemas.validator(operation.request_schema).schema.get("examples") or [{}]
    body = dict(examples[0]) if isinstance(examples[0], dict) else {}
    for key, value in list(body.items()):
        if not isinstance(value, str) or key.lower() not in SECRET_JSON_KEYS:
            continue
        if key in ("currentPassword", "password") and current_password is not None:
            body[key] = current_password
        elif key == "recoveryCode":
            body[key] = "".join(secrets.choice(RECOVERY_CODE_CHARACTERS) for _ in range(8))
        else:
            body[key] = passwords.valid(policy)
        redactor.register(body[key])
    return body


def password_fields(operation: Operation, schemas: SchemaStore) -> list[str]:
    """The request schema's top-level string properties that carry a password."""
    if operation.request_schema is None:
        return []
    properties = schemas.validator(operation.request_schema).schema.get("properties") or {}
    return [
        name
        for name, spec in properties.items()
        if name.lower() in SECRET_JSON_KEYS
        and name != "recoveryCode"
        and isinstance(spec, dict)
        and spec.get("type") == "string"
    ]


# --- reading answers ---------------------------------------------------------------------------
def password_state(api: ApiClient, user_id: str) -> dict[str, Any]:
    """What a refused request must leave alone: status, lastChangedAt, secondsUntilUnlock."""
    response = api.password_operation(user_id, "read")
    if response.status_code != 200:
        exchange = api.last_exchange()
        raise AssertionError(
            f"reading the password state answered HTTP {response.status_code}\n"
            + (exchange.summary() if exchange is not None else "")
        )
    state = response.json()
    keys = ("status", "lastChangedAt", "secondsUntilUnlock")
    return {key: state.get(key) for key in keys} if isinstance(state, dict) else {}


def envelope_problems(
    response: requests.Response, schemas: SchemaStore, code: str | None = None
) -> list[str]:
    """Why an error answer is not the PingOne error envelope (with `code`); empty when it is.

    403 and 429 bodies validate against error-limited.schema.json (code and message required),
    the others against error.schema.json (id, code, message), as P1-ERR-001 has it.
    """
    try:
        body = response.json()
    except ValueError:
        return ["the body is not JSON"]
    limited = response.status_code in (403, 429)
    problems = schemas.errors(body, "error-limited.schema.json" if limited else "error.schema.json")
    if code is not None and isinstance(body, dict) and body.get("code") != code:
        problems.append(f"code is {body.get('code')!r}, not {code}")
    return problems


def carries_user_data(response: requests.Response, user: UserUnderTest) -> bool:
    """True when an answer is the user's data: a password state or user resource of that user.

    An error message that merely repeats the requested path is not data.
    """
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    named = body.get("user")
    return (
        (isinstance(named, dict) and named.get("id") == user.id)
        or body.get("id") == user.id
        or body.get("username") == user.username
        or ("status" in body and "code" not in body)
    )
