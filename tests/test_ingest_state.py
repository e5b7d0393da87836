"""The ingester's state store and sinks: the commit protocol, and a real crash test.

No daemon here: the crash test runs a child process that writes numbered records through
FileSink + StateStore exactly as the runner does, SIGKILLs it at random moments (and at the
worst one, between a batch's write and its commit), restarts it from the state each time, and
checks that the file ends up holding every record exactly once, in order.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from ctrproto.ingest.cursor import Cursor
from ctrproto.ingest.records import Lines, Record
from ctrproto.ingest.sinks import (
    CallableSink,
    FileSink,
    OutputInUseError,
    OutputMismatchError,
    Sink,
    StdoutSink,
)
from ctrproto.ingest.state import KnownContainer, StateError, StateStore

ROOT = Path(__file__).resolve().parent.parent


def _batch(*records: Record) -> list[Lines]:
    return [Lines.of(record) for record in records]


def _record(i: int, stream: str = "stdout", line: bytes | None = None) -> Record:
    return Record(
        host="unix:///x.sock",
        container_id="c" * 64,
        container_name="web",
        image="busybox:latest",
        stream=stream,
        time=f"2026-12-01T23:17:16.{i:09d}Z",
        time_ns=1_796_167_036_000_000_000 + i,
        line=line if line is not None else f"line {i}".encode(),
    )


# -- the state store ----------------------------------------------------------------------------


def test_fresh_state_is_empty(tmp_path: Path) -> None:
    with StateStore(str(tmp_path / "s.db")) as store:
        cursors, length, containers = store.load()
    assert (cursors, length, containers) == ({}, None, {})


def test_commit_load_round_trip(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    a, b, c = ("h1", "id1", "stdout"), ("h1", "id1", "stderr"), ("h2", "id2", "stdout")
    big = 1_796_167_036_123_456_789  # epoch ns need the full 64 bits
    with StateStore(path) as store:
        store.commit({a: Cursor("t1", big, 3), b: Cursor("t2", big + 1, 1)}, 1234)
        store.commit({c: Cursor("t3", 5, 1)}, None)  # None: the length stays
        store.commit({b: Cursor("t4", big + 2, 2)}, 2000)  # only b changes
    with StateStore(path) as store:
        loaded = store.load()
    assert loaded.cursors == {
        a: Cursor("t1", big, 3),
        b: Cursor("t4", big + 2, 2),
        c: Cursor("t3", 5, 1),
    }
    assert loaded.committed_length == 2000
    assert loaded.containers == {}


def test_wal_mode_and_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with StateStore(str(path)) as store:
        store.commit({("h", "i", "stdout"): Cursor("t", 1, 1)}, 10)
        assert Path(f"{path}-wal").exists()
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        # A second connection reads the committed state while the store is open (WAL).
        other = sqlite3.connect(path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert other.execute("SELECT committed_length FROM output").fetchone()[0] == 10
        finally:
            other.close()


class _Unbindable:
    """A cursor whose time string SQLite cannot store: the commit fails half way."""

    time_str: Any = object()
    time_ns = 7
    count = 1


def test_commit_is_one_transaction(tmp_path: Path) -> None:
    with StateStore(str(tmp_path / "s.db")) as store:
        good = ("h", "a", "stdout")
        store.commit({good: Cursor("t0", 1, 1)}, 100)
        bad: dict[Any, Any] = {good: Cursor("t1", 2, 1), ("h", "b", "stdout"): _Unbindable()}
        with pytest.raises(sqlite3.Error):
            store.commit(bad, 200)
        cursors, length, _ = store.load()
        assert cursors == {good: Cursor("t0", 1, 1)} and length == 100
        store.commit({good: Cursor("t2", 3, 1)}, 300)  # the store is still usable
        assert store.load().committed_length == 300


def test_known_containers(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    with StateStore(path) as store:
        store.note_container("h", "a", "web", "busybox")
        store.note_container("h", "b", "db", "busybox")
        store.note_container("h2", "a", "other", "alpine")
        store.mark_finished("h", "a")
        store.commit({("h", "b", "stdout"): Cursor("t", 1, 1)}, None, finished=[("h", "b")])
        store.note_container("h", "b", "db2", "busybox")  # renamed and running again
    with StateStore(path) as store:
        _, _, containers = store.load()
        assert containers == {
            ("h", "a"): KnownContainer("web", "busybox", True),
            ("h", "b"): KnownContainer("db2", "busybox", False),
            ("h2", "a"): KnownContainer("other", "alpine", False),
        }
        store.forget("h", "b")
        cursors, _, containers = store.load()
    assert cursors == {} and set(containers) == {("h", "a"), ("h2", "a")}


def test_async_methods(tmp_path: Path) -> None:
    async def main() -> None:
        store = StateStore(str(tmp_path / "s.db"))
        await store.anote_container("h", "a", "web", "busybox")
        await asyncio.gather(
            store.acommit({("h", "a", "stdout"): Cursor("t", 9, 2)}, 55),
            store.amark_finished("h", "a"),
        )
        cursors, length, containers = await store.aload()
        assert cursors == {("h", "a", "stdout"): Cursor("t", 9, 2)} and length == 55
        assert containers[("h", "a")].finished
        await store.aforget("h", "a")
        assert (await store.aload()).containers == {}
        await store.aclose()

    asyncio.run(main())


def test_one_ingester_per_state_file(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    first = StateStore(path)
    try:
        with pytest.raises(StateError, match="in use by another ingester"):
            StateStore(path)
    finally:
        first.close()
    first.close()  # idempotent
    with StateStore(path) as again:  # the lock went with the close
        assert again.load().cursors == {}


def test_not_a_state_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="not an SQLite database"):
        StateStore(str(junk))
    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE songs (title TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="another program"):
        StateStore(str(foreign))
    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateError, match="schema version 99"):
        StateStore(str(newer))


# -- the sinks ----------------------------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_file_sink_appends_and_reopen_cuts_the_uncommitted_tail(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"

    async def main() -> None:
        sink = FileSink(str(out), None)
        assert isinstance(sink, Sink) and sink.position() == 0
        await sink.write(_batch(_record(0), _record(1, "stderr")))
        committed = sink.position()
        assert committed == out.stat().st_size
        await sink.write(_batch(_record(2)))  # written, never committed: a crash here
        await sink.close()
        assert len(_lines(out)) == 3

        sink = FileSink(str(out), committed)
        assert out.stat().st_size == committed and sink.position() == committed
        await sink.write(_batch(_record(3)))
        await sink.write([])
        assert sink.position() == out.stat().st_size
        await sink.close()
        await sink.close()  # idempotent
        with pytest.raises(ValueError, match="closed"):
            await sink.write(_batch(_record(4)))

    asyncio.run(main())
    got = _lines(out)
    assert [(r["line"], r["stream"]) for r in got] == [
        ("line 0", "stdout"), ("line 1", "stderr"), ("line 3", "stdout")
    ]
    assert got[0]["time"] == "2026-12-01T23:17:16.000000000Z"


def test_file_sink_keeps_what_a_fresh_state_found(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"earlier": true}\n')

    async def main() -> None:
        sink = FileSink(str(out), None)
        assert sink.position() == 18
        await sink.write(_batch(_record(0)))
        await sink.close()

    asyncio.run(main())
    assert [list(r)[0] for r in _lines(out)] == ["earlier", "host"]


def test_one_ingester_per_output_file(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")

    async def main() -> None:
        first = FileSink(out, None)
        with pytest.raises(OutputInUseError, match="in use by another ingester"):
            FileSink(out, None)
        await first.close()
        await FileSink(out, 0).close()

    asyncio.run(main())


def test_file_sink_refuses_a_file_shorter_than_committed(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"x" * 10)
    with pytest.raises(OutputMismatchError, match="holds 10 bytes but the state committed 11"):
        FileSink(str(out), 11)
    assert out.read_bytes() == b"x" * 10  # untouched


def test_file_sink_cancelled_write_leaves_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """A write cancelled while its thread is in the fsync was not acknowledged: its bytes are cut
    before the next write, which lands where the cancelled one started."""
    from ctrproto.ingest import sinks

    out = tmp_path / "out.jsonl"
    entered, release = threading.Event(), threading.Event()
    real = sinks._fdatasync

    def slow_sync(fd: int) -> None:
        if not release.is_set():
            entered.set()
            release.wait(30)
        real(fd)

    async def main() -> None:
        sink = FileSink(str(out), None)
        await sink.write(_batch(_record(0)))
        monkeypatch.setattr(sinks, "_fdatasync", slow_sync)
        task = asyncio.create_task(sink.write(_batch(_record(1, line=b"x" * 500))))
        await asyncio.to_thread(entered.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await sink.write(_batch(_record(2)))
        assert sink.position() == out.stat().st_size
        await sink.close()

    asyncio.run(main())
    assert [r["line"] for r in _lines(out)] == ["line 0", "line 2"]


def test_stdout_sink_writes_and_flushes() -> None:
    class Stream(io.BytesIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Stream()

    async def main() -> None:
        sink = StdoutSink(stream)
        assert isinstance(sink, Sink) and sink.position() is None
        await sink.write(_batch(_record(0), _record(1)))
        assert stream.flushes == 1  # flushed before write returned
        await sink.close()
        with pytest.raises(ValueError, match="closed"):
            await sink.write(_batch(_record(2)))

    asyncio.run(main())
    assert [json.loads(x)["line"] for x in stream.getvalue().splitlines()] == ["line 0", "line 1"]


def test_callable_sink_acknowledges_by_returning() -> None:
    got: list[list[Record]] = []

    async def fn(batch: list[Record]) -> None:
        if batch[0].line == b"refuse":
            raise RuntimeError("not now")
        got.append(batch)

    async def main() -> None:
        sink = CallableSink(fn)
        assert isinstance(sink, Sink) and sink.position() is None
        await sink.write(_batch(_record(0)))
        await sink.write([])  # nothing to acknowledge: fn not called
        with pytest.raises(RuntimeError, match="not now"):
            await sink.write(_batch(_record(1, line=b"refuse")))
        await sink.close()

    asyncio.run(main())
    assert [[r.line for r in batch] for batch in got] == [[b"line 0"]]


# -- the crash test -----------------------------------------------------------------------------

#: The child: the runner's commit protocol over a deterministic sequence per key, resuming from
#: the cursors it finds.  Three records share each timestamp, so resuming needs the count.
CHILD = textwrap.dedent(
    r'''
    import asyncio, os, random, sys, time

    from ctrproto.ingest.cursor import Cursor
    from ctrproto.ingest.records import Lines, Record
    from ctrproto.ingest.sinks import FileSink
    from ctrproto.ingest.state import StateStore

    KEYS = [("h1", "c1", "stdout"), ("h1", "c1", "stderr"), ("h2", "c2", "stdout")]
    BASE = 1_796_167_036_000_000_000
    PER_NS = 3

    def line(key, i):
        text = f"{key[1]}/{key[2]} {i} ".encode()
        if i % 7 == 3:
            text += b"\xff\xfe not utf-8 \xc3"
        if i % 97 == 5:
            text += b"L" * 20_000
        return text

    def stamp(i):
        ns = BASE + i // PER_NS
        return f"2026-12-01T23:17:16.{ns % 1_000_000_000:09d}Z", ns

    def next_index(cursor):
        return 0 if cursor is None else (cursor.time_ns - BASE) * PER_NS + cursor.count

    async def main(state_path, out_path, limit, window_at, seed):
        rng = random.Random(seed)
        state = StateStore(state_path)
        cursors, length, _ = state.load()
        sink = FileSink(out_path, length)
        if length is None:
            state.commit({}, sink.position())
        nxt = {key: next_index(cursors.get(key)) for key in KEYS}
        print("ready", flush=True)
        batches = 0
        while True:
            live = [key for key in KEYS if nxt[key] < limit]
            if not live:
                break
            batch, last = [], {}
            for _ in range(rng.randint(1, 40)):
                key = rng.choice(live)
                if nxt[key] >= limit:
                    continue
                i = nxt[key]
                nxt[key] += 1
                time_str, ns = stamp(i)
                batch.append(Record(key[0], key[1], "name", "img", key[2], time_str, ns,
                                    line(key, i)))
                prev = cursors.get(key)
                count = prev.count + 1 if prev is not None and prev.time_ns == ns else 1
                last[key] = cursors[key] = Cursor(time_str, ns, count)
            await sink.write([Lines.of(record) for record in batch])
            batches += 1
            if batches == window_at:
                print("window", flush=True)  # written and fsynced, not committed
                time.sleep(60)
            await state.acommit(last, sink.position())
        await sink.close()
        state.close()
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                     int(sys.argv[5])))
    '''
)
KEYS = [("h1", "c1", "stdout"), ("h1", "c1", "stderr"), ("h2", "c2", "stdout")]


def _expected_line(key: tuple[str, str, str], i: int) -> bytes:
    text = f"{key[1]}/{key[2]} {i} ".encode()
    if i % 7 == 3:
        text += b"\xff\xfe not utf-8 \xc3"
    if i % 97 == 5:
        text += b"L" * 20_000
    return text


def _wait_for(proc: subprocess.Popen[bytes], word: bytes, timeout: float = 60) -> None:
    """Read the child's stdout until ``word``; fail (not hang) if it never comes."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            assert sel.select(timeout), f"child said nothing for {timeout}s (waiting for {word!r})"
            got = proc.stdout.readline()
            assert got, f"child ended (rc {proc.wait()}) before {word!r}"
            if got.strip() == word:
                return


