"""``ctrproto ingest`` against the testbed daemon: real containers, real kills, the daemon's own
logs as the oracle.

The oracle for one container's stream is ``logs(stdout=..., stderr=..., timestamps=False)`` read
after everything ended: the exact bytes the daemon holds, cut at the newlines.  The ingester's
records of that (container, stream), in file order, must be exactly that list: every line once,
in order, the long line joined, the non-UTF-8 bytes restored from ``line_base64``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, wait_for

from ctrproto import APIClient
from ctrproto.ingest.assembly import DAEMON_PIECE_BYTES
from ctrproto.ingest.records import Record
from ctrproto.ingest.runner import ingest
from ctrproto.ingest.sinks import CallableSink
from ctrproto.ingest.state import StateStore

pytestmark = pytest.mark.daemon

LONG = 40_000


def writer(tag: str, count: int, pause: str = "0.01", long_at: int = 5) -> list[str]:
    """A shell loop writing numbered lines to stdout and stderr; at ``long_at`` also a line of
    40,000 bytes (the daemon splits it into 16 KiB frames) and a line with non-UTF-8 bytes."""
    script = (
        f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); "
        f'echo "{tag} out $i"; echo "{tag} err $i" >&2; '
        f"if [ $i -eq {long_at} ]; then head -c {LONG} /dev/zero | tr '\\0' L; echo; "
        f"printf '{tag} bin \\377\\376\\200 %d\\n' $i >&2; fi; "
        f"sleep {pause}; done"
    )
    return ["sh", "-c", script]


def expected_lines(api: APIClient, cid: str, stream: str, tty: bool = False) -> list[bytes]:
    """The daemon's own logs of one stream, as lines.  Non-TTY: one message per frame; the
    copier cuts a long line into messages of exactly 16 KiB without a newline, so any other
    message without one ended a line (the ``local`` driver of dockerd 20.10 drops the newline
    after a split line's last piece; a run's last output may have none)."""
    if tty:
        raw = api.logs(cid, stdout=True, stderr=False)
    else:
        frames = api.logs(
            cid, stdout=stream == "stdout", stderr=stream == "stderr", stream=True, follow=False
        )
        raw = b"".join(
            frame if frame.endswith(b"\n") or len(frame) == DAEMON_PIECE_BYTES else frame + b"\n"
            for frame in frames
        )
    assert isinstance(raw, bytes)
    newline = b"\r\n" if tty else b"\n"
    lines = raw.split(newline)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def line_bytes(record: dict[str, Any]) -> bytes:
    if "line_base64" in record:
        return base64.b64decode(record["line_base64"])
    text: str = record["line"]
    return text.encode()


def read_output(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = path.read_bytes()
    return [json.loads(line) for line in data.splitlines() if line.endswith(b"}")]


def by_stream(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[bytes]]:
    found: dict[tuple[str, str], list[bytes]] = {}
    for record in records:
        found.setdefault((record["container_id"], record["stream"]), []).append(
            line_bytes(record)
        )
    return found


def check_against_daemon(
    api: APIClient, cids: list[str], records: list[dict[str, Any]], tty: bool = False
) -> None:
    got = by_stream(records)
    for cid in cids:
        for stream in ("stdout",) if tty else ("stdout", "stderr"):
            want = expected_lines(api, cid, stream, tty)
            have = got.get((cid, stream), [])
            assert len(have) == len(want), (cid[:12], stream, len(have), len(want))
            assert have == want, (cid[:12], stream)


class Ingester:
    """``python -m ctrproto.ingest`` as a subprocess, restartable, with its stderr kept."""

    def __init__(self, docker_host: str, tag: str, directory: Path, *extra: str) -> None:
        self.args = [
            sys.executable, "-m", "ctrproto.ingest", "ingest",
            "--host", docker_host,
            "--filter", f"label=ctrproto.ingest-test={tag}",
            "--state", str(directory / "state.db"),
            "--output", str(directory / "out.jsonl"),
            *extra,
        ]
        self.output = directory / "out.jsonl"
        self.state = directory / "state.db"
        self.log = directory / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, stderr=log)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture
def ingester(docker_host: str, tag: str, tmp_path: Path) -> Iterator[Callable[..., Ingester]]:
    made: list[Ingester] = []

    def make(*extra: str) -> Ingester:
        ing = Ingester(docker_host, tag, tmp_path, *extra)
        made.append(ing)
        return ing

    yield make
    for ing in made:
        ing.stop_quietly()


def all_delivered(api: APIClient, cids: list[str], output: Path, tty: bool = False) -> bool:
    got = by_stream(read_output(output))
    for cid in cids:
        for stream in ("stdout",) if tty else ("stdout", "stderr"):
            if len(got.get((cid, stream), [])) < len(expected_lines(api, cid, stream, tty)):
                return False
    return True


def wait_exited(api: APIClient, cids: list[str]) -> None:
    for cid in cids:
        api.wait(cid, timeout=120)


# ------------------------------------------------------------------------------ the chaos run


def test_sigkill_restarts_every_line_once(
    api: APIClient, start_writer: Callable[..., str], ingester: Callable[..., Ingester],
    tag: str,
) -> None:
    """SIGKILLed at random moments while four containers write; one container restarted, one
    started while the ingester is down; a clean SIGTERM at the end exits 0.

    The late container logs through the ``local`` driver: json-file stores lines as JSON
    strings, so the daemon itself replaces bytes that are not UTF-8 (nothing for the ingester to
    keep), while ``local`` keeps them.  (``local`` in dockerd 20.10 also drops the newline after
    the last piece of a split line; the piece is shorter than the copier's 16 KiB cut, so it
    still ends the line, in the ingester and in the oracle.)"""
    rng = random.Random(12)
    cids = [start_writer(writer(f"{tag}-{n}", 150 + 40 * n)) for n in range(3)]
    ing = ingester()
    ing.start()
    late = None
    for round_ in range(6):
        time.sleep(rng.uniform(0.3, 1.5))
        ing.kill()
        if round_ == 2:  # started while the ingester is down
            late = start_writer(writer(f"{tag}-late", 120), driver="local")
            cids.append(late)
        if round_ == 3:  # restarted (its first run has ended: its log goes on after it)
            api.wait(cids[0], timeout=120)
            api.restart(cids[0], timeout=1)
        ing.start()
    wait_exited(api, cids)
    assert wait_for(lambda: all_delivered(api, cids, ing.output), timeout=120)
    assert ing.terminate() == 0, ing.log.read_text()[-2000:]
    records = read_output(ing.output)
    check_against_daemon(api, cids, records)
    longs = [r for r in records if len(r["line"]) == LONG]
    # one per run, whole: the restarted container ran twice, the late one's (local driver) too
    assert len(longs) == len(cids) + 1
    assert not any(r.get("partial") for r in longs)
    assert [r["container_id"] for r in longs].count(late) == 1
    binaries = [r for r in records if "line_base64" in r]
    assert [r["container_id"] for r in binaries] == [late]
    assert line_bytes(binaries[0]) == f"{tag}-late bin \377\376\200 5".encode("latin-1")
    assert "\ufffd" in binaries[0]["line"]
    names = {r["container_id"]: r["container_name"] for r in records}
    assert set(names) == set(cids)
    assert {r["image"] for r in records} == {"busybox:latest"}
    # The state: every container read to its end is marked finished.
    with sqlite3.connect(ing.state) as db:
        finished = {cid for cid, done in db.execute(
            "SELECT container_id, finished FROM containers") if done}
    assert finished == set(cids)


def test_restart_then_sigterm_adds_nothing(
    api: APIClient, start_writer: Callable[..., str], ingester: Callable[..., Ingester],
) -> None:
    """A clean stop commits everything: a second run over finished containers writes nothing,
    and the file is not touched."""
    cid = start_writer(writer("quiet", 20))
    api.wait(cid, timeout=60)
    ing = ingester("--stats-interval", "0.2", "--stats-json")
    ing.start()
    assert wait_for(lambda: all_delivered(api, [cid], ing.output), timeout=60)
    want = sum(len(expected_lines(api, cid, s)) for s in ("stdout", "stderr"))

    def stats_lines() -> list[dict[str, Any]]:
        data = ing.log.read_bytes() if ing.log.exists() else b""
        return [json.loads(line) for line in data.splitlines() if line[:1] == b"{"]

    # A stats line counts what was delivered: one comes that counts everything.
    assert wait_for(lambda: any(s["lines"] == want for s in stats_lines()))
    assert ing.terminate() == 0
    stats = stats_lines()
    assert {"lines_per_s", "bytes_per_s", "containers", "hosts"} <= set(stats[-1])
    assert stats[-1]["lines"] == want
    (host,) = stats[-1]["hosts"].values()
    assert {"lag_s", "reconnects", "containers"} <= set(host)
    before = ing.output.read_bytes()
    ing.start()
    time.sleep(1.0)  # give a wrong second run the chance to write (no assertion on timing)
    assert ing.terminate() == 0
    assert ing.output.read_bytes() == before
    check_against_daemon(api, [cid], read_output(ing.output))


# ------------------------------------------------------------------------------ --from now


def _state_cursors(path: Path, cid: str) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute(
                "SELECT count(*) FROM cursors WHERE container_id = ?", (cid,)).fetchone()[0])
    except sqlite3.Error:
        return 0


def test_from_now_skips_what_was_written_before(
    api: APIClient, start_writer: Callable[..., str], ingester: Callable[..., Ingester],
    tag: str,
) -> None:
    script = (
        "for i in 1 2 3; do echo old $i; echo olderr $i >&2; done; "
        "while [ ! -e /tmp/go ]; do sleep 0.05; done; "
        "for i in 1 2 3 4; do echo new $i; echo newerr $i >&2; done"
    )
    old = start_writer(["sh", "-c", script])
    assert wait_for(lambda: len(expected_lines(api, old, "stderr")) == 3)
    ing = ingester("--from", "now")
    ing.start()
    # The ingester commits where it starts before reading anything: then let it write on.
    assert wait_for(lambda: _state_cursors(ing.state, old) == 2, timeout=60)
    later = start_writer(writer(f"{tag}-after", 10))  # created after "now": read whole
    exec_id = api.exec_create(old, ["touch", "/tmp/go"])["Id"]
    api.exec_start(exec_id)
    wait_exited(api, [old, later])
    assert wait_for(lambda: all_delivered(api, [later], ing.output), timeout=60)
    assert wait_for(
        lambda: len(by_stream(read_output(ing.output)).get((old, "stderr"), [])) == 4,
        timeout=60,
    )
    assert ing.terminate() == 0
    got = by_stream(read_output(ing.output))
    assert got[(old, "stdout")] == [f"new {i}".encode() for i in range(1, 5)]
    assert got[(old, "stderr")] == [f"newerr {i}".encode() for i in range(1, 5)]
    check_against_daemon(api, [later], read_output(ing.output))


# ------------------------------------------------------------------------------ library API


async def ingest_until(
    docker_host: str, tag: str, sink: Any, state: Any, done: Callable[[], bool], **options: Any
) -> None:
    """The library's ``ingest`` over the containers labelled ``tag``, stopped once ``done()``."""
    stop = asyncio.Event()

    async def watch() -> None:
        while not done():
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.create_task(watch())
    try:
        await ingest(
            [docker_host], {"label": [f"ctrproto.ingest-test={tag}"]}, sink, state, stop=stop,
            **options,
        )
    finally:
        watcher.cancel()


