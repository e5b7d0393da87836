"""The ingester's state: cursors, known containers and the output's committed length, in SQLite.

Why SQLite: it is in the standard library, a single file, and gives atomic multi-row
transactions, which is what makes the cursors and the output agree after a crash.

The commit protocol (what makes the file sink exactly once):

1. ``await sink.write(batch)``: a :class:`~ctrproto.ingest.sinks.FileSink` appends the encoded
   records and fsyncs the file before it returns.
2. ``await state.acommit(new_cursors, sink.position())``: the cursors of every record of the
   batch AND the output's new length, in ONE transaction.

A crash before step 2 completes leaves the file longer than the committed length: the restart
opens ``FileSink(path, committed_length)``, which cuts that tail, and resumes from the old
cursors, so the cut lines are read and written again: exactly once.  A crash after step 2: the
file and the cursors agree already.  The file's data is on disk before the transaction that
covers it commits, so the committed length never points past the file's end.  One rule on top:
a fresh state (``committed_length`` None) must commit the sink's initial position once before
the first write (``state.commit({}, sink.position())``), or a tail written before the first
commit would be taken for content that was there before the ingester ran.  For stdout and Python
sinks (``position()`` None) the same order gives at least once across a crash (an acknowledged
batch whose commit did not happen is delivered again) and exactly once across a clean stop.

Why WAL and ``synchronous=FULL``: WAL lets a reader (a monitoring script, the tests) look
at the state while the ingester writes, and makes a commit one append + one fsync of
the WAL file instead of the rollback journal's several.  In WAL mode ``synchronous=NORMAL``
skips that fsync, so after a power loss the last commits may be rolled back: for the file sink
that is still exactly once (the length and the cursors roll back together and the file is cut),
but for stdout and Python sinks an acknowledged batch would be delivered again.  ``FULL`` makes
a returned commit durable; it costs ~0.4 ms per commit of 100 cursors here (NORMAL: ~0.16 ms),
once per batch.

Threads: the store is used from one asyncio loop.  Each operation is short (one transaction),
but a commit waits for an fsync, which on a slow disk takes milliseconds, so the async methods
(:meth:`StateStore.acommit`, ...) run it in a worker thread and the loop keeps reading
streams meanwhile; the blocking methods are there for start-up, shutdown and tests.  A lock
serialises the operations, since the worker threads are not always the same one.  Between
processes, :func:`claim` keeps a second ingester off the same state file (and the file sink off
the same output).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ..errors import DockerException
from .cursor import Cursor

#: (host, container_id, stream)
CursorKey = tuple[str, str, str]
#: (host, container_id)
ContainerKey = tuple[str, str]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    host TEXT NOT NULL,
    container_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    time_str TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (host, container_id, stream)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS containers (
    host TEXT NOT NULL,
    container_id TEXT NOT NULL,
    name TEXT NOT NULL,
    image TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (host, container_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS output (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    committed_length INTEGER
);
CREATE TABLE IF NOT EXISTS output_file (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    path TEXT NOT NULL
);
"""

_UPSERT_CURSOR = (
    "INSERT INTO cursors (host, container_id, stream, time_str, time_ns, count) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (host, container_id, stream) DO UPDATE SET "
    "time_str = excluded.time_str, time_ns = excluded.time_ns, count = excluded.count"
)
_SET_LENGTH = (
    "INSERT INTO output (id, committed_length) VALUES (0, ?) "
    "ON CONFLICT (id) DO UPDATE SET committed_length = excluded.committed_length"
)


class StateError(DockerException):
    """The state file cannot be used (another program's database, a newer schema, another
    ingester running on it)."""


