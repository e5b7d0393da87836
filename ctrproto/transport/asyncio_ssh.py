"""SSH under asyncio: the sync paramiko transport's channels, driven from worker threads.

paramiko blocks, so every channel operation that may wait (opening a channel, a read, a write
into a full window) runs in this transport's own thread pool while the event loop goes on.
Buffering stays bounded: a read asks paramiko for one chunk and nothing reads ahead, so a slow
consumer leaves data in the channel window, and paramiko's flow control holds the daemon back.

Cancellation, and a limit set with ``settimeout`` (which cancels the same way): a thread blocked
in ``recv`` cannot be interrupted, so a cancelled read closes the channel instead - which wakes
the thread (paramiko returns end-of-file) and frees the worker.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..errors import ReadTimeout
from ..protocol.buffer import Buffer
from .asyncio_streams import bounded, connect_within
from .ssh import SSHTransport
from .ssh_channel import ChannelStream

T = TypeVar("T")

#: Worker threads per transport: one per concurrently blocked read or write.  Threads are made on
#: demand, so the bound costs nothing until that many streams wait at once.
MAX_WORKERS = 128


class AsyncChannelStream:
    """An :class:`~ctrproto.transport.base.AsyncStream` over a sync :class:`ChannelStream`."""

    def __init__(self, stream: ChannelStream, executor: ThreadPoolExecutor) -> None:
        self._stream = stream
        self._executor = executor
        self._timeout: float | None = None
        stream.settimeout(None)  # limits are the event loop's (``bounded``), not the channel's

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._executor, functools.partial(func, *args))
        try:
            return await bounded(call, self._timeout)
        except TimeoutError as exc:
            self.close()  # wakes the worker still blocked on the channel
            raise ReadTimeout(f"timed out waiting for the daemon at {self._stream!r}") from exc
        except asyncio.CancelledError:
            self.close()
            raise

    @property
    def closed(self) -> bool:
        return self._stream.closed

    async def send_all(self, data: Buffer) -> None:
        await self._run(self._stream.send_all, bytes(data))

    async def recv(self, size: int) -> bytes:
        return await self._run(self._stream.recv, size)

    async def recv_into(self, buffer: bytearray | memoryview) -> int:
        data = await self.recv(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    async def shutdown_write(self) -> None:
        await self._run(self._stream.shutdown_write)

    def idle_ok(self) -> bool:
        return self._stream.idle_ok()

    def close(self) -> None:
        self._stream.close()

    def abort(self) -> None:
        self._stream.abort()

    def fileno(self) -> int:
        return self._stream.fileno()

    def __repr__(self) -> str:
        return f"<AsyncChannelStream {self._stream!r}>"


class AsyncSSHTransport:
    """Channels of the sync transport's one shared SSH connection, each an async stream."""

    def __init__(self, sync: SSHTransport) -> None:
        self.sync = sync
        self.host_header = sync.host_header
        self._executor = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="ctrproto-ssh")

    def describe(self) -> str:
        return self.sync.describe()

    async def connect(self, timeout: float | None) -> AsyncChannelStream:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self.sync.connect, timeout)
        try:
            stream = await connect_within(asyncio.shield(future), timeout, self.describe())
        except BaseException:
            # The channel may still open after we gave up on it: close it when it does.
            future.add_done_callback(_close_result)
            raise
        return AsyncChannelStream(stream, self._executor)

    def close(self) -> None:
        self.sync.close()
        self._executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"AsyncSSHTransport({self.describe()!r})"


def _close_result(future: asyncio.Future[ChannelStream]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()
