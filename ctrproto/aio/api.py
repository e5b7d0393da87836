"""``AsyncAPIClient``: the low-level client for asyncio, named and shaped like ``APIClient``.

Deliberately thin: each method takes its request from :mod:`ctrproto.engine.endpoints` (the
builders the sync client uses, so validation, version checks and encoding are shared), performs
it with the asyncio driver, and reads the answer with a :mod:`.reading` helper.  Streams come back
as async generators: ``async for chunk in await api.logs(cid, stream=True, follow=True)``.

Performing and error mapping live in :mod:`.core`; container changes and image tags in
:mod:`.api_changes`, attach/export/archives in :mod:`.api_files` (mixins, as the sync client's).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, Union

from ..api.output import collector
from ..engine import endpoints
from .api_changes import AsyncContainerOpsMixin
from .api_files import AsyncContainerFilesMixin
from .core import AsyncClientCore
from .hijack import AsyncHijackedSocket
from .reading import (
    Output,
    checked_progress,
    collect,
    frames_of,
    json_values,
    payloads,
    shape_socket_output,
)

StatsResult = Union[dict[str, Any], AsyncGenerator[Any, None]]
PullResult = Union[str, AsyncGenerator[Any, None]]


class AsyncAPIClient(AsyncContainerOpsMixin, AsyncContainerFilesMixin, AsyncClientCore):
    """Talks to one daemon from one event loop; the arguments mean what ``APIClient``'s do.

    ``version="auto"`` (the default) negotiates once, on the first request that needs it.
    """

    # ------------------------------------------------------------------ system

    async def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        async with await self._perform(endpoints.ping()) as response:
            return endpoints.ping_ok((await response.read()).decode("utf-8", "replace"))

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.version(api_version))
        return result

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.info())
        return result

    # ------------------------------------------------------------------ containers

    async def containers(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """``APIClient.containers`` arguments (``all``, ``filters``, ``quiet`` ...)."""
        result: list[dict[str, Any]] = await self._json(endpoints.containers(*args, **kwargs))
        return result

    async def inspect_container(self, container: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.inspect_container(container))
        return result

    async def create_container_from_config(
        self, config: Mapping[str, Any], name: str | None = None, platform: str | None = None
    ) -> dict[str, Any]:
        version = await self.ensure_api_version()
        call = endpoints.create_container_from_config(version, config, name, platform)
        result: dict[str, Any] = await self._json(call)
        return result

    async def create_container(
        self, image: str, command: str | list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``APIClient.create_container`` keywords; returns ``{"Id": ..., "Warnings": [...]}``."""
        version = await self.ensure_api_version()
        call = endpoints.create_container(version, image, command, **kwargs)
        result: dict[str, Any] = await self._json(call)
        return result

    async def start(self, container: Any, *args: Any, **kwargs: Any) -> None:
        await self._discard(endpoints.start(container, *args, **kwargs))

    async def stop(self, container: Any, timeout: int | None = None) -> None:
        await self._discard(endpoints.stop(container, timeout))

    async def restart(
        self, container: Any, timeout: int | None = endpoints.DEFAULT_STOP_GRACE
    ) -> None:
        await self._discard(endpoints.restart(container, timeout))

    async def kill(self, container: Any, signal: str | int | None = None) -> None:
        await self._discard(endpoints.kill(container, signal))

    async def wait(
        self, container: Any, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        """Until the container stops; ``timeout`` raises :class:`ReadTimeout` past it."""
        call = endpoints.wait(await self.ensure_api_version(), container, timeout, condition)
        result: dict[str, Any] = await self._json(call)
        return result

    async def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        await self._discard(endpoints.remove_container(container, v, link, force))

    # ------------------------------------------------------------------ output

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
    ) -> bytes | AsyncGenerator[bytes, None]:
        """As ``APIClient.logs``; with ``stream=True`` an async generator of chunks.

        A followed stream is never cut by the client's timeout, and each ``__anext__`` reads the
        network at most once, so a slow consumer slows the daemon instead of growing a buffer.
        """
        version = await self.ensure_api_version()
        call = endpoints.logs(
            version, container, stdout, stderr, stream, timestamps, tail, since, follow, until
        )
        tty = await self._tty(container)
        pieces = (await self._perform(call)).aiter_raw()
        if stream:
            return pieces if tty else payloads(frames_of(pieces))
        sink = collector(tty, demux_=False)
        async for piece in pieces:
            sink.feed(piece)
        return sink.close()[0]

    async def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> AsyncHijackedSocket:
        """The hijacked attach connection: read output, write stdin, half-close it for EOF."""
        call = endpoints.attach(container, params, ws)
        return await self._hijack(call, await self._tty(container))

    async def stats(
        self,
        container: Any,
        decode: bool | None = None,
        stream: bool = True,
        one_shot: bool | None = None,
    ) -> StatsResult:
        """One dict (``stream=False``), or an async generator of dicts (``decode``) or bytes."""
        version = await self.ensure_api_version()
        call = endpoints.stats(version, container, decode, stream, one_shot)
        if not stream:
            result: dict[str, Any] = await self._json(call)
            return result
        pieces = (await self._perform(call)).aiter_raw()
        return json_values(pieces) if decode else pieces

    # ------------------------------------------------------------------ exec

    async def exec_create(
        self, container: Any, cmd: str | list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """``APIClient.exec_create`` keywords; returns ``{"Id": ...}``."""
        version = await self.ensure_api_version()
        result: dict[str, Any] = await self._json(
            endpoints.exec_create(version, container, cmd, **kwargs)
        )
        return result

    async def exec_inspect(self, exec_id: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.exec_inspect(exec_id))
        return result

    async def exec_start(
        self,
        exec_id: Any,
        detach: bool = False,
        tty: bool = False,
        stream: bool = False,
        socket: bool = False,
        demux: bool = False,
    ) -> Output | AsyncHijackedSocket:
        """``b""`` when ``detach``; the socket when ``socket``; else docker-py's output shape."""
        call = endpoints.exec_start(exec_id, detach, tty, stream, socket)
        if detach:
            await self._discard(call)
            return b""
        sock = await self._hijack(call, tty)
        if socket:
            return sock
        return await shape_socket_output(sock, stream, demux)

    # ------------------------------------------------------------------ images

    async def images(self, *args: Any, **kwargs: Any) -> list[Any]:
        """``APIClient.images`` arguments (``name``, ``quiet``, ``all``, ``filters``)."""
        result: list[Any] = await self._json(endpoints.images(*args, **kwargs))
        return result

    async def inspect_image(self, image: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.inspect_image(image))
        return result

    async def pull(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: Mapping[str, Any] | None = None,
        decode: bool = False,
        platform: str | None = None,
        all_tags: bool = False,
    ) -> PullResult:
        """As ``APIClient.pull``: an in-band error raises :class:`StreamError`."""
        version = await self.ensure_api_version()
        call = endpoints.pull(version, repository, tag, auth_config, platform, all_tags)
        pieces = (await self._perform(call)).aiter_raw()
        if stream and decode:
            return json_values(pieces, raise_on_error=True)
        checked = checked_progress(pieces)
        if stream:
            return checked
        return (await collect(checked)).decode("utf-8", "replace")

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> AsyncAPIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
