"""Exec endpoints of the low-level client: run a process inside a running container.

``exec_start`` is the interesting one: without ``detach`` the daemon hijacks the connection and
streams the process's output over it until the process exits, so the answer can be read whole,
as a generator, demultiplexed, or taken as the socket itself (to write the process's stdin).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal, Union, overload

from ..engine import endpoints
from ..engine.output import DemuxedChunk
from .client_core import AsyncClientCore
from .hijacked_socket import AsyncHijackedSocket, Output, shape_socket_output

ExecStartResult = Union[Output, AsyncHijackedSocket, str]


class AsyncExecApiMixin(AsyncClientCore):
    async def exec_create(
        self,
        container: Any,
        cmd: str | list[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        environment: Mapping[str, Any] | list[str] | None = None,
        workdir: str | None = None,
        detach_keys: str | None = None,
    ) -> dict[str, Any]:
        """Prepare a process in the container; returns ``{"Id": ...}`` for :meth:`exec_start`.

        409 (``Conflict``) when the container is not running.  ``detach_keys`` defaults to
        the ``detachKeys`` of the CLI's config.json, as docker-py's does.
        """
        if not detach_keys:
            detach_keys = self._general_configs.get("detachKeys")
        return await self._json(
            endpoints.exec_create(
                await self.ensure_api_version(), container, cmd, stdout, stderr, stdin, tty,
                privileged, user,
                environment, workdir, detach_keys,
            )
        )

    async def exec_inspect(self, exec_id: Any) -> dict[str, Any]:
        """State of an exec: ``Running``, ``ExitCode`` (``None`` until it ends), ``Pid`` ..."""
        return await self._json(endpoints.exec_inspect(exec_id))

    async def exec_resize(
        self, exec_id: Any, height: int | None = None, width: int | None = None
    ) -> None:
        await self._discard(endpoints.exec_resize(exec_id, height, width))

    # The overloads let typed callers get the precise shape for the flags they pass by keyword.
    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: bool = ...,
        tty: bool = ...,
        stream: bool = ...,
        *,
        socket: Literal[True],
        demux: bool = ...,
    ) -> AsyncHijackedSocket: ...

    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: Literal[False] = ...,
        tty: bool = ...,
        *,
        stream: Literal[True],
        socket: Literal[False] = ...,
        demux: Literal[False] = ...,
    ) -> AsyncGenerator[bytes, None]: ...

    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: Literal[False] = ...,
        tty: bool = ...,
        *,
        stream: Literal[True],
        socket: Literal[False] = ...,
        demux: Literal[True],
    ) -> AsyncGenerator[DemuxedChunk, None]: ...

    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: Literal[False] = ...,
        tty: bool = ...,
        stream: Literal[False] = ...,
        socket: Literal[False] = ...,
        *,
        demux: Literal[True],
    ) -> tuple[bytes, bytes]: ...

    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: Literal[False] = ...,
        tty: bool = ...,
        stream: Literal[False] = ...,
        socket: Literal[False] = ...,
        demux: Literal[False] = ...,
    ) -> bytes: ...

    @overload
    async def exec_start(self, exec_id: Any, detach: Literal[True], tty: bool = ...) -> str: ...

    @overload
    async def exec_start(
        self,
        exec_id: Any,
        detach: bool = ...,
        tty: bool = ...,
        stream: bool = ...,
        socket: bool = ...,
        demux: bool = ...,
    ) -> ExecStartResult: ...

    async def exec_start(
        self,
        exec_id: Any,
        detach: bool = False,
        tty: bool = False,
        stream: bool = False,
        socket: bool = False,
        demux: bool = False,
    ) -> ExecStartResult:
        """Start a created exec.

        Returns the daemon's (empty) answer text when ``detach``, as docker-py does; the
        hijacked socket when ``socket``; otherwise the output
        as :meth:`attach` shapes it (``stream``, ``demux``).  ``tty`` must match the
        ``exec_create`` call: it tells the daemon whether to multiplex the output.
        """
        call = endpoints.exec_start(exec_id, detach, tty, stream, socket)
        if detach:
            return await self._text(call)
        sock = await self._hijack(call, tty=tty)
        if socket:
            return sock
        return await shape_socket_output(sock, stream, demux)

