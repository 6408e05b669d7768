"""How long one transaction of the reference's store takes while other threads use it too.

No HTTP: T threads share one ``reference.store.Store`` and, for a bounded time, each repeats what a
password check does to the database (a read of the user, then ``BEGIN IMMEDIATE``, re-read,
count, save, ``COMMIT``), each on its own user. Prints, per storage, the number of checks, the
p50 / p99 / max of one check's database time and how many waits SQLite's locks caused (retries
with sleeps in ``Store._run``). The store's own work takes well under a millisecond, so any tail
here is waiting.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference import store as store_module  # noqa: E402
from reference.store import Store, Transaction, UserRecord  # noqa: E402


def _user(index: int) -> UserRecord:
    now = time.time()
    return UserRecord(
        id=f"user-{index}",
        env_id="env",
        username=f"user-{index}",
        username_key=f"user-{index}",
        email=None,
        name_json=None,
        enabled=True,
        idp_type="PING_ONE",
        idp_id=None,
        population_id="population",
        created_at=now,
        updated_at=now,
        password="{ARGON2}stored",
    )


class CountingSleep:
    """Stands in for the ``time`` module of ``reference.store``: counts the retry sleeps."""

    def __init__(self) -> None:
        self.sleeps = 0
        self.slept = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps += 1
            self.slept += seconds
        time.sleep(seconds)


def measure(db_path: str, threads: int, duration: float) -> None:
    store = Store(db_path)
    counting = CountingSleep()
    original = store_module.time
    store_module.time = counting  # type: ignore[assignment]
    try:
        store.write(lambda tx: [tx.insert_user(_user(i)) for i in range(threads)])
        latencies: list[list[float]] = [[] for _ in range(threads)]
        barrier = threading.Barrier(threads + 1)
        deadline = 0.0

        def count(tx: Transaction, user_id: str) -> None:
            user = tx.get_user("env", user_id)
            assert user is not None
            user.failure_count += 1
            tx.save_user(user)

        def client(index: int) -> None:
            user_id = f"user-{index}"
            barrier.wait()
            while time.monotonic() < deadline:
                began = time.perf_counter()
                store.read(lambda tx: tx.get_user("env", user_id))
                store.write(lambda tx: count(tx, user_id))
                latencies[index].append(time.perf_counter() - began)

        workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + duration
        barrier.wait()
        for worker in workers:
            worker.join()
        counted = store.read(
            lambda tx: sum(tx.get_user("env", f"user-{i}").failure_count for i in range(threads))  # type: ignore[union-attr]
        )
    finally:
        store_module.time = original  # type: ignore[assignment]
        store.close()
    every = sorted(x for series in latencies for x in series)
    assert counted == len(every), "a counted failure was lost"
    p99 = every[min(len(every) - 1, int(0.99 * len(every)))]
    print(
        f"{('memory' if db_path == ':memory:' else 'file'):<7} {threads:>7} {len(every):>8} "
        f"{statistics.median(every) * 1000:>8.2f} {p99 * 1000:>8.2f} {every[-1] * 1000:>8.1f} "
        f"{counting.sleeps:>8} {counting.slept:>8.2f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="4,16", help="comma-separated (default 4,16)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds (default 3, max 30)")
    args = parser.parse_args()
    if not 0 < args.duration <= 30:
        parser.error("--duration must be in (0, 30]")
    print("store contention: one check's database work (read + counted write) per thread")
    print(
        f"{'storage':<7} {'threads':>7} {'checks':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'sleeps':>8} {'slept s':>8}"
    )
    with tempfile.TemporaryDirectory() as directory:
        for threads in [int(t) for t in args.threads.split(",")]:
            measure(":memory:", threads, args.duration)
            measure(str(Path(directory) / f"store-{threads}.sqlite3"), threads, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
