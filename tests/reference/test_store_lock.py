"""The store's FairLock: arrival order, shared reads, no barging past a waiting writer, and
re-entry is an error rather than a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from reference.store import FairLock


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _queue_in_order(
    lock: FairLock, entries: list[tuple[str, Callable[[], AbstractContextManager[None]]]]
) -> tuple[list[str], list[threading.Thread]]:
    """Starts one thread per entry, each queued on the lock before the next one starts."""
    order: list[str] = []
    threads = []
    for name, hold in entries:

        def take(name: str = name, hold: Callable[[], AbstractContextManager[None]] = hold) -> None:
            with hold():
                order.append(name)

        queued = len(lock._queue)
        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        _wait_until(lambda q=queued: len(lock._queue) == q + 1)
    return order, threads


def test_exclusive_waiters_get_the_lock_in_arrival_order() -> None:
    lock = FairLock()
    with lock.exclusive():
        order, threads = _queue_in_order(lock, [(str(i), lock.exclusive) for i in range(6)])
    for thread in threads:
        thread.join(5)
    assert order == [str(i) for i in range(6)]
    with lock.exclusive():  # free again
        pass


def test_shared_holders_hold_it_together() -> None:
    lock = FairLock()
    inside = threading.Barrier(3, timeout=5)

    def read() -> None:
        with lock.shared():
            inside.wait()  # all three hold it at once, or this times out

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    read()
    for thread in threads:
        thread.join(5)


def test_a_waiting_writer_goes_before_readers_that_came_later() -> None:
    lock = FairLock()
    with lock.shared():
        order, threads = _queue_in_order(
            lock, [("writer", lock.exclusive), ("reader", lock.shared)]
        )
        assert order == []  # the writer waits for the reader holding it; the reader behind it
    for thread in threads:
        thread.join(5)
    assert order == ["writer", "reader"]


def test_a_thread_cannot_take_the_lock_it_holds() -> None:
    lock = FairLock()
    with lock.shared():
        with pytest.raises(RuntimeError):
            with lock.exclusive():
                pass
    with lock.exclusive():  # the failed attempt left the lock usable
        pass
