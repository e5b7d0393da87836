"""The sync world's backend: blocking sockets, threads, ``time`` (see the package docstring)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..engine.upload import iter_body
from ..protocol.buffer import Buffer
from ..transport.base import Stream
from ..transport.factory import make_transport as make_transport

T = TypeVar("T")
R = TypeVar("R")

Lock = threading.Lock
StateLock = threading.Lock
monotonic = time.monotonic
sleep = time.sleep


class Reader:
    """Reads one stream into one buffer, made on the first read and reused by every other: no
    allocation (or fresh pages) per read.  A piece is valid only until the next read."""

    __slots__ = ("_view", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._view: memoryview | None = None

    def read(self, stream: Stream) -> Buffer:
        view = self._view
        if view is None:
            view = self._view = memoryview(bytearray(self.size))
        return view[: stream.recv_into(view)]


def gather_reads(stream: Stream, seconds: float) -> None:
    """Wait before the next read so that it takes more at once: the kernel (or the SSH
    channel's thread) keeps what arrives meanwhile."""
    time.sleep(seconds)


def run_concurrently(func: Callable[[T], R], items: Iterable[T], limit: int) -> list[R]:
    work = list(items)
    if not work:
        return []
    with ThreadPoolExecutor(max_workers=min(limit, len(work))) as pool:
        return list(pool.map(func, work))


def deferred(opener: Callable[[], Any]) -> Any:
    return opener()


def upload_body(data: object, chunk_size: int) -> Iterator[bytes]:
    return iter_body(data, chunk_size)
