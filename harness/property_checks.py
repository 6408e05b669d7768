"""schemathesis checks and serializers for the PingOne password API (pytest route and `st run`).

Importing this module registers, globally with schemathesis:

- a JSON serializer alias for every media type of `schemas/operations.yaml` that has no `+json`
  suffix (`…password.forceChange`, `…password.unlock`): their bodies are JSON all the same;
- `pingone_error_envelope`: every 4xx JSON body carries the error envelope (`code`, `message`,
  and `id` except on 403/429, as Ping's own client spec requires);
- `pingone_no_secret_echo`: no response contains a secret sent in the run (`value`, `password`,
  `currentPassword`, `newPassword`, `recoveryCode`, at any depth of any request body);
- `pingone_hal_self_link`: a 2xx resource's `_links.self.href` points at the resource asked
  for (the request's own path, or the created user's path for `POST …/users`);
- `pingone_status_consistent`: a password-state answer's status is the one the operation
  implies (forceChange and set with forceChange true → MUST_CHANGE_PASSWORD, unlock → not locked);
- `pingone_positive_data_acceptance`: the stand-in for schemathesis's `positive_data_acceptance`
  on the operations whose schema-valid requests the API documents as state- or policy-dependent
  400s (a policy violation, a wrong or missing password, a locked password). It fails exactly
  where the built-in would, except for a 400 that carries a documented reason: a 400-class
  top-level code with a documented detail code. The built-in stays on for every other operation
  (`schemathesis.toml` turns it off for these two paths only).

The checks guard every body read: a non-JSON answer (an HTML 405 from a proxy, say) is for the
content-type checks to judge, not a crash here.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import schemathesis
from schemathesis import GenerationMode

from harness.operations import OperationTable

PASSWORD_PATH = "/environments/{envID}/users/{userID}/password"
USERS_PATH = "/environments/{envID}/users"
SECRET_FIELDS = frozenset({"value", "password", "currentpassword", "newpassword", "recoverycode"})
# A secret shorter than this is too likely to appear by chance in ids or timestamps.
MIN_ECHO_LENGTH = 8
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
# Generation reuses the document's own words (field names, enum values, media types) as
# values; one sent as a "password" is no secret when a response names the same thing.
DOCUMENT_TEXT = "\n".join(
    path.read_text(encoding="utf-8")
    for path in sorted(SCHEMAS_DIR.glob("*"))
    if path.suffix in (".json", ".yaml")
)
WORDLIKE = re.compile(r"^[A-Za-z_.:/+-]+$")

# Ping's official client spec (api-digest §4.2): the 400 top-level codes and detail codes.
DOCUMENTED_400_CODES = frozenset({"INVALID_DATA", "INVALID_REQUEST", "REQUEST_FAILED"})
DOCUMENTED_400_DETAILS = frozenset(
    {
        "ACCOUNT_NOT_USABLE",
        "CONSTRAINT_VIOLATION",
        "EMPTY_VALUE",
        "INVALID_VALUE",
        "NO_PASSWORD",
        "OUT_OF_RANGE",
        "REQUIRED_VALUE",
        "SIZE_LIMIT_EXCEEDED",
        "UNIQUENESS_VIOLATION",
    }
)
# What schemathesis's positive_data_acceptance accepts by default, 5xx left to not_a_server_error.
ACCEPTED_FOR_VALID_DATA = frozenset({401, 403, 404, 409, 429})
# Only the ids of envelopes of these statuses are required (Ping's Go client spec).
ID_OPTIONAL_STATUSES = frozenset({403, 429})

DOCUMENTED_REJECTION_OPERATIONS = frozenset(
    {("PUT", PASSWORD_PATH), ("POST", PASSWORD_PATH), ("POST", USERS_PATH)}
)


def suffixless_media_types(operations: OperationTable | None = None) -> list[str]:
    """Every media type of the operation table that is JSON without saying `+json`."""
    table = operations or OperationTable.load()
    found: set[str] = set()
    for operation in table:
        for media in (operation.media_type, *operation.alt_media_types):
            if media and not media.endswith("+json") and media != "application/json":
                found.add(media)
    return sorted(found)


schemathesis.serializer.alias(suffixless_media_types(), "application/json")


# --- helpers ------------------------------------------------------------------------------------
def json_body(response: Any) -> Any:
    """The response body as JSON, or None when it is not JSON."""
    content_type = " ".join(v for k, v in _header_items(response) if k.lower() == "content-type")
    if "json" not in content_type.lower():
        return None
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def response_text(response: Any) -> str:
    """The whole response (headers and body) as text, for echo checks."""
    content = response.content or b""
    body = content.decode("utf-8", errors="replace")
    headers = " ".join(f"{k}: {v}" for k, v in _header_items(response))
    return f"{headers}\n{body}"


def _header_items(response: Any) -> Iterator[tuple[str, str]]:
    for name, value in dict(response.headers).items():
        if isinstance(value, list):
            for item in value:
                yield name, str(item)
        else:
            yield name, str(value)


def secret_values(body: Any) -> Iterator[str]:
    """Strings under secret field names, at any depth of a request body."""
    if isinstance(body, dict):
        for key, value in body.items():
            if str(key).lower() in SECRET_FIELDS and isinstance(value, str):
                yield value
            else:
                yield from secret_values(value)
    elif isinstance(body, list):
        for item in body:
            yield from secret_values(item)


def plain_strings(body: Any) -> Iterator[str]:
    """Strings of a request body that are not under a secret field name (echoed legitimately)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield str(key)
            if str(key).lower() not in SECRET_FIELDS:
                yield from plain_strings(value)
    elif isinstance(body, list):
        for item in body:
            yield from plain_strings(item)
    elif isinstance(body, str):
        yield body


