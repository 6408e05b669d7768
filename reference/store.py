"""SQLite storage for users, their password state and password history.

Each thread gets its own connection to one shared database: for ":memory:" a private
``file:<unique>?mode=memory&cache=shared`` database that a keeper connection holds open; for a
file, WAL journaling. ``write`` runs a function inside ``BEGIN IMMEDIATE`` so a read-modify-write
(e.g. counting a failed check) is atomic across threads and processes; ``read`` runs one in a
plain transaction for a consistent snapshot.

Transactions of this process queue on a fair lock instead of on SQLite's locks: ``write`` holds
``Store._lock`` (a ``FairLock``) alone from ``BEGIN IMMEDIATE`` to ``COMMIT``; for the shared-cache
in-memory database (where a reader conflicts with an open write: table locks) ``read`` holds it
shared with other reads. SQLite never waits well for a lock: shared-cache conflicts fail at once,
and the busy handler of a file polls with sleeps of up to 100 ms, so a retrying caller could sleep
through many sub-millisecond transactions of its rivals and stall for up to a second under
concurrent load (measured; see README.md, "Storage and concurrency"). The fair lock hands itself
to the longest waiter the moment it is released. Both still retry the whole function when SQLite
reports the database busy or locked (another process using the same file), so the functions
passed in must re-read what they modify.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
RETRY_DEADLINE_SECONDS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    env_id TEXT NOT NULL,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT,
    name_json TEXT,
    enabled INTEGER NOT NULL,
    idp_type TEXT NOT NULL,
    idp_id TEXT,
    population_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    password TEXT,
    must_change INTEGER NOT NULL DEFAULT 0,
    last_changed_at REAL,
    last_change_kind TEXT,
    gateway_json TEXT,
    failure_count INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    recovery_code TEXT,
    recovery_issued_at REAL,
    recovery_failures INTEGER NOT NULL DEFAULT 0,
    UNIQUE (env_id, username_key)
);
CREATE TABLE IF NOT EXISTS password_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    password TEXT NOT NULL,
    changed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS password_history_user ON password_history (user_id, seq);
"""


@dataclass
class UserRecord:
    """One row of ``users``: the profile and the password state."""

    id: str
    env_id: str
    username: str
    username_key: str
    email: str | None
    name_json: str | None
    enabled: bool
    idp_type: str
    idp_id: str | None
    population_id: str
    created_at: float
    updated_at: float
    password: str | None = None
    must_change: bool = False
    last_changed_at: float | None = None
    last_change_kind: str | None = None
    gateway_json: str | None = None
    failure_count: int = 0
    locked: bool = False
    locked_until: float | None = None
    recovery_code: str | None = None
    recovery_issued_at: float | None = None
    recovery_failures: int = 0

    def __repr__(self) -> str:
        return f"UserRecord(id={self.id!r}, username={self.username!r})"


USER_COLUMNS = [f.name for f in dataclasses.fields(UserRecord)]
BOOLEAN_COLUMNS = {"enabled", "must_change", "locked"}


@dataclass(frozen=True)
class HistoryEntry:
    """A password the user had, as stored, and when it was set."""

    password: str
    changed_at: float


