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
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..engine.create_config import CreateRequest, build_create_request, build_run_request
from ..errors import ImageNotFound, NotFound
from ..models._exec import ExecResult
from ..models.containers import DEFAULT_DATA_CHUNK_SIZE, LIST_WORKERS, ContainerState
from ..models.images import Image
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

    @property
    def image(self) -> Awaitable[Image | None]:
        """``await container.image``: the container's image, inspected on each access (as the
        sync property does); an attribute can only do I/O here by handing back an awaitable."""
        return self._image()

    async def _image(self) -> Image | None:
        image_id = self.attrs.get("ImageID", self.attrs.get("Image"))
        if not image_id:
            return None
        return await self.client.images.get(image_id)

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

    async def attach(self, **kwargs: Any) -> Any:
        """``APIClient.attach`` keywords.  Awaited (not lazy like ``logs``): the attachment is
        made by this call, so output written after it returns is not missed."""
        return await self.api.attach(self.id, **kwargs)

    def export(
        self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        """The filesystem as a tar, an async generator of ``chunk_size`` pieces (lazy)."""
        return self._stream(lambda: self.api.export(self.id, chunk_size))

    async def get_archive(
        self,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[AsyncGenerator[bytes, None], dict[str, Any]]:
        """``(tar pieces, stat)``; the request is made here, so a missing path raises now."""
        return await self.api.get_archive(self.id, path, chunk_size, encode_stream)

    async def put_archive(
        self, path: str, data: bytes | Iterable[bytes] | AsyncIterable[bytes] | Any
    ) -> bool:
        return await self.api.put_archive(self.id, path, data)

    async def top(self, **kwargs: Any) -> dict[str, Any]:
        return await self.api.top(self.id, **kwargs)

    async def diff(self) -> list[dict[str, Any]]:
        return await self.api.diff(self.id)

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

    async def commit(
        self, repository: str | None = None, tag: str | None = None, **kwargs: Any
    ) -> Image:
        """Commit to a new image and return it."""
        answer = await self.api.commit(self.id, repository=repository, tag=tag, **kwargs)
        return await self.client.images.get(answer["Id"])

    async def pause(self) -> None:
        await self.api.pause(self.id)

    async def unpause(self) -> None:
        await self.api.unpause(self.id)

    async def rename(self, name: str) -> None:
        await self.api.rename(self.id, name)

    async def resize(self, height: int, width: int) -> None:
        await self.api.resize(self.id, height, width)

    async def restart(self, **kwargs: Any) -> None:
        await self.api.restart(self.id, **kwargs)

    async def update(self, **kwargs: Any) -> dict[str, Any]:
        return await self.api.update_container(self.id, **kwargs)

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

    async def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers; ``{"ContainersDeleted": [...], "SpaceReclaimed": n}``."""
        result = await self.client.api.prune_containers(filters=filters)
        result.setdefault("ContainersDeleted", None)
        result.setdefault("SpaceReclaimed", 0)
        return result


__all__ = ["AsyncContainer", "AsyncContainerCollection"]
