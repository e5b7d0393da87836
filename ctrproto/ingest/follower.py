"""Follows ONE container's logs on one host: frames in, records out, resumable at any instant.

One ``GET /containers/{id}/logs?follow=1&timestamps=1&stdout=1&stderr=1&since=...`` carries both
streams (one connection per container, not two).  The body is decoded with the client's
demuxer into ``(stream, payload)`` frames, one list per network read (the cheapest shape that
keeps each frame's stream), each payload fed to that stream's :class:`LineAssembler`; a TTY
container's body has no frames and is fed raw to one "stdout" assembler.  :class:`Resume` drops
the lines a previous connection (or process) already handed on.  Each read's records go to the
shared bounded queue as one :class:`~.flow.Chunk` with the cursors after them: when the sink is
slow the ``put`` waits, this follower stops reading, and the daemon's socket buffer fills
(backpressure, memory bounded by the queue).

Where a connection ends:

- an error (daemon restarted, connection cut): retry with capped backoff + jitter from the
  cursors of what was handed on; the lines half-assembled when it broke are dropped and read
  again (they were not delivered);
- a clean end while the same run of the container is still running (a proxy that cut an idle
  stream): reconnect the same way, without flushing: the tail of a split line must not be
  delivered as a line of its own;
- a clean end after the run ended (not running, or started again since: a restart): flush the
  assemblers (a last line without newline is a line), and if the container is not running, hand
  on a chunk marked ``finished``, which the runner marks in the state with its commit.  A
  :meth:`Follower.poke` (a start event) makes the follower look again instead of ending.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from .._async.api_client import AsyncAPIClient
from .._async.stream_shapes import frame_batches, piece_batches
from ..engine import endpoints
from ..errors import NotFound
from ..protocol.demux import STDERR
from .assembly import Line, LineAssembler
from .cursor import Cursor, Resume
from .flow import Backoff, Chunk, CursorKey, Pipeline
from .records import Lines, parse_timestamp
from .state import CursorStore

log = logging.getLogger("ctrproto.ingest")

STREAMS = ("stdout", "stderr")
#: How far before the other stream's cursor a stream that never delivered a line resumes.  The
#: daemon stamps stdout and stderr in two copiers and writes them to one log, so their stamps can
#: cross by the copiers' lag (microseconds); a second's margin keeps such a line, and costs only
#: re-reading (and dropping) up to a second of the other stream on a reconnect - instead of
#: re-reading the whole log each time a container that writes to one stream only reconnects.
FLOOR_MARGIN_NS = 1_000_000_000
#: The longest a follower leaves its stream unread after a short read, so that the next read
#: takes what the daemon wrote meanwhile at once: the daemon writes a followed log a frame or a
#: few at a time, and a read per write costs most of the ingester's CPU (see
#: benchmarks/RESULTS.md).  The wait adapts (``aiter_raw``): ~3 ms while a backlog is read,
#: this long for a stream that trickles; a tenth of a second against a delivery budget of one.
READ_GATHER_S = 0.1


def with_floors(cursors: dict[str, Cursor | None]) -> dict[str, Cursor | None]:
    """The cursors, with a floor (count 0: "nothing delivered from here on") for a stream that
    has delivered nothing while another has, so that the request need not start from the log's
    beginning; unchanged when no stream has a cursor (a container never read: from the start)."""
    known = [c for c in cursors.values() if c is not None]
    if not known or len(known) == len(cursors):
        return cursors
    floor_ns = max(0, min(c.time_ns for c in known) - FLOOR_MARGIN_NS)
    floor = Cursor("", floor_ns, 0)
    return {s: floor if c is None else c for s, c in cursors.items()}


class Follower:
    """The reading loop of one container; :meth:`run` returns when it is read to its end (or
    removed), and is cancelled when the ingester stops."""

    def __init__(
        self,
        pipeline: Pipeline,
        client: AsyncAPIClient,
        host: str,
        container_id: str,
        state: CursorStore | None = None,
        start: Cursor | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.client = client
        self.host = host
        self.container_id = container_id
        self.state = state
        self.name = ""
        self.image = ""
        self.labels: dict[str, str] | None = None
        self._keys: dict[str, CursorKey] = {s: (host, container_id, s) for s in STREAMS}
        #: ``--from now`` for a container never seen: both streams start at this cursor (count
        #: 0: nothing at that instant was delivered), committed before any line.
        self._start = start
        self._poked = False
        self._progress = False  # lines handed on since the last failure
        #: StartedAt of the run this follower last read to its end (discovery skips that run).
        self.started: str | None = None
        self.task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """The container (re)started: look at it again when the current stream ends."""
        self._poked = True

    def rename(self, name: str) -> None:
        """Records from now on carry the new name (a rename event)."""
        self.name = name.lstrip("/")

    async def run(self) -> None:
        stats = self.pipeline.stats(self.host)
        stats.followers += 1
        backoff = Backoff()
        try:
            if self._start is not None:
                await self._hand_on([], {key: self._start for key in self._keys.values()})
            while True:
                try:
                    got, ended = await self._follow_once()
                except asyncio.CancelledError:
                    raise
                except NotFound:
                    return  # removed: its logs went with it
                except Exception as exc:  # noqa: BLE001 - every failure is retried, cursors kept
                    stats.reconnects += 1
                    if self._progress:  # it delivered before it broke: not a failing host
                        backoff.reset()
                    self._progress = False
                    log.info("%s %s: %s; retrying", self.host, self.container_id[:12], exc)
                    await backoff.sleep()
                    continue
                if ended:
                    if not self._poked:
                        return
                    self._poked = False
                    continue
                # A clean end while the run goes on: reconnect (at once if it delivered).
                stats.reconnects += 1
                if got:
                    backoff.reset()
                await backoff.sleep()
        finally:
            stats.followers -= 1

    # ------------------------------------------------------------------ one connection

    async def _follow_once(self) -> tuple[bool, bool]:
        """Read one logs connection to its end: (whether it handed on any line, whether the
        container's run ended and was flushed, so that the follower may stop)."""
        info = await self.client.inspect_container(self.container_id)
        self._describe(info)
        state = info.get("State") or {}
        if state.get("Status") == "created":  # never started: nothing to read, a start comes
            return False, True
        if self.state is not None:
            await self.state.anote_container(self.host, self.container_id, self.name, self.image)
            self.pipeline.known.add((self.host, self.container_id))
        started = state.get("StartedAt")
        tty = bool((info.get("Config") or {}).get("Tty"))
        streams = STREAMS[:1] if tty else STREAMS  # a TTY has one stream, reported as stdout
        cursors = {s: self.pipeline.cursor(self._keys[s]) for s in streams}
        resume = Resume(with_floors(cursors))
        since = resume.since()
        call = endpoints.logs(
            await self.client.ensure_api_version(), self.container_id,
            stdout=True, stderr=True, stream=True, timestamps=True, follow=True,
            since=None if since is None else Decimal(since),  # exact: a float loses the ns
        )
        limit = self.pipeline.max_line_bytes
        assemblers = {s: LineAssembler(s, max_line_bytes=limit, tty=tty) for s in streams}
        reader = _Reader(self, resume, cursors)
        got = False
        response = await self.client._perform(call)
        try:
            pieces = response.aiter_raw(gather=READ_GATHER_S)
            if tty:
                out = assemblers["stdout"]
                async for batch in piece_batches(pieces):
                    for piece in batch:
                        reader.take("stdout", out.feed(piece))
                    got = await reader.hand_on() or got
            else:
                out_feed, err_feed = assemblers["stdout"].feed_all, assemblers["stderr"].feed_all
                async for frames in frame_batches(pieces, join=False, tagged=True):
                    # One take per stream per read (not per frame): order is kept within each
                    # stream, which is what the cursors and the guarantee are about.
                    reader.take("stdout", out_feed([p for s, p in frames if s != STDERR]))
                    reader.take("stderr", err_feed([p for s, p in frames if s == STDERR]))
                    got = await reader.hand_on() or got
        finally:
            response.close()
            if resume.gaps:  # the daemon no longer has lines at the cursor: say so, not hide it
                log.warning(
                    "%s %s: the logs at the stored cursor of %s are gone (rotated or cleared); "
                    "lines between may be missing", self.host, self.container_id[:12],
                    ", ".join(sorted(resume.gaps)),
                )
        after = await self.client.inspect_container(self.container_id)
        now = after.get("State") or {}
        running = bool(now.get("Running"))
        same_run = now.get("StartedAt") == started
        if running and same_run:
            return got, False  # cut while the same run goes on: no flush, reconnect
        # The run this stream followed is over: its last line without newline is a line.
        for stream, assembler in assemblers.items():
            reader.take(stream, assembler.flush())
        # Started again since (a restart, maybe over already): read on from the cursors.
        ended = same_run and not running
        finished = (self.host, self.container_id) if ended else None
        got = await reader.hand_on(finished=finished) or got
        if ended:
            self.started = started
        return got, ended

    def _describe(self, info: dict[str, Any]) -> None:
        config = info.get("Config") or {}
        self.name = str(info.get("Name") or self.container_id[:12]).lstrip("/")
        self.image = str(config.get("Image") or info.get("Image") or "")
        if self.pipeline.labels:
            self.labels = dict(config.get("Labels") or {})

    async def _hand_on(
        self,
        groups: list[Lines],
        cursors: dict[CursorKey, Cursor],
        count: int = 0,
        nbytes: int = 0,
        finished: Any = None,
    ) -> None:
        self.pipeline.handed.update(cursors)
        await self.pipeline.hand_on(Chunk(self.host, groups, cursors, count, nbytes, finished))


class _Reader:
    """One connection's lines to chunks: drops what :class:`Resume` says was delivered,
    advances the cursors (:func:`~.cursor.advance`'s rule), and hands each read's lines on as
    one chunk."""

    __slots__ = (
        "follower", "resume", "cursors", "resuming", "groups", "count", "nbytes", "changed",
    )

    def __init__(
        self, follower: Follower, resume: Resume, cursors: dict[str, Cursor | None]
    ) -> None:
        self.follower = follower
        self.resume = resume
        self.cursors = cursors
        #: Streams still at the resume point: once one line is kept every later one is, so
        #: :meth:`Resume.keep` is asked only until then.
        self.resuming = set(STREAMS)
        self.groups: list[Lines] = []
        self.count = 0
        self.nbytes = 0
        self.changed: set[str] = set()

    def take(self, stream: str, lines: list[Line]) -> None:
        if not lines:
            return
        if stream in self.resuming:
            keep = self.resume.keep
            for index, (_, time_ns, _, _) in enumerate(lines):
                if keep(stream, time_ns):
                    self.resuming.discard(stream)
                    lines = lines[index:]
                    break
            else:
                return
        f = self.follower
        before = self.cursors[stream]
        self.groups.append(
            Lines(f.host, f.container_id, f.name, f.image, stream, f.labels, lines, before)
        )
        self.count += len(lines)
        # cursor.advance over the lines, with one Cursor made at the end instead of one per line
        # (the same rule: a later instant restarts the count, an equal one adds to it, an
        # earlier one changes nothing).
        cursor = self.cursors[stream]
        if cursor is None:  # nothing delivered yet: the first line sets it (ns >= 0)
            top_str, top_ns, count = "", -1, 0
        else:
            top_str, top_ns, count = cursor.time_str, cursor.time_ns, cursor.count
        nbytes = 0
        for time_str, time_ns, line, _ in lines:
            if time_ns > top_ns:
                top_str, top_ns, count = time_str, time_ns, 1
            elif time_ns == top_ns:
                count += 1
            nbytes += len(line)
        self.cursors[stream] = Cursor(top_str, top_ns, count)
        self.changed.add(stream)
        self.nbytes += nbytes

    async def hand_on(self, finished: Any = None) -> bool:
        """Put what was taken since the last call on the queue (waits while it is full)."""
        if not self.count and finished is None:
            return False
        keys = self.follower._keys
        cursors: dict[CursorKey, Cursor] = {}
        for stream in self.changed:
            cursor = self.cursors[stream]
            if cursor is not None:
                cursors[keys[stream]] = cursor
        groups, count, nbytes = self.groups, self.count, self.nbytes
        self.groups, self.count, self.nbytes, self.changed = [], 0, 0, set()
        await self.follower._hand_on(groups, cursors, count, nbytes, finished)
        if count:
            self.follower._progress = True
        return bool(count)


def daemon_now(info: dict[str, Any]) -> Cursor | None:
    """A cursor at the daemon's clock from ``/info``'s ``SystemTime`` (``--from now``), or None
    when the daemon does not say."""
    text = info.get("SystemTime")
    if not isinstance(text, str):
        return None
    try:
        return Cursor(text, parse_timestamp(text.encode()), 0)
    except ValueError:
        return None
