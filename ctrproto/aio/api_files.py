"""``AsyncAPIClient`` methods that move container bytes: attach, export and archives.

Requests and the archive stat header come from :mod:`ctrproto.engine.endpoints`, the re-cutting
into ``chunk_size`` pieces and the upload body checks from the sync client's shared helpers (via
:mod:`.reading`); what is left here is awaiting them.  Streams are async generators that release
their connection when read to the end and close it when dropped half-read.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from ..api.container_io import DEFAULT_DATA_CHUNK_SIZE
from ..engine import endpoints
from .core import AsyncClientCore
from .reading import Output, rechunked, shape_socket_output, upload_pieces


class AsyncContainerFilesMixin(AsyncClientCore):
    async def attach(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        logs: bool = False,
        demux: bool = False,
    ) -> Output:
        """Output over an attach connection, shaped as ``APIClient.attach``'s.

        ``stream=True`` gives an async generator that ends when the container does.
        """
        params = {"logs": logs, "stdout": stdout, "stderr": stderr, "stream": stream}
        call = endpoints.attach(container, params)
        sock = await self._hijack(call, await self._tty(container))
        return await shape_socket_output(sock, stream, demux)

    async def export(
        self, container: Any, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        """The container's filesystem as a tar stream, in ``chunk_size`` pieces."""
        response = await self._perform(endpoints.export(container))
        return rechunked(response.aiter_raw(), chunk_size)

    async def get_archive(
        self,
        container: Any,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[AsyncGenerator[bytes, None], dict[str, Any]]:
        """A tar of ``path`` in ``chunk_size`` pieces, and the stat of ``path`` (known before
        any of the tar is read).  ``encode_stream`` is accepted for compatibility only."""
        response = await self._perform(endpoints.get_archive(container, path))
        try:
            stat = endpoints.path_stat(response.headers, path, required=False)
        except BaseException:
            response.close()
            raise
        return rechunked(response.aiter_raw(), chunk_size), stat

    async def archive_stat(self, container: Any, path: str) -> dict[str, Any]:
        """The stat of ``path`` without transferring it (``HEAD``); ``NotFound`` if missing."""
        async with await self._perform(endpoints.archive_stat(container, path)) as response:
            await response.read()
            return endpoints.path_stat(response.headers, path, required=True)

    async def put_archive(self, container: Any, path: str, data: Any) -> bool:
        """Extract a tar into the directory ``path``.

        ``data`` is bytes, a binary file, or a sync or async iterable of bytes; it is sent
        chunked as it is read, never loaded whole.
        """
        call = endpoints.put_archive(container, path)
        body = upload_pieces(data, DEFAULT_DATA_CHUNK_SIZE)
        async with await self._perform(call, body) as response:
            await response.read()
            return call.succeeded(response.status_code)
