"""The store's FairLock: waiters get the lock in arrival order; re-entry is an error, not a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from reference.store import FairLock


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_arrival_order() -> None:
    lock = FairLock()
    order: list[int] = []
    threads = []
    lock.__enter__()
    for index in range(6):
        thread = threading.Thread(target=lambda i=index: _take(lock, order, i))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=index + 1: len(lock._waiters) == n)  # queued before the next starts
    lock.__exit__(None, None, None)
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))
    with lock:  # free again
        pass


def _take(lock: FairLock, order: list[int], index: int) -> None:
    with lock:
        order.append(index)


def test_a_thread_cannot_take_the_lock_it_holds() -> None:
    lock = FairLock()
    with lock:
        with pytest.raises(RuntimeError):
            lock.__enter__()
    with lock:  # the failed attempt left the lock usable
        pass
