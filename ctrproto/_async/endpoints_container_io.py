"""Container endpoints that move bytes: logs, attach, export, archives and stats.

Every method here streams: nothing is buffered whole unless the caller asked for one value
(``stream=False``), and a stream that follows a live container is not cut by the client's request
timeout.  Bodies are handed back as generators that release (or, if abandoned half-read, close)
their connection when they end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, Union

from .._backends import asyncio as backend
from ..engine import endpoints
from ..engine.defaults import DEFAULT_DATA_CHUNK_SIZE
from ..engine.output import collector
from ..errors import ProtocolError
from .cancellable import AsyncCancellableStream, cancellable
from .client_core import AsyncClientCore
from .hijacked_socket import AsyncHijackedSocket, Output, shape_socket_output
from .stream_shapes import (
    byte_batches,
    frame_batches,
    json_batches,
    piece_batches,
    rechunked,
    stream_of,
)

StatsResult = Union[
    dict[str, Any], AsyncCancellableStream[dict[str, Any]], AsyncCancellableStream[bytes]
]


class AsyncContainerIOMixin(AsyncClientCore):
    # ------------------------------------------------------------------ logs and attach

    async def logs(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: str | int = "all",
        since: Any = None,
        follow: bool | None = None,
        until: Any = None,
        *,
        chunks: bool = False,
    ) -> bytes | AsyncCancellableStream[bytes]:
        """The container's output, stdout and stderr interleaved in the order written.

        ``tail`` is ``"all"`` or a line count (a negative count means all, as in docker-py);
        ``since``/``until`` take a ``datetime``, int epoch seconds or float epoch seconds.

        With ``stream=True`` a :class:`CancellableStream` (``close()`` from any thread ends it)
        of docker-py's items: one per frame the daemon wrote - a line of a json-file log - and
        for a TTY container, which has no frames, one per byte.  ``chunks=True`` (ctrproto's
        bulk shape, for throughput) hands out instead what each network read completed, all
        payloads of the read joined (a TTY's: the bytes as read).  Either way each step reads
        the network at most once, so a slow consumer slows the daemon instead of growing a
        buffer.
        """
        call = endpoints.logs(
            await self.ensure_api_version(), container, stdout, stderr, stream, timestamps,
            tail, since, follow, until,
        )
        tty = await self._container_tty(container)
        response = await self._perform(call)
        if stream:
            pieces = response.aiter_raw()
            if tty:
                batches = piece_batches(pieces) if chunks else byte_batches(pieces)
            else:
                batches = frame_batches(pieces, join=chunks, tagged=False)
            return cancellable(response, batches)
        sink = collector(tty, demux_=False)
        async with response:
            async for piece in response.aiter_raw():
                sink.feed(piece)
        return sink.close()[0]

    async def attach(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        logs: bool = False,
        demux: bool = False,
        *,
        chunks: bool = False,
    ) -> Output:
        """Output of a container over an attach connection.

        ``logs`` replays what was written before; ``stream`` follows live output: the call
        returns a :class:`CancellableStream` that ends when the container does (or when
        ``close()`` is called, from any thread), one item per frame as docker-py's (a TTY's:
        what each read of up to 4 KiB returned).  ``demux`` separates stdout from stderr:
        ``(stdout, stderr)`` bytes, or per-frame tuples with ``None`` on the silent side.
        ``chunks=True`` streams ctrproto's bulk items instead: what each read completed.
        """
        params = {"logs": logs, "stdout": stdout, "stderr": stderr, "stream": stream}
        sock = await self.attach_socket(container, params)
        return await shape_socket_output(sock, stream, demux, chunks)

    async def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> AsyncHijackedSocket:
        """The hijacked attach connection: read output, write stdin, half-close it for EOF.

        ``params`` defaults to stdout, stderr and stream; add ``stdin=1`` to write.
        """
        call = endpoints.attach(container, params, ws)
        return await self._hijack(call, tty=await self._container_tty(container))

    # ------------------------------------------------------------------ filesystem

    async def export(
        self, container: Any, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        """The container's filesystem as a tar stream, in ``chunk_size`` pieces."""
        response = await self._perform(endpoints.export(container))
        return stream_of(response, rechunked(response.aiter_raw(), chunk_size))

    async def get_archive(
        self,
        container: Any,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[AsyncGenerator[bytes, None], dict[str, Any]]:
        """A tar of ``path`` in ``chunk_size`` pieces, and the stat of ``path``.

        The stat (``name``, ``size``, ``mode``, ``mtime``, ``linkTarget``) comes from the response
        header, so it is known before any of the tar is read.  ``encode_stream`` is accepted for
        compatibility; the tar always travels uncompressed, since the HTTP layer does not decode.
        """
        response = await self._perform(endpoints.get_archive(container, path))
        try:
            stat = endpoints.path_stat(response.headers, path, required=False)
        except ProtocolError:
            response.close()
            raise
        return stream_of(response, rechunked(response.aiter_raw(), chunk_size)), stat

    async def archive_stat(self, container: Any, path: str) -> dict[str, Any]:
        """The stat of ``path`` in the container, without transferring any of it.

        ``HEAD /containers/{id}/archive``: what ``get_archive`` returns as its second item, for
        callers that only need to know whether a path exists and what it is.  A missing path is
        ``NotFound``.
        """
        response = await self._drained(endpoints.archive_stat(container, path))
        return endpoints.path_stat(response.headers, path, required=True)

    async def put_archive(self, container: Any, path: str, data: Any) -> bool:
        """Extract a tar into the directory ``path``; ``data`` is bytes, a binary file or an
        iterable of bytes (under asyncio also an async iterable), sent chunked as it is read
        (never loaded whole)."""
        call = endpoints.put_archive(container, path)
        body = backend.upload_body(data, DEFAULT_DATA_CHUNK_SIZE)
        response = await self._drained(call, body)
        return call.succeeded(response.status_code)

    # ------------------------------------------------------------------ stats

    async def stats(
        self,
        container: Any,
        decode: bool | None = None,
        stream: bool = True,
        one_shot: bool | None = None,
    ) -> StatsResult:
        """Resource usage: one dict (``stream=False``) or a live generator.

        A stream (closable from any thread) yields dicts with ``decode=True`` (decoded
        incrementally as they arrive) and raw body bytes otherwise.  ``one_shot`` (API 1.41,
        ``stream=False`` only) skips the second sample the daemon otherwise waits for, so
        ``precpu_stats`` is empty but the answer is fast.
        """
        call = endpoints.stats(await self.ensure_api_version(), container, decode, stream, one_shot)
        if not stream:
            return await self._json(call)
        response = await self._perform(call)
        pieces = response.aiter_raw()
        return cancellable(response, json_batches(pieces) if decode else piece_batches(pieces))
