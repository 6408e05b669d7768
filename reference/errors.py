"""The PingOne error envelope and the exceptions the domain raises to produce it.

Every error body is ``{"id": uuid4, "code": ..., "message": ..., "details": [...]?}``. Messages
never contain a submitted value: they name fields, not what was in them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
METHOD_NOT_ALLOWED = 405
UNSUPPORTED_MEDIA_TYPE = 415
TOO_MANY_REQUESTS = 429
INTERNAL_SERVER_ERROR = 500

VALIDATION_MESSAGE = (
    "The request could not be completed. One or more validation errors were in the request."
)

Detail = dict[str, Any]


@dataclass(eq=False)
class ApiError(Exception):
    """An error response: HTTP status, top-level code, message, optional details and headers."""

    status: int
    code: str
    message: str
    details: list[Detail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        """Returns the envelope with a fresh error id."""
        envelope: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "code": self.code,
            "message": self.message,
        }
        if self.details:
            envelope["details"] = self.details
        return envelope


def detail(code: str, message: str, target: str | None = None, **inner: Any) -> Detail:
    """Builds one ``details[]`` entry; keyword arguments become ``innerError``."""
    entry: Detail = {"code": code}
    if target is not None:
        entry["target"] = target
    entry["message"] = message
    if inner:
        entry["innerError"] = inner
    return entry


def invalid_data(*details: Detail) -> ApiError:
    """400 INVALID_DATA with the given details."""
    return ApiError(BAD_REQUEST, "INVALID_DATA", VALIDATION_MESSAGE, list(details))


def invalid_request(message: str) -> ApiError:
    """400 INVALID_REQUEST: the request itself could not be read (e.g. malformed JSON)."""
    return ApiError(BAD_REQUEST, "INVALID_REQUEST", message)


def request_failed(message: str, *details: Detail) -> ApiError:
    """400 REQUEST_FAILED: a well-formed request the current state does not allow."""
    return ApiError(BAD_REQUEST, "REQUEST_FAILED", message, list(details))


def not_found(message: str = "The requested resource was not found.") -> ApiError:
    """404 NOT_FOUND."""
    return ApiError(NOT_FOUND, "NOT_FOUND", message)


def invalid_token(message: str = "The access token is missing, invalid or expired.") -> ApiError:
    """401 ACCESS_FAILED with detail INVALID_TOKEN and a Bearer challenge."""
    return ApiError(
        UNAUTHORIZED,
        "ACCESS_FAILED",
        "The request could not be completed. You do not have access to this resource.",
        [detail("INVALID_TOKEN", message)],
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def forbidden(message: str) -> ApiError:
    """403 ACCESS_FAILED with detail INSUFFICIENT_PERMISSIONS."""
    return ApiError(
        FORBIDDEN,
        "ACCESS_FAILED",
        "The request could not be completed. You do not have access to this resource.",
        [detail("INSUFFICIENT_PERMISSIONS", message)],
    )


def unsupported_media_type(message: str) -> ApiError:
    """415 INVALID_REQUEST."""
    return ApiError(UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST", message)


def method_not_allowed(allowed: list[str]) -> ApiError:
    """405 INVALID_REQUEST with an Allow header."""
    return ApiError(
        METHOD_NOT_ALLOWED,
        "INVALID_REQUEST",
        "The HTTP method is not supported for this resource.",
        headers={"Allow": ", ".join(allowed)},
    )


def unexpected_error() -> ApiError:
    """500 UNEXPECTED_ERROR; says nothing about the cause."""
    return ApiError(INTERNAL_SERVER_ERROR, "UNEXPECTED_ERROR", "An unexpected error occurred.")
