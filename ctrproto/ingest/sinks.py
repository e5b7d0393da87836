"""Where records go: a JSONL file (exactly once), stdout (at least once), a Python callable.

A sink's ``write`` takes a batch as :class:`~.records.Lines` groups (the file and stdout sinks
encode them straight to JSONL; the callable gets :class:`~.records.Record` objects) and returns
when the batch is as durable as the sink promises; only then does the runner commit the batch's
cursors (see the commit protocol in :mod:`ctrproto.ingest.state`).
``position()`` is the output length to commit with them: the file sink's length, which a restart
cuts the file back to; None for sinks that cannot be cut back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from typing import BinaryIO, Protocol, runtime_checkable

from ..errors import DockerException
from .records import Lines, Record, encode_batch
from .state import claim


class OutputInUseError(DockerException):
    """Another process (another ingester) holds the output file."""


class OutputMismatchError(DockerException):
    """The output file is shorter than the state says was committed to it: it was changed or
    replaced outside the ingester (or the state belongs to another output), and cutting or
    extending it would corrupt it."""


@runtime_checkable
class Sink(Protocol):
    """What the runner writes batches to."""

    async def write(self, batch: list[Lines]) -> None:
        """Deliver the batch; return when it is as durable as the sink guarantees."""

    def position(self) -> int | None:
        """The output's length to commit with the cursors (None: not applicable)."""

    async def close(self) -> None:
        """Release the output; later writes are errors."""


class FileSink:
    """Appends records to a JSONL file; one write + one fsync per batch before ``write`` returns.

    ``committed_length`` is what the state committed with its cursors: opening cuts the file
    back to it (a crash between a write and its commit leaves a tail the restart reads again);
    None (a fresh state) keeps what the file holds and starts after it, and the caller commits
    that position before the first write.  A file shorter than ``committed_length`` raises
    :class:`OutputMismatchError` rather than be padded or silently restarted.
    """

    def __init__(self, path: str, committed_length: int | None) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._orphan: asyncio.Future[None] | None = None
        existed = os.path.exists(path)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if not claim(self._fd):
                raise OutputInUseError(f"output {path!r} is in use by another ingester")
            size = os.fstat(self._fd).st_size
            if committed_length is None:
                self._position = size
            elif size < committed_length:
                raise OutputMismatchError(
                    f"output {path!r} holds {size} bytes but the state committed "
                    f"{committed_length}: it was changed outside the ingester (use a fresh "
                    "state file for a new output)"
                )
            else:
                self._position = committed_length
                if size > committed_length:
                    os.ftruncate(self._fd, committed_length)
                    os.fsync(self._fd)
            if not existed:
                # The new file's directory entry must be on disk too, or a power loss could lose
                # the whole file while the state holds a length for it.
                _fsync_dir(os.path.dirname(os.path.abspath(path)))
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    def position(self) -> int:
        return self._position

    async def write(self, batch: list[Lines]) -> None:
        data = encode_batch(batch)
        if not data:
            return
        async with self._lock:
            await self._settle()
            # The write and the fsync wait for the disk: in a worker thread, the loop keeps
            # reading streams meanwhile (measured here: the hop costs ~60 µs per batch, ~0.1 µs
            # a line in batches of 1000; the write + fdatasync it takes off the loop, ~0.6 ms).
            start = self._position
            job = asyncio.get_running_loop().run_in_executor(None, self._append, data, start)
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                # The thread cannot be stopped; the batch was not acknowledged, so its bytes
                # must go: _settle() cuts them once the thread is done.
                self._orphan = job
                raise
            self._position = start + len(data)

    async def _settle(self) -> None:
        job, self._orphan = self._orphan, None
        if job is not None:
            await asyncio.wait({job})
            if self._fd is not None:
                os.ftruncate(self._fd, self._position)

    def _append(self, data: bytes, start: int) -> None:
        fd = self._fd
        if fd is None:
            raise ValueError(f"write to a closed FileSink ({self.path!r})")
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.pwrite(fd, view[done:], start + done)
            _fdatasync(fd)
        except BaseException:
            # Leave no half batch behind a position the next commit could record.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise

    async def close(self) -> None:
        async with self._lock:
            await self._settle()
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)


class StdoutSink:
    """Writes records to stdout (or any binary stream) and flushes before ``write`` returns.

    Nothing written can be taken back, so a crash between a write and its commit delivers that
    batch again on restart (at least once); a clean stop commits after the last write (exactly
    once)."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._lock = asyncio.Lock()
        self._closed = False
        self._pending: asyncio.Future[None] | None = None

    def position(self) -> int | None:
        return None

    async def write(self, batch: list[Lines]) -> None:
        data = encode_batch(batch)
        if not data:
            return
        async with self._lock:
            if self._closed:
                raise ValueError("write to a closed StdoutSink")
            if self._pending is not None:  # a cancelled write's thread: keep the order
                await asyncio.wait({self._pending})
            # A pipe whose reader is slow blocks here: in a thread, so it slows the ingester
            # (backpressure) without freezing the loop.
            self._pending = asyncio.get_running_loop().run_in_executor(None, self._put, data)
            await asyncio.shield(self._pending)
            self._pending = None

    def _put(self, data: bytes) -> None:
        self._stream.write(data)
        self._stream.flush()

    async def close(self) -> None:
        async with self._lock:
            if not self._closed:
                self._closed = True
                if self._pending is not None:
                    await asyncio.wait({self._pending})
                await asyncio.to_thread(self._stream.flush)


class CallableSink:
    """The library API's sink: ``await fn(batch)``; its return acknowledges the batch (only then
    do the cursors advance), an exception refuses it.  The list is the callee's to keep."""

    def __init__(self, fn: Callable[[list[Record]], Awaitable[None]]) -> None:
        self._fn = fn

    def position(self) -> int | None:
        return None

    async def write(self, batch: list[Lines]) -> None:
        records = [record for group in batch for record in group.records()]
        if records:
            await self._fn(records)

    async def close(self) -> None:
        return None


def _fdatasync(fd: int) -> None:
    # fdatasync flushes the data and the file size (what reading it back needs), not the times.
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except (OSError, AttributeError):  # no O_DIRECTORY (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