class FairLock:
    """A readers-writer lock that admits its waiters in arrival order.

    ``exclusive()`` is one writer alone; ``shared()`` runs alongside other shared holders. A
    release hands the lock straight to the longest waiter (and to every shared waiter queued
    right behind it), so nobody can barge ahead: with ``threading.Lock`` the releasing thread,
    which still holds the GIL, takes the lock again at once, and under load one waiter can lose
    the race for seconds. Not re-entrant: a thread that asks again while holding it gets a
    RuntimeError rather than waiting forever.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._readers = 0
        self._writer = False
        self._queue: deque[tuple[bool, threading.Lock]] = deque()  # (exclusive, turn)
        self._holding = threading.local()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Holds the lock alone."""
        with self._held(exclusive=True):
            yield

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Holds the lock together with other shared holders, never with an exclusive one."""
        with self._held(exclusive=False):
            yield

    @contextmanager
    def _held(self, *, exclusive: bool) -> Iterator[None]:
        if getattr(self._holding, "active", False):
            raise RuntimeError("a store transaction cannot start inside another one")
        self._acquire(exclusive)
        self._holding.active = True
        try:
            yield
        finally:
            self._holding.active = False
            self._release(exclusive)

    def _acquire(self, exclusive: bool) -> None:
        with self._mutex:
            free = not self._writer and not self._queue and (not exclusive or self._readers == 0)
            if free:
                self._take(exclusive)
                return
            turn = threading.Lock()
            turn.acquire()
            self._queue.append((exclusive, turn))
        turn.acquire()  # released by the thread that hands the lock over

    def _take(self, exclusive: bool) -> None:
        if exclusive:
            self._writer = True
        else:
            self._readers += 1

    def _release(self, exclusive: bool) -> None:
        with self._mutex:
            if exclusive:
                self._writer = False
            else:
                self._readers -= 1
            while self._queue and not self._writer:
                wants_exclusive, turn = self._queue[0]
                if wants_exclusive and self._readers:
                    break
                self._queue.popleft()
                self._take(wants_exclusive)
                turn.release()  # that waiter holds the lock now
                if wants_exclusive:
                    break


class StoreRetryExhausted(RuntimeError):
    """The database stayed locked past the retry deadline."""


class Transaction:
    """The operations available inside ``Store.read`` / ``Store.write``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def get_user(self, env_id: str, user_id: str) -> UserRecord | None:
        """Returns the user, or None when the environment has no such user."""
        row = self._db.execute(
            f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE env_id = ? AND id = ?",
            (env_id, user_id),
        ).fetchone()
        return _record(row) if row else None

    def username_taken(self, env_id: str, username_key: str) -> bool:
        """True when a user in the environment has this (case-folded) username."""
        row = self._db.execute(
            "SELECT 1 FROM users WHERE env_id = ? AND username_key = ?", (env_id, username_key)
        ).fetchone()
        return row is not None

    def list_users(
        self, env_id: str, *, username_eq: str | None = None, username_prefix: str | None = None
    ) -> list[UserRecord]:
        """Returns the environment's users by creation time, optionally filtered on username."""
        sql = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE env_id = ?"
        params: list[Any] = [env_id]
        if username_eq is not None:
            sql += " AND username_key = ?"
            params.append(username_eq)
        if username_prefix is not None:
            sql += " AND substr(username_key, 1, ?) = ?"
            params += [len(username_prefix), username_prefix]
        sql += " ORDER BY created_at, rowid"
        return [_record(row) for row in self._db.execute(sql, params).fetchall()]

    def insert_user(self, user: UserRecord) -> None:
        """Inserts a new user row."""
        placeholders = ", ".join("?" for _ in USER_COLUMNS)
        self._db.execute(
            f"INSERT INTO users ({', '.join(USER_COLUMNS)}) VALUES ({placeholders})",
            [getattr(user, column) for column in USER_COLUMNS],
        )

    def save_user(self, user: UserRecord) -> None:
        """Writes every column of an existing user row."""
        columns = [c for c in USER_COLUMNS if c not in ("id", "env_id")]
        self._db.execute(
            f"UPDATE users SET {', '.join(f'{c} = ?' for c in columns)} "
            "WHERE id = ? AND env_id = ?",
            [getattr(user, c) for c in columns] + [user.id, user.env_id],
        )

    def delete_user(self, env_id: str, user_id: str) -> bool:
        """Deletes the user and their history; True when the user existed."""
        cursor = self._db.execute(
            "DELETE FROM users WHERE env_id = ? AND id = ?", (env_id, user_id)
        )
        self._db.execute("DELETE FROM password_history WHERE user_id = ?", (user_id,))
        return cursor.rowcount > 0

    def add_history(self, user_id: str, password: str, changed_at: float) -> None:
        """Records a password the user now has."""
        self._db.execute(
            "INSERT INTO password_history (user_id, password, changed_at) VALUES (?, ?, ?)",
            (user_id, password, changed_at),
        )

    def history(self, user_id: str, limit: int) -> list[HistoryEntry]:
        """Returns the user's ``limit`` most recent passwords, newest first."""
        rows = self._db.execute(
            "SELECT password, changed_at FROM password_history WHERE user_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        return [HistoryEntry(row[0], row[1]) for row in rows]


def _record(row: tuple[Any, ...]) -> UserRecord:
    values = dict(zip(USER_COLUMNS, row, strict=True))
    for column in BOOLEAN_COLUMNS:
        values[column] = bool(values[column])
    return UserRecord(**values)


class Store:
    """A thread-safe handle on the reference's SQLite database."""

    def __init__(self, db_path: str = ":memory:") -> None:
        self._memory = db_path == ":memory:"
        if self._memory:
            self._target = f"file:reference-{uuid.uuid4().hex}?mode=memory&cache=shared"
        else:
            self._target = db_path
        self._local = threading.local()
        # Writes hold it alone; in memory, reads share it (see the module docstring).
        self._lock = FairLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._keeper = self._connect()
        if not self._memory:
            self._keeper.execute("PRAGMA journal_mode=WAL")
        self._keeper.executescript(SCHEMA)

    @property
    def in_memory(self) -> bool:
        """True for the private in-memory database: only this process can hold its locks, so a
        transaction waits at most for this process's own (sub-millisecond) ones."""
        return self._memory

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._target,
            uri=self._memory,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self._memory:
            connection.execute("PRAGMA synchronous = NORMAL")
        with self._connections_lock:
            self._connections.append(connection)
        return connection

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def read(self, work: Callable[[Transaction], T]) -> T:
        """Runs ``work`` in a read transaction and returns its result."""
        return self._run(work, "BEGIN", exclusive=False)

    def write(self, work: Callable[[Transaction], T]) -> T:
        """Runs ``work`` in a ``BEGIN IMMEDIATE`` transaction; commits unless it raises."""
        return self._run(work, "BEGIN IMMEDIATE", exclusive=True)

    def _lock_for(self, exclusive: bool) -> AbstractContextManager[None]:
        """A write holds the lock alone; an in-memory read shares it; a WAL file's read needs
        none (WAL readers neither block a writer nor wait for one)."""
        if exclusive:
            return self._lock.exclusive()
        if self._memory:
            return self._lock.shared()
        return nullcontext()

    def _run(self, work: Callable[[Transaction], T], begin: str, *, exclusive: bool) -> T:
        deadline = time.monotonic() + RETRY_DEADLINE_SECONDS
        delay = 0.001
        while True:
            try:
                with self._lock_for(exclusive), self._transaction(begin) as transaction:
                    return work(transaction)
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if "locked" not in text and "busy" not in text:
                    raise
                if time.monotonic() > deadline:
                    raise StoreRetryExhausted("database stayed locked") from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.05)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Transaction]:
        connection = self._connection()
        connection.execute(begin)
        try:
            yield Transaction(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.rollback()
            raise

    def close(self) -> None:
        """Closes every connection; an in-memory database is gone afterwards."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.close()
            except sqlite3.Error:
                pass
