"""Errors the HTTP layer raises. Their messages are redacted before they are built."""

from __future__ import annotations


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