def _committed_length(state: Path) -> int | None:
    if not state.exists():
        return None
    db = sqlite3.connect(state)
    try:
        row = db.execute("SELECT committed_length FROM output").fetchone()
    except sqlite3.OperationalError:  # killed before the schema was created
        return None
    finally:
        db.close()
    return None if row is None else int(row[0])


def test_sigkill_at_random_moments_leaves_every_record_exactly_once(tmp_path: Path) -> None:
    child, state, out = tmp_path / "child.py", tmp_path / "state.db", tmp_path / "out.jsonl"
    child.write_text(CHILD)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    tails_cut = 0

    def spawn(limit: int, window_at: int) -> subprocess.Popen[bytes]:
        seed_ = rng.randrange(1 << 30)
        args = [str(child), str(state), str(out), str(limit), str(window_at), str(seed_)]
        return subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, env=env, cwd=tmp_path
        )

    def kill(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    for round_ in range(31):
        mode = 1 if round_ == 30 else round_ % 3  # the last kill leaves a tail for sure
        proc = spawn(10**9, rng.randint(1, 15) if mode == 1 else 0)
        try:
            if mode == 0:  # a random moment while it writes
                _wait_for(proc, b"ready")
                threading.Event().wait(rng.uniform(0, 0.25))
            elif mode == 1:  # the worst moment: the batch is in the file, not in the state
                _wait_for(proc, b"window")
            else:  # a random moment from the start: opening, truncating, the first commit
                threading.Event().wait(rng.uniform(0, 0.6))
        finally:
            kill(proc)
        committed = _committed_length(state)
        size = out.stat().st_size if out.exists() else 0
        if mode == 1:
            assert committed is not None and size > committed, (seed, round_, size, committed)
        if committed is not None:
            assert size >= committed, (seed, round_)
            # The committed part is whole records: the length is always at a record's end.
            for raw in out.read_bytes()[:committed].splitlines(keepends=True):
                assert raw.endswith(b"\n") and json.loads(raw), (seed, round_)
            tails_cut += size > committed

    # A restart with nothing to write cuts the uncommitted tail and adds nothing.
    committed = _committed_length(state)
    nothing_left = min(_next_indexes(state).values())
    proc = spawn(nothing_left, 0)
    try:
        _wait_for(proc, b"done")
    finally:
        kill(proc)
    assert out.stat().st_size == committed, seed

    # The last run finishes a little past what the killed runs reached, and exits cleanly.
    limit = max(_next_indexes(state).values()) + 300
    proc = spawn(limit, 0)
    try:
        _wait_for(proc, b"done", timeout=300)
        assert proc.wait() == 0
    finally:
        kill(proc)

    seen: dict[tuple[str, str, str], list[int]] = {key: [] for key in KEYS}
    for raw in out.read_bytes().splitlines():  # every line parses: no torn record survived
        rec = json.loads(raw)
        key = (rec["host"], rec["container_id"], rec["stream"])
        i = len(seen[key])
        exact = base64.b64decode(rec["line_base64"]) if "line_base64" in rec else rec[
            "line"
        ].encode()
        assert exact == _expected_line(key, i), (seed, key, i, rec["line"][:60])
        assert rec["time"] == f"2026-12-01T23:17:16.{i // 3:09d}Z"
        seen[key].append(i)
    assert {key: len(v) for key, v in seen.items()} == {key: limit for key in KEYS}, seed
    assert tails_cut >= 11, (seed, tails_cut)  # the window rounds alone give 11


def _next_indexes(state: Path) -> dict[tuple[str, str, str], int]:
    """Where each key of the child's sequence resumes, from the committed cursors."""
    db = sqlite3.connect(state)
    try:
        rows = db.execute("SELECT host, container_id, stream, time_ns, count FROM cursors")
        found = {(h, c, s): (ns - 1_796_167_036_000_000_000) * 3 + n for h, c, s, ns, n in rows}
    finally:
        db.close()
    return {key: found.get(key, 0) for key in KEYS}


def test_a_state_belongs_to_one_output_file(tmp_path: Path) -> None:
    """The committed length is one file's: a state reused with another output is refused
    (naming both files) instead of cutting that file to the old length; the same file under
    another spelling of its path is the same output."""
    first, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    other.write_bytes(b"x" * 1000)  # a longer file the old length would have cut
    state = StateStore(str(tmp_path / "state.db"))
    try:
        state.bind_output(str(first))
        state.commit({}, 10)
        state.bind_output(str(tmp_path / "." / "a.jsonl"))  # the same file: fine
        with pytest.raises(StateError, match="b.jsonl") as refused:
            state.bind_output(str(other))
        assert "a.jsonl" in str(refused.value)
    finally:
        state.close()
    assert other.read_bytes() == b"x" * 1000
    done = subprocess.run(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", "unix:///nonexistent.sock",
         "--state", str(tmp_path / "state.db"), "--output", str(other)],
        capture_output=True, text=True, timeout=60,
    )
    assert other.read_bytes() == b"x" * 1000
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "belongs to the output" in done.stderr