def could_be_secret(value: str) -> bool:
    """False for strings that appear in responses on their own: short, or the document's words."""
    if len(value) < MIN_ECHO_LENGTH or WORDLIKE.match(value):
        return False
    return value not in DOCUMENT_TEXT


class SentSecrets:
    """Every secret string sent during the run, so no later response may contain one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()

    def add_from(self, body: Any) -> None:
        """Remember the secrets of a request body (too-short ones cannot be told from noise)."""
        legitimate = set(plain_strings(body))
        with self._lock:
            for value in secret_values(body):
                if value not in legitimate and could_be_secret(value):
                    self._values.add(value)

    def add(self, values: Iterable[str]) -> None:
        """Remember secrets the run sent by other means (the harness's own calls)."""
        with self._lock:
            self._values.update(v for v in values if could_be_secret(v))

    def found_in(self, text: str, allowed: Iterable[str] = ()) -> bool:
        """True when the text contains a remembered secret other than as (part of) an allowed
        string: a username this request sent may hold a string an earlier case sent as a
        password, and the user's record echoing its username is no leak."""
        allowed_set = set(allowed)
        with self._lock:
            values = [v for v in self._values if v not in allowed_set]
        for value in values:
            if value not in text:
                continue
            rest = text
            for holder in sorted((a for a in allowed_set if value in a), key=len, reverse=True):
                rest = rest.replace(holder, "\0")
            if value in rest:
                return True
        return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


SENT = SentSecrets()


def _details(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("details"), list):
        return [d for d in body["details"] if isinstance(d, dict)]
    return []


def documented_rejection(body: Any) -> bool:
    """True for a 400 body that names its reason: a 400-class top-level code and a detail code.

    The detail code itself is not limited to Ping's enum (DOCUMENTED_400_DETAILS, for the
    record): Ping says codes within a class may change, and policy rules (a minimum password
    age, say) have no enum entry of their own.
    """
    if not isinstance(body, dict) or body.get("code") not in DOCUMENTED_400_CODES:
        return False
    return any(isinstance(d.get("code"), str) and d["code"] for d in _details(body))


def operation_key(case: Any) -> tuple[str, str]:
    """`(METHOD, path template)` of a case's operation."""
    return case.operation.method.upper(), case.operation.path


def operation_name(case: Any, operations: OperationTable | None = None) -> str | None:
    """The password operation a case calls (`set`, `check`, …), from its method and media type."""
    if case.operation.path != PASSWORD_PATH:
        return None
    table = operations or _TABLE
    method = case.method.upper()
    if method == "GET":
        return "read"
    media = (case.media_type or "").split(";")[0].strip().lower()
    names = [
        op.name
        for op in table
        if op.method == method
        and media in {m.lower() for m in (op.media_type, *op.alt_media_types) if m}
    ]
    if len(names) > 1 and isinstance(case.body, dict):
        return "resetSelf" if "currentPassword" in case.body else "resetAdmin"
    return names[0] if names else None


_TABLE = OperationTable.load()


def _is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    return getattr(generation, "mode", None) == GenerationMode.POSITIVE


# --- checks -------------------------------------------------------------------------------------
@schemathesis.check
def pingone_error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx JSON answer is a PingOne error envelope."""
    if not 400 <= response.status_code < 500:
        return None
    body = json_body(response)
    if body is None:
        return None
    assert isinstance(body, dict), f"HTTP {response.status_code}: the error body is not an object"
    required = ["code", "message"]
    if response.status_code not in ID_OPTIONAL_STATUSES:
        required.append("id")
    missing = [key for key in required if not isinstance(body.get(key), str) or not body[key]]
    assert not missing, (
        f"HTTP {response.status_code}: the error envelope lacks {', '.join(missing)} "
        "(PingOne errors carry id, code and message)"
    )
    return None


@schemathesis.check
def pingone_no_secret_echo(ctx: Any, response: Any, case: Any) -> bool | None:
    """No response contains a secret the run sent (this request's or an earlier one's)."""
    SENT.add_from(case.body)
    allowed = set(plain_strings(case.body)) | set(plain_strings(case.query or {}))
    allowed |= {str(v) for v in (case.path_parameters or {}).values()}
    assert not SENT.found_in(response_text(response), allowed), (
        f"HTTP {response.status_code}: the response contains a password or recovery code "
        "sent in this run"
    )
    return None


def _path(href: str) -> str:
    return unquote(urlsplit(href).path).rstrip("/")


@schemathesis.check
def pingone_hal_self_link(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 2xx resource's `_links.self.href` names the resource that was asked for."""
    if not 200 <= response.status_code < 300:
        return None
    body = json_body(response)
    links = body.get("_links") if isinstance(body, dict) else None
    self_link = links.get("self") if isinstance(links, dict) else None
    href = self_link.get("href") if isinstance(self_link, dict) else None
    if not isinstance(href, str):
        return None
    asked = unquote(urlsplit(case.formatted_path).path).rstrip("/")
    method, path = operation_key(case)
    if (method, path) == ("POST", USERS_PATH) and isinstance(body.get("id"), str):
        asked = f"{asked}/{body['id']}"
    got = _path(href)
    assert got.endswith(asked), (
        f"HTTP {response.status_code}: _links.self.href {href!r} does not point at the "
        f"resource asked for ({asked})"
    )
    return None


IMPLIED_STATUS = {"forceChange": "MUST_CHANGE_PASSWORD"}


def implied_status(name: str | None, body: Any) -> str | None:
    """The status a successful operation implies by itself, from its request alone."""
    if name in IMPLIED_STATUS:
        return IMPLIED_STATUS[name]
    if name == "set" and isinstance(body, dict) and isinstance(body.get("forceChange"), bool):
        value = body.get("value")
        if isinstance(value, str) and value.startswith("{"):
            return None  # a pre-encoded value: the docs leave its status open
        return "MUST_CHANGE_PASSWORD" if body["forceChange"] else "OK"
    return None


@schemathesis.check
def pingone_status_consistent(ctx: Any, response: Any, case: Any) -> bool | None:
    """A successful password operation reports the status the operation implies."""
    if response.status_code != 200:
        return None
    body = json_body(response)
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(status, str):
        return None
    name = operation_name(case)
    expected = implied_status(name, case.body)
    if expected is not None:
        assert status == expected, f"{name} answered 200 with status {status}, not {expected}"
    if name == "unlock":
        assert status != "PASSWORD_LOCKED_OUT", "unlock answered 200 with the password still locked"
    if name == "check":
        assert status != "PASSWORD_LOCKED_OUT", "check answered 200 on a locked password"
    return None


@schemathesis.check
def pingone_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid requests are accepted, or refused for a documented reason (policy, state)."""
    if operation_key(case) not in DOCUMENTED_REJECTION_OPERATIONS or not _is_positive(case):
        return None
    status = response.status_code
    if 200 <= status < 400 or status in ACCEPTED_FOR_VALID_DATA or status >= 500:
        return None
    if status == 400 and documented_rejection(json_body(response)):
        return None
    raise AssertionError(
        f"a schema-valid request was refused with HTTP {status} and no documented reason "
        "(a 400 names a policy or state reason with a 400-class code and a documented detail "
        "code; 401, 403, 404, 409, 429 are accepted)"
    )


PINGONE_CHECKS = (
    pingone_error_envelope,
    pingone_no_secret_echo,
    pingone_hal_self_link,
    pingone_status_consistent,
    pingone_positive_data_acceptance,
)
