"""``CancellableStream``: docker-py's wrapper over a live stream (events, logs) and its response.

Iterating yields the stream's items; ``close()`` closes the response, which ends the stream from
another thread too (the connection is torn down, the blocked read returns).  The wrapper itself
holds no socket: it only needs the response object's ``close()``, so it stays sans-IO.
"""

from __future__ import annotations

from typing import Any, Generic, Iterator, Protocol, TypeVar

from ctrproto.errors import DockerConnectionError

__all__ = ["CancellableStream"]

T = TypeVar("T")


class _Closeable(Protocol):
    def close(self) -> Any: ...


class CancellableStream(Generic[T]):
    """An iterator over ``stream`` that ``close()`` stops by closing ``response``.

    As with docker-py, a connection lost while iterating (what closing it from another thread
    causes) ends the iteration instead of raising.
    """

    def __init__(self, stream: Iterator[T], response: _Closeable) -> None:
        self._stream = stream
        self._response = response

    def __iter__(self) -> CancellableStream[T]:
        return self

    def __next__(self) -> T:
        try:
            return next(self._stream)
        except (DockerConnectionError, OSError):
            raise StopIteration from None

    next = __next__

    def close(self) -> None:
        """Close the response (and so the stream); closing twice is harmless."""
        self._response.close()

    def __enter__(self) -> CancellableStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