def _run_library(
    docker_host: str, tag: str, sink: Callable[[list[Record]], Any], state: StateStore | None,
    done: Callable[[], bool], **options: Any,
) -> None:
    async def main() -> None:
        await ingest_until(docker_host, tag, CallableSink(sink), state, done, **options)

    asyncio.run(asyncio.wait_for(main(), 120))


def test_library_sink_only_acknowledged_batches_advance(
    api: APIClient, docker_host: str, start_writer: Callable[..., str], tag: str, tmp_path: Path,
) -> None:
    """A Python sink that refuses its second batch: ingest raises, the cursors stop at the
    first batch; a second run delivers the rest, nothing twice.  The container writes its
    second half only once the first batch was accepted, so a second batch always exists (the
    daemon may hand a short log over in one read)."""
    first_half = writer(tag, 30, pause="0")[2]
    second_half = first_half.replace("i=0; ", "").replace("[ $i -lt 30 ]", "[ $i -lt 60 ]")
    cid = start_writer(["sh", "-c", (
        f"{first_half}; while [ ! -e /tmp/go ]; do sleep 0.05; done; {second_half}"
    )])
    got: list[Record] = []
    calls = 0

    def release_second_half() -> None:
        exec_id = api.exec_create(cid, ["touch", "/tmp/go"])["Id"]
        api.exec_start(exec_id)

    async def flaky(batch: list[Record]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("sink refused the batch")
        got.extend(batch)
        if calls == 1:
            await asyncio.to_thread(release_second_half)

    state = StateStore(str(tmp_path / "state.db"))
    try:
        with pytest.raises(RuntimeError, match="refused"):
            _run_library(docker_host, tag, flaky, state, lambda: False, batch_records=10)
        api.wait(cid, timeout=60)
        want = sum(len(expected_lines(api, cid, s)) for s in ("stdout", "stderr"))
        assert 0 < len(got) < want
        _run_library(docker_host, tag, flaky, state, lambda: len(got) >= want)
    finally:
        state.close()
    records = [
        {"container_id": r.container_id, "stream": r.stream, "line": r.line.decode(
            errors="replace"), "line_base64": base64.b64encode(r.line).decode()}
        for r in got
    ]
    check_against_daemon(api, [cid], records)
    assert all(r.container_name and r.time.endswith("Z") for r in got)


def test_library_tty_and_cut_lines(
    api: APIClient, docker_host: str, start_writer: Callable[..., str], tag: str,
) -> None:
    """A TTY container (no frames, \\r\\n) with a 40,000-byte line, read with max_line_bytes
    10,000: the long line comes as four partial records that join back to it; labels on."""
    cid = start_writer(writer(tag, 20, pause="0"), tty=True)
    api.wait(cid, timeout=60)
    want = expected_lines(api, cid, "stdout", tty=True)
    got: list[Record] = []

    async def collect(batch: list[Record]) -> None:
        got.extend(batch)

    pieces = 4
    _run_library(
        docker_host, tag, collect, None, lambda: len(got) >= len(want) + pieces - 1,
        max_line_bytes=10_000, labels=True,
    )
    assert {r.stream for r in got} == {"stdout"}
    partial = [r for r in got if r.partial]
    assert [len(r.line) for r in partial] == [10_000] * pieces
    assert len({r.time for r in partial}) == 1
    joined: list[bytes] = []
    previous: Record | None = None
    for r in got:  # consecutive partial records of one time are one line
        if r.partial and previous is not None and previous.partial and previous.time == r.time:
            joined[-1] += r.line
        else:
            joined.append(r.line)
        previous = r
    assert joined == want
    assert got[0].labels is not None and got[0].labels["ctrproto.ingest-test"] == tag


# ------------------------------------------------------------------------------ the CLI's input


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--filter", "nonsense"], "KEY=VALUE"),
        (["--max-line-bytes", "0"], "at least 1"),
        (["--from", "later"], "invalid choice"),
        (["--stats-interval", "-1"], "positive"),
        (["--host", "bogus://x"], "--host"),
        (["--bogus"], "unrecognized"),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(
    args: list[str], problem: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", "--state",
         str(tmp_path / "s.db"), *args],
        cwd=REPO, capture_output=True, timeout=60, env={**os.environ},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert problem in lines[0]


# ------------------------------------------------------------------------------ no daemon


@pytest.mark.parametrize("seed", range(20))
def test_reader_cursor_is_advance_folded(seed: int) -> None:
    """The follower's batched cursor update is cursor.advance applied line by line (equal,
    later and earlier timestamps), after Resume dropped what was delivered."""
    from ctrproto.ingest.cursor import Cursor, Resume, advance
    from ctrproto.ingest.flow import Pipeline
    from ctrproto.ingest.follower import Follower, _Reader

    rng = random.Random(seed)
    follower = Follower(Pipeline(asyncio.Queue()), None, "h", "c")  # type: ignore[arg-type]
    start = None if seed % 3 == 0 else Cursor("t", 100, rng.randint(0, 2))
    reader = _Reader(follower, Resume({"stdout": start, "stderr": None}), {"stdout": start})
    lines = [(f"t{ns}", ns, b"x", False) for ns in sorted(rng.choices(range(95, 110), k=30))]
    if seed % 2:
        lines += [(f"t{ns}", ns, b"y", False) for ns in rng.choices(range(90, 120), k=10)]
    expected = start
    kept = []
    check = Resume({"stdout": start})
    for line in lines:
        if kept or check.keep("stdout", line[1]):
            kept.append(line)
            expected = advance(expected, line[0], line[1])
    for piece in (lines[:7], lines[7:8], lines[8:]):
        reader.take("stdout", list(piece))
    got = [(ns, b) for group in reader.groups for _, ns, b, _ in group.lines]
    assert got == [(ns, b) for _, ns, b, _ in kept]
    assert reader.count == len(kept)
    assert reader.cursors["stdout"] == expected


def test_the_console_script_is_installed() -> None:
    """``ctrproto ingest`` (pyproject's [project.scripts]) next to the interpreter: bad input is
    one line on stderr and status 2."""
    script = Path(sys.executable).with_name("ctrproto")
    assert script.exists(), "the ctrproto console script is not installed (pip install -e .)"
    done = subprocess.run(
        [str(script), "ingest", "--from", "later"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--from" in done.stderr
