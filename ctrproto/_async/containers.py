"""``client.containers`` and ``Container``: docker-py's containers facade over the low-level client.

Every keyword conversion of ``run()``/``create()`` lives in :mod:`ctrproto.engine.create_config`
(no I/O, shared with other facades) and the cached properties in
:mod:`ctrproto.engine.model_state`; this module only sequences the calls.  Where the spec and
docker-py disagree the spec wins; the differences are listed in the README.

Under asyncio a stream method (``logs(stream=True)``, ``stats()``, ``export()``) returns the
stream itself, not a coroutine: ``async for chunk in container.logs(stream=True)``.  Every
stream over a live connection (logs, attach, stats, a streamed ``exec_run``/``run``) can be
closed from another thread (under asyncio another task) while it waits: see
:class:`~ctrproto._sync.cancellable.CancellableStream`.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._backends import asyncio as backend
from ..engine.create_config import CreateRequest, build_create_request, build_run_request
from ..engine.defaults import DEFAULT_DATA_CHUNK_SIZE, LIST_WORKERS
from ..engine.model_state import ContainerState
from ..errors import ImageNotFound, NotFound
from .exec_run import AsyncExecOutput, ExecResult, exec_result
from .images import AsyncImage
from .resource import AsyncCollection, AsyncModel
from .run_foreground import RunOutput, remove_quietly, run_foreground

if TYPE_CHECKING:
    from .api_client import AsyncAPIClient

__all__ = ["AsyncContainer", "AsyncContainerCollection", "AsyncExecOutput", "ExecResult"]


class AsyncContainer(ContainerState, AsyncModel):
    """A container; properties read the cached ``attrs`` (refresh with :meth:`reload`)."""

    @property
    def api(self) -> AsyncAPIClient:
        """The low-level client this container is bound to."""
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        return self.client.api

    @property
    def image(self) -> Awaitable[AsyncImage | None]:
        """The container's image (one inspect per access).  Under asyncio ``await
        container.image``: a property can only do I/O there by handing back an awaitable."""
        return self._image()

    async def _image(self) -> AsyncImage | None:
        image_id = self.attrs.get("ImageID", self.attrs.get("Image"))
        if not image_id or self.client is None:
            return None
        return await self.client.images.get(image_id)

    # ------------------------------------------------------------------ output and I/O

    async def attach(self, **kwargs: Any) -> Any:
        """``APIClient.attach`` keywords (``chunks=True`` too).  The attachment is made by this
        call (under asyncio too, unlike ``logs``), so output written after it returns is not
        missed.  A stream has one item per frame, as docker-py's."""
        return await self.api.attach(self.id, **kwargs)

    async def attach_socket(self, **kwargs: Any) -> Any:
        return await self.api.attach_socket(self.id, **kwargs)

    def logs(self, **kwargs: Any) -> Any:
        """``bytes``, or with ``stream=True`` a stream of docker-py's items: one per frame (a
        log line), one byte each for a TTY container; ``chunks=True`` for ctrproto's bulk
        items instead (what each read completed: the fast path).  ``close()`` ends it from
        another thread.  Under asyncio the stream is returned directly and makes its request
        when iteration begins."""
        if kwargs.get("stream"):
            return backend.deferred(lambda: self.api.logs(self.id, **kwargs))
        return self.api.logs(self.id, **kwargs)

    def stats(self, **kwargs: Any) -> Any:
        """A generator of samples (the default ``stream=True``, returned directly as ``logs``'),
        or with ``stream=False`` one dict."""
        if kwargs.get("stream", True):
            return backend.deferred(lambda: self.api.stats(self.id, **kwargs))
        return self.api.stats(self.id, **kwargs)

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
        """Run ``cmd`` in the container; ``(exit_code, output)``.

        With ``stream=True`` the output is an :class:`AsyncExecOutput` whose ``exit_code`` (also
        the result's) is known once it has been read to the end; ``demux=True`` gives ``b""``
        for a stream that carried nothing.
        """
        api = self.api
        created = await api.exec_create(
            self.id,
            cmd,
            stdout=stdout,
            stderr=stderr,
            stdin=stdin,
            tty=tty,
            privileged=privileged,
            user=user,
            environment=environment,
            workdir=workdir,
        )
        exec_id: str = created["Id"]
        output = await api.exec_start(
            exec_id, detach=detach, tty=tty, stream=stream, socket=socket, demux=demux
        )
        return await exec_result(
            api, exec_id, output, socket=socket, stream=stream, detach=detach, demux=demux,
            tty=tty,
        )

    def export(self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The filesystem as a tar, a generator of ``chunk_size`` pieces."""
        result: AsyncIterator[bytes] = backend.deferred(
            lambda: self.api.export(self.id, chunk_size)
        )
        return result

    async def get_archive(
        self,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[AsyncIterator[bytes], dict[str, Any]]:
        """``(tar pieces, stat)``; the request is made here, so a missing path raises now."""
        return await self.api.get_archive(self.id, path, chunk_size, encode_stream)

    async def put_archive(
        self, path: str, data: bytes | Iterable[bytes] | AsyncIterable[bytes] | Any
    ) -> bool:
        return bool(await self.api.put_archive(self.id, path, data))

    async def top(self, **kwargs: Any) -> dict[str, Any]:
        return await self.api.top(self.id, **kwargs)

    async def diff(self) -> list[dict[str, Any]]:
        return await self.api.diff(self.id)

    # ------------------------------------------------------------------ lifecycle

    async def commit(
        self, repository: str | None = None, tag: str | None = None, **kwargs: Any
    ) -> AsyncImage:
        """Commit to a new image and return it."""
        answer = await self.api.commit(self.id, repository=repository, tag=tag, **kwargs)
        assert self.client is not None
        return await self.client.images.get(answer["Id"])

    async def kill(self, signal: str | int | None = None) -> None:
        await self.api.kill(self.id, signal=signal)

    async def pause(self) -> None:
        await self.api.pause(self.id)

    async def unpause(self) -> None:
        await self.api.unpause(self.id)

    async def remove(self, **kwargs: Any) -> None:
        await self.api.remove_container(self.id, **kwargs)

    async def rename(self, name: str) -> None:
        await self.api.rename(self.id, name)

    async def resize(self, height: int, width: int) -> None:
        await self.api.resize(self.id, height, width)

    async def restart(self, **kwargs: Any) -> None:
        await self.api.restart(self.id, **kwargs)

    async def start(self, **kwargs: Any) -> None:
        await self.api.start(self.id, **kwargs)

    async def stop(self, **kwargs: Any) -> None:
        await self.api.stop(self.id, **kwargs)

    async def update(self, **kwargs: Any) -> dict[str, Any]:
        return await self.api.update_container(self.id, **kwargs)

    async def wait(self, **kwargs: Any) -> dict[str, Any]:
        """Until the condition holds; ``timeout=`` raises :class:`ctrproto.errors.Timeout`."""
        return await self.api.wait(self.id, **kwargs)


class AsyncContainerCollection(AsyncCollection[AsyncContainer]):
    model = AsyncContainer

    @overload
    async def run(
        self,
        image: str | AsyncImage,
        command: str | list[str] | None = None,
        *,
        detach: Literal[True],
        **kwargs: Any,
    ) -> AsyncContainer: ...

    @overload
    async def run(
        self,
        image: str | AsyncImage,
        command: str | list[str] | None = None,
        *,
        stream: Literal[True],
        detach: Literal[False] = False,
        **kwargs: Any,
    ) -> AsyncIterator[bytes]: ...

    @overload
    async def run(
        self, image: str | AsyncImage, command: str | list[str] | None = None, **kwargs: Any
    ) -> AsyncContainer | RunOutput: ...

    async def run(
        self, image: str | AsyncImage, command: str | list[str] | None = None, **kwargs: Any
    ) -> AsyncContainer | RunOutput:
        """Create and start a container; wait for it and return its output unless ``detach``.

        A missing image is pulled first (a failed pull is :class:`ImageNotFound` naming it).
        ``stream=True`` returns a generator of output while the container runs; a non-zero exit
        raises ``ContainerError`` (at the end of that iteration when streaming).
        """
        request, options = build_run_request(
            await self.client.api.ensure_api_version(),
            image,
            command,
            self._proxy_config(kwargs),
            **kwargs,
        )
        container = await self._create(request, pull=True)
        if not options.detach:
            return await run_foreground(container, options, command, image)
        try:
            await container.start()
        except BaseException:
            if options.remove:
                await remove_quietly(container)
            raise
        return container

    async def create(
        self, image: str | AsyncImage, command: str | list[str] | None = None, **kwargs: Any
    ) -> AsyncContainer:
        """Create (not start) a container; :class:`ImageNotFound` when the image is missing."""
        request = build_create_request(
            await self.client.api.ensure_api_version(),
            image,
            command,
            self._proxy_config(kwargs),
            **kwargs,
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
        return self.prepare_model(await self.client.api.inspect_container(container_id))

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
        """Containers, newest first; inspected in parallel over the pool unless ``sparse``.

        ``since``/``before`` are sent as filters, which (unlike the legacy query parameters)
        the daemon applies on every API version; like ``limit`` they include stopped containers.
        """
        merged = dict(filters or {})
        if since:
            merged["since"] = since
        if before:
            merged["before"] = before
        include_all = all or bool(since) or bool(before) or (limit is not None and limit > 0)
        summaries = await self.client.api.containers(all=include_all, filters=merged, limit=limit)
        if sparse:
            return [self.prepare_model(item) for item in summaries]

        async def inspect(cid: str) -> AsyncContainer | None:
            try:
                return await self.get(cid)
            except NotFound:
                if ignore_removed:
                    return None
                raise

        ids = [item["Id"] for item in summaries]
        found = await backend.run_concurrently(inspect, ids, LIST_WORKERS)
        return [container for container in found if container is not None]

    async def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers; ``{"ContainersDeleted": [...], "SpaceReclaimed": n}``."""
        result = await self.client.api.prune_containers(filters=filters)
        result.setdefault("ContainersDeleted", None)
        result.setdefault("SpaceReclaimed", 0)
        return result
