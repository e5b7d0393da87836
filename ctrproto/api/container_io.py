"""Container endpoints that move bytes: logs, attach, export, archives and stats.

Every method here streams: nothing is buffered whole unless the caller asked for one value
(``stream=False``), and a stream that follows a live container is not cut by the client's request
timeout.  Bodies are handed back as generators that release (or, if abandoned half-read, close)
their connection when they end.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, Union

from ..engine import endpoints
from ..errors import ProtocolError
from .base import BaseClient
from .hijack import HijackedSocket
from .output import Output, collector, iter_body, rechunk, shape_socket_output

#: docker-py's chunk size for exports and archives.
DEFAULT_DATA_CHUNK_SIZE = 2 * 1024 * 1024


StatsResult = Union[
    dict[str, Any], Generator[dict[str, Any], None, None], Generator[bytes, None, None]
]


class ContainerIOMixin(BaseClient):
    def _container_tty(self, container: Any) -> bool:
        return endpoints.container_tty(self._call_json(endpoints.inspect_container(container)))

    # ------------------------------------------------------------------ logs and attach

    def logs(
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
    ) -> bytes | Generator[bytes, None, None]:
        """The container's output, stdout and stderr interleaved in the order written.

        ``tail`` is ``"all"`` or a line count (a negative count means all, as in docker-py);
        ``since``/``until`` take a ``datetime``, int epoch seconds or float epoch seconds.
        """
        call = endpoints.logs(
            self.api_version, container, stdout, stderr, stream, timestamps, tail, since, follow,
            until,
        )
        tty = self._container_tty(container)
        response = self._call(call)
        if not stream:
            sink = collector(tty, demux_=False)
            with response:
                for piece in response.iter_raw():
                    sink.feed(piece)
            return sink.close()[0]
        if tty:
            return self._stream_raw(response)
        return (payload for _, payload in self._stream_frames(response))

    def attach(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        logs: bool = False,
        demux: bool = False,
    ) -> Output:
        """Output of a container over an attach connection.

        ``logs`` replays what was written before; ``stream`` follows live output (the call returns
        a generator that ends when the container does).  ``demux`` separates stdout from stderr:
        ``(stdout, stderr)`` bytes, or per-chunk tuples with ``None`` on the silent side.
        """
        params = {"logs": logs, "stdout": stdout, "stderr": stderr, "stream": stream}
        sock = self.attach_socket(container, params)
        return shape_socket_output(sock, stream, demux)

    def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> HijackedSocket:
        """The hijacked attach connection: read output, write stdin, half-close it for EOF.

        ``params`` defaults to stdout, stderr and stream; add ``stdin=1`` to write.
        """
        call = endpoints.attach(container, params, ws)
        return self._hijack_call(call, tty=self._container_tty(container))

    # ------------------------------------------------------------------ filesystem

    def export(
        self, container: Any, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        """The container's filesystem as a tar stream, in ``chunk_size`` pieces."""
        response = self._call(endpoints.export(container))
        return rechunk(self._stream_raw(response), chunk_size)

    def get_archive(
        self,
        container: Any,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[Generator[bytes, None, None], dict[str, Any]]:
        """A tar of ``path`` in ``chunk_size`` pieces, and the stat of ``path``.

        The stat (``name``, ``size``, ``mode``, ``mtime``, ``linkTarget``) comes from the response
        header, so it is known before any of the tar is read.  ``encode_stream`` is accepted for
        compatibility; the tar always travels uncompressed, since the HTTP layer does not decode.
        """
        response = self._call(endpoints.get_archive(container, path))
        try:
            stat = endpoints.path_stat(response.headers, path, required=False)
        except ProtocolError:
            response.close()
            raise
        return rechunk(self._stream_raw(response), chunk_size), stat

    def archive_stat(self, container: Any, path: str) -> dict[str, Any]:
        """The stat of ``path`` in the container, without transferring any of it.

        ``HEAD /containers/{id}/archive``: what ``get_archive`` returns as its second item, for
        callers that only need to know whether a path exists and what it is.  A missing path is
        ``NotFound``.
        """
        response = self._call(endpoints.archive_stat(container, path))
        self._discard(response)
        return endpoints.path_stat(response.headers, path, required=True)

    def put_archive(self, container: Any, path: str, data: Any) -> bool:
        """Extract a tar into the directory ``path``; ``data`` is bytes, a binary file or an
        iterable of bytes, sent chunked as it is read (never loaded whole)."""
        call = endpoints.put_archive(container, path)
        response = self._call(call, iter_body(data, DEFAULT_DATA_CHUNK_SIZE))
        self._discard(response)
        return call.succeeded(response.status_code)

    # ------------------------------------------------------------------ stats

    def stats(
        self,
        container: Any,
        decode: bool | None = None,
        stream: bool = True,
        one_shot: bool | None = None,
    ) -> StatsResult:
        """Resource usage: one dict (``stream=False``) or a live generator.

        A stream yields dicts with ``decode=True`` (decoded incrementally as they arrive) and raw
        body bytes otherwise.  ``one_shot`` (API 1.41, ``stream=False`` only) skips the second
        sample the daemon otherwise waits for, so ``precpu_stats`` is empty but the answer is fast.
        """
        call = endpoints.stats(self.api_version, container, decode, stream, one_shot)
        if not stream:
            result: dict[str, Any] = self._call_json(call)
            return result
        response = self._call(call)
        if decode:
            return self._stream_json(response)
        return self._stream_raw(response)