def claim(fd: int) -> bool:
    """Take an exclusive advisory lock on an open file for as long as it stays open (the kernel
    drops it when the process dies, SIGKILL included); False when another process holds it.

    Two ingesters on one state or one output would interleave their writes and commits, and
    nothing the commit protocol does could untangle that.  ``flock`` locks are separate from the
    POSIX record locks SQLite takes on its database, so they do not interfere.  No ``fcntl``
    (Windows): no lock, True.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class KnownContainer:
    """A container the ingester has followed: ``finished`` once it was read to its end after
    it stopped (discovery skips it unless it runs again)."""

    name: str
    image: str
    finished: bool = False


class LoadedState(NamedTuple):
    """What :meth:`StateStore.load` returns: unpacks as ``cursors, committed_length,
    containers``."""

    cursors: dict[CursorKey, Cursor]
    committed_length: int | None
    containers: dict[ContainerKey, KnownContainer]


class CursorStore(Protocol):
    """What the ingester's loop needs of a state: :class:`StateStore` (SQLite) and
    :class:`~.nats_state.NatsStateStore` (a JetStream bucket).  A store with an ``arelease``
    coroutine has it awaited when the loop ends."""

    async def aload(self) -> LoadedState: ...

    async def acommit(
        self,
        cursors: Mapping[CursorKey, Cursor],
        output_length: int | None,
        finished: Iterable[ContainerKey] = (),
    ) -> None: ...

    async def anote_container(
        self, host: str, container_id: str, name: str, image: str
    ) -> None: ...


class StateStore:
    """The cursors, the known containers and the output's committed length in one SQLite file
    (WAL, ``synchronous=FULL``).  See the module docstring for the commit protocol."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._claim = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if not claim(self._claim):
            os.close(self._claim)
            raise StateError(f"state file {path!r} is in use by another ingester")
        try:
            # isolation_level=None: no implicit transactions; every write below opens its own
            # BEGIN IMMEDIATE ... COMMIT, so "one transaction" is literally one.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except BaseException:
            os.close(self._claim)
            raise
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        db = self._db
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {self.path!r} is not an SQLite database: {exc}") from exc
        if str(mode).lower() != "wal":
            raise StateError(f"state file {self.path!r}: cannot switch to WAL mode (got {mode})")
        db.execute("PRAGMA synchronous=FULL")
        if version not in (0, SCHEMA_VERSION):
            raise StateError(
                f"state file {self.path!r} has schema version {version}, this ctrproto knows "
                f"{SCHEMA_VERSION}"
            )
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if version == 0 and tables - {"cursors", "containers", "output", "output_file"}:
            raise StateError(f"state file {self.path!r} is another program's database")
        db.execute("BEGIN IMMEDIATE")
        try:
            # Not executescript: it would COMMIT on its own; run each statement in this one.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- blocking operations ------------------------------------------------------------------

    def load(self) -> LoadedState:
        """Everything committed: ``(cursors, committed_length, containers)``; the length is None
        when no output length was ever committed (a fresh state, or a stdout/Python sink)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")  # one snapshot for the three reads
            try:
                cursors = {
                    (host, cid, stream): Cursor(time_str, time_ns, count)
                    for host, cid, stream, time_str, time_ns, count in db.execute(
                        "SELECT host, container_id, stream, time_str, time_ns, count FROM cursors"
                    )
                }
                row = db.execute("SELECT committed_length FROM output WHERE id = 0").fetchone()
                containers = {
                    (host, cid): KnownContainer(name, image, bool(finished))
                    for host, cid, name, image, finished in db.execute(
                        "SELECT host, container_id, name, image, finished FROM containers"
                    )
                }
            finally:
                db.execute("COMMIT")
        return LoadedState(cursors, None if row is None else row[0], containers)

    def commit(
        self,
        cursors: Mapping[CursorKey, Cursor],
        output_length: int | None,
        finished: Iterable[ContainerKey] = (),
    ) -> None:
        """Store the cursors (only the keys given change) and the output's length (None: leave
        it as it is) in one transaction, durable when this returns.  ``finished``: containers
        read to their end whose last records are in this commit; marking them here, not before,
        means a crash cannot skip their last lines."""
        rows = [
            (host, cid, stream, c.time_str, c.time_ns, c.count)
            for (host, cid, stream), c in cursors.items()
        ]
        done = list(finished)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_UPSERT_CURSOR, rows)
                if output_length is not None:
                    db.execute(_SET_LENGTH, (output_length,))
                if done:
                    db.executemany(
                        "UPDATE containers SET finished = 1 WHERE host = ? AND container_id = ?",
                        done,
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def note_container(self, host: str, container_id: str, name: str, image: str) -> None:
        """Remember a followed container (or its new name); a finished one is running again, so
        it is no longer finished."""
        self._write(
            "INSERT INTO containers (host, container_id, name, image, finished) "
            "VALUES (?, ?, ?, ?, 0) ON CONFLICT (host, container_id) DO UPDATE SET "
            "name = excluded.name, image = excluded.image, finished = 0",
            (host, container_id, name, image),
        )

    def mark_finished(self, host: str, container_id: str) -> None:
        """The container stopped and was read to its end (use ``commit(finished=...)`` when its
        last records are not committed yet).  Only a noted container can be marked."""
        self._write(
            "UPDATE containers SET finished = 1 WHERE host = ? AND container_id = ?",
            (host, container_id),
        )

    def forget(self, host: str, container_id: str) -> None:
        """Drop a destroyed container and its cursors (its logs are gone with it)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                key = (host, container_id)
                db.execute("DELETE FROM cursors WHERE host = ? AND container_id = ?", key)
                db.execute("DELETE FROM containers WHERE host = ? AND container_id = ?", key)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the database (idempotent); SQLite checkpoints the WAL into the main file."""
        with self._lock:
            self._db.close()
            claimed, self._claim = self._claim, -1
            if claimed >= 0:
                os.close(claimed)

    def bind_output(self, path: str) -> None:
        """Tie this state to the output file ``path`` (its real path), or check that it is the
        file it was tied to: the committed length is that file's, and cutting another file to
        it would destroy lines.  A :class:`StateError` names both files."""
        real = os.path.realpath(path)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT path FROM output_file WHERE id = 0").fetchone()
                if row is None:
                    db.execute("INSERT INTO output_file (id, path) VALUES (0, ?)", (real,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if row is not None and row[0] != real:
            raise StateError(
                f"state file {self.path!r} belongs to the output {row[0]!r}, not {real!r}: "
                f"use that output, or a new state file"
            )

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)  # autocommit: one statement, one transaction

    # -- the same from the asyncio loop, in a worker thread ----------------------------------

    async def aload(self) -> LoadedState:
        return await asyncio.to_thread(self.load)

    async def acommit(
        self,
        cursors: Mapping[CursorKey, Cursor],
        output_length: int | None,
        finished: Iterable[ContainerKey] = (),
    ) -> None:
        await asyncio.to_thread(self.commit, cursors, output_length, list(finished))

    async def anote_container(self, host: str, container_id: str, name: str, image: str) -> None:
        await asyncio.to_thread(self.note_container, host, container_id, name, image)

    async def amark_finished(self, host: str, container_id: str) -> None:
        await asyncio.to_thread(self.mark_finished, host, container_id)

    async def aforget(self, host: str, container_id: str) -> None:
        await asyncio.to_thread(self.forget, host, container_id)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
