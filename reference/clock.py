"""Clocks the reference reads time from, so tests can move time forward without sleeping."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the reference needs from a clock: the current time and a way to move it forward."""

    def now(self) -> float:
        """Returns the current time in seconds since the epoch."""
        ...

    def advance(self, seconds: float) -> None:
        """Moves the clock forward by ``seconds``."""
        ...


class SystemClock:
    """Real time plus an offset that ``advance`` grows; the default clock."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Returns the wall-clock time plus every advance so far."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Adds ``seconds`` to the offset."""
        with self._lock:
            self._offset += seconds


class ManualClock:
    """A clock that stands still until ``advance`` moves it; for tests."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """Returns the current manual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Moves the manual time forward by ``seconds``."""
        with self._lock:
            self._now += seconds
