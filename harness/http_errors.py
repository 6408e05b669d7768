"""Errors the HTTP layer raises (their messages are redacted before they are built), and what
an answer asks of a client that retries: the statuses that mean "briefly unavailable", and the
delay a `Retry-After` header asks for."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

# The target is briefly unavailable: retried within a bound, then reported as unavailable.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class TargetUnreachable(Exception):
    """The target did not answer: connection refused, DNS, TLS, or a timeout."""


class TokenRequestFailed(Exception):
    """The token endpoint answered, but gave no token.

    `status` is the HTTP status; `error` is the OAuth `error` code when the body carried one.
    """

    def __init__(self, message: str, status: int, error: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


def retry_after_seconds(value: str | None, default: float, now: datetime | None = None) -> float:
    """The delay a `Retry-After` header asks for: integer seconds or an HTTP date; else default."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)
