"""An optional token-bucket rate limit across the API (``/v1/...``).

The limit lives in a ``RateLimit`` holder on ``app.state.rate_limit``: set at start from the
configuration, and switchable at run time by the test route ``POST /__reference/rate-limit``.

A request over the limit gets 429 REQUEST_LIMITED with ``Retry-After`` in whole seconds (at least
1) and a LIMIT_EXCEEDED detail. The bucket holds one second's worth of requests (at least one)
and refills continuously; it runs on real monotonic time, not the reference clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from reference.errors import TOO_MANY_REQUESTS, ApiError, detail
from reference.http_support import error_response


class TokenBucket:
    """``rate`` tokens per second, bursts up to ``capacity``."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._now = now
        self._stamp = now()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Takes one token; returns 0 when granted, else the seconds until one is available."""
        with self._lock:
            now = self._now()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


def limited(wait_seconds: float) -> ApiError:
    """Returns the 429 for a request that must wait ``wait_seconds``."""
    retry_after = max(1, math.ceil(wait_seconds))
    return ApiError(
        TOO_MANY_REQUESTS,
        "REQUEST_LIMITED",
        "The request could not be completed because the rate limit was exceeded.",
        [
            detail(
                "LIMIT_EXCEEDED",
                "Too many requests; retry after the Retry-After delay.",
                retryAfterSeconds=retry_after,
            )
        ],
        {"Retry-After": str(retry_after)},
    )


class RateLimit:
    """The current limit: a TokenBucket, or None for no limit."""

    def __init__(self, bucket: TokenBucket | None = None) -> None:
        self.bucket = bucket

    def set_rate(self, per_second: float | None) -> None:
        """Limits to ``per_second`` requests (a fresh, full bucket), or lifts the limit (None)."""
        self.bucket = TokenBucket(per_second) if per_second else None


class RateLimitMiddleware:
    """Applies the current RateLimit to every HTTP request whose path starts with ``/v1/``."""

    def __init__(self, app: ASGIApp, limit: RateLimit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = self.limit.bucket
        if bucket is not None and scope["type"] == "http" and scope["path"].startswith("/v1/"):
            wait = bucket.take()
            if wait > 0:
                await error_response(limited(wait))(scope, receive, send)
                return
        await self.app(scope, receive, send)
