"""An optional token-bucket rate limit across the API (``/v1/...``).

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


class RateLimitMiddleware:
    """Applies a TokenBucket to every HTTP request whose path starts with ``/v1/``."""

    def __init__(self, app: ASGIApp, bucket: TokenBucket) -> None:
        self.app = app
        self.bucket = bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            wait = self.bucket.take()
            if wait > 0:
                await error_response(limited(wait))(scope, receive, send)
                return
        await self.app(scope, receive, send)
