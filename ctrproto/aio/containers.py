"""``client.containers`` and ``AsyncContainer``: the containers facade, awaited.

Keyword conversion is :mod:`ctrproto.engine.create_config`'s and the cached properties are the
sync facade's (:class:`~ctrproto.models.containers.ContainerState`); this module only sequences
awaited calls.  Streams are lazy async generators, so they read naturally::

    async for chunk in container.logs(stream=True, follow=True): ...
    async for sample in container.stats(decode=True): ...
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..engine.create_config import CreateRequest, build_create_request, build_run_request
from ..errors import ImageNotFound, NotFound
from ..models._exec import ExecResult
from ..models.containers import LIST_WORKERS, ContainerState
from ._exec import run_exec
from ._run import RunOutput, remove_quietly, run_attached
from .api import AsyncAPIClient
from .hijack import AsyncHijackedSocket

if TYPE_CHECKING:
    from .client import AsyncDockerClient


class AsyncContainer(ContainerState):
    """A container as last inspected; ``await reload()`` refreshes ``attrs``."""

    def __init__(self, attrs: dict[str, Any], collection: AsyncContainerCollection) -> None:
        self.attrs = attrs
        self.collection = collection
        self.client = collection.client

    @property
    def api(self) -> AsyncAPIClient:
        return self.client.api

    async def reload(self) -> None:
        self.attrs = await self.api.inspect_container(self.id)

    # ------------------------------------------------------------------ output and I/O

    def logs(self, **kwargs: Any) -> Any:
        """A coroutine giving ``bytes``; with ``stream=True`` an async generator of chunks."""
        if kwargs.get("stream"):
            return self._stream(lambda: self.api.logs(self.id, **kwargs))
        return self.api.logs(self.id, **kwargs)

    def stats(self, **kwargs: Any) -> Any:
        """An async generator (the default ``stream=True``), or with ``stream=False`` a coroutine
        giving one dict."""
        if kwargs.get("stream", True):
            return self._stream(lambda: self.api.stats(self.id, **kwargs))
        return self.api.stats(self.id, **kwargs)

    @staticmethod
    async def _stream(open_stream: Callable[[], Awaitable[Any]]) -> AsyncGenerator[Any, None]:
        """Make the request when iteration begins, then pass the stream through (closing it
        with this generator)."""
        stream = await open_stream()
        try:
            async for item in stream:
                yield item
        finally:
            await stream.aclose()

    async def attach_socket(self, **kwargs: Any) -> AsyncHijackedSocket:
        return await self.api.attach_socket(self.id, **kwargs)

    async def exec_run(
        self,
        cmd: str | list[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        detach: bool = False,
        stream: bool = False,
        socket: bool = False,
        environment: dict[str, str] | list[str] | None = None,
        workdir: str | None = None,
        demux: bool = False,
    ) -> ExecResult:
        """``(exit_code, output)`` as the sync ``exec_run``; a stream is an async iterator whose
        ``exit_code`` is set once it has been read to the end."""
        return await run_exec(
            self.api,
            self.id,
            cmd,
            detach=detach,
            stream=stream,
            socket=socket,
            demux=demux,
            tty=tty,
            stdout=stdout,
            stderr=stderr,
            stdin=stdin,
            privileged=privileged,
            user=user,
            environment=environment,
            workdir=workdir,
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self, **kwargs: Any) -> None:
        await self.api.start(self.id, **kwargs)

    async def stop(self, **kwargs: Any) -> None:
        await self.api.stop(self.id, **kwargs)

    async def kill(self, signal: str | int | None = None) -> None:
        await self.api.kill(self.id, signal=signal)

    async def wait(self, **kwargs: Any) -> dict[str, Any]:
        return await self.api.wait(self.id, **kwargs)

    async def remove(self, **kwargs: Any) -> None:
        await self.api.remove_container(self.id, **kwargs)


class AsyncContainerCollection:
    def __init__(self, client: AsyncDockerClient) -> None:
        self.client = client

    async def run(
        self, image: Any, command: str | list[str] | None = None, **kwargs: Any
    ) -> AsyncContainer | RunOutput:
        """Create and start a container; unless ``detach``, wait and return its output.

        ``stream=True`` returns an async generator of output while the container runs; a
        non-zero exit raises ``ContainerError`` (at the end of that iteration when streaming).
        """
        version = await self.client.api.ensure_api_version()
        request, options = build_run_request(
            version, image, command, self._proxy_config(kwargs), **kwargs
        )
        container = await self._create(request, pull=True)
        try:
            await container.start()
        except BaseException:
            if options.remove:
                await remove_quietly(container)
            raise
        if options.detach:
            return container
        return await run_attached(container, options, command, image)

    async def create(
        self, image: Any, command: str | list[str] | None = None, **kwargs: Any
    ) -> AsyncContainer:
        """Create (not start) a container; :class:`ImageNotFound` when the image is missing."""
        version = await self.client.api.ensure_api_version()
        request = build_create_request(
            version, image, command, self._proxy_config(kwargs), **kwargs
        )
        return await self._create(request, pull=False)

    def _proxy_config(self, kwargs: Mapping[str, Any]) -> Mapping[str, str] | None:
        if not kwargs.get("use_config_proxy", True):
            return None
        return self.client.proxy_config()

    async def _create(self, request: CreateRequest, pull: bool) -> AsyncContainer:
        api = self.client.api
        name = request.params.get("name")
        try:
            answer = await api.create_container_from_config(
                request.body, name=name, platform=request.platform
            )
        except ImageNotFound:
            if not pull:
                raise
            await self.client.images.pull_for_run(request.image, request.platform)
            answer = await api.create_container_from_config(
                request.body, name=name, platform=request.platform
            )
        return await self.get(answer["Id"])

    async def get(self, container_id: str) -> AsyncContainer:
        """By full id, unique id prefix or name; :class:`NotFound` otherwise."""
        return AsyncContainer(await self.client.api.inspect_container(container_id), self)

    async def list(
        self,
        all: bool = False,
        before: str | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = -1,
        since: str | None = None,
        sparse: bool = False,
        ignore_removed: bool = False,
    ) -> builtins.list[AsyncContainer]:
        """As the sync ``list``: newest first, inspected concurrently unless ``sparse``."""
        merged = dict(filters or {})
        if since:
            merged["since"] = since
        if before:
            merged["before"] = before
        include_all = all or bool(since) or bool(before) or (limit is not None and limit > 0)
        summaries = await self.client.api.containers(all=include_all, filters=merged, limit=limit)
        if sparse:
            return [AsyncContainer(item, self) for item in summaries]
        gate = asyncio.Semaphore(LIST_WORKERS)

        async def inspect(cid: str) -> AsyncContainer | None:
            async with gate:
                try:
                    return await self.get(cid)
                except NotFound:
                    if ignore_removed:
                        return None
                    raise

        found = await asyncio.gather(*(inspect(item["Id"]) for item in summaries))
        return [container for container in found if container is not None]


__all__ = ["AsyncContainer", "AsyncContainerCollection"]
