"""``client.containers`` and ``Container``: docker-py's containers facade over the low-level client.

Every keyword conversion of ``run()``/``create()`` lives in :mod:`ctrproto.engine.create_config`
(no I/O, shared with other facades); this module only sequences the calls.  Where the spec and
docker-py disagree the spec wins; the differences are listed in the README.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, overload

from ..engine.create_config import CreateRequest, build_create_request, build_run_request
from ..errors import ImageNotFound, NotFound
from ._exec import ExecOutput, ExecResult, run_exec
from ._run import remove_quietly, run_attached
from .images import Image, pull_for_run
from .resource import Attrs, Collection, Model

if TYPE_CHECKING:
    from ..api import APIClient

__all__ = [
    "Container",
    "ContainerCollection",
    "ContainerState",
    "ExecOutput",
    "ExecResult",
]

#: docker-py's default piece size for export and get_archive.
DEFAULT_DATA_CHUNK_SIZE = 2 * 1024 * 1024
#: Parallel inspects of a non-sparse list: enough to hide latency, few enough to stay polite.
LIST_WORKERS = 8


class ContainerState(Attrs):
    """The properties both facades (sync and asyncio) read from a container's cached ``attrs``."""

    @property
    def name(self) -> str | None:
        """The name without its leading slash (also for objects from a sparse list)."""
        name = self.attrs.get("Name")
        if name is None:
            names = self.attrs.get("Names") or []
            name = names[0] if names else None
        return name.lstrip("/") if isinstance(name, str) else None

    @property
    def labels(self) -> dict[str, str]:
        config = self.attrs.get("Config")
        labels = config.get("Labels") if isinstance(config, Mapping) else self.attrs.get("Labels")
        return dict(labels or {})

    @property
    def status(self) -> str | None:
        """``created``, ``running``, ``paused``, ``restarting``, ``exited``, ``dead``..."""
        state = self.attrs.get("State")
        if isinstance(state, Mapping):
            status: str | None = state.get("Status")
            return status
        return state if isinstance(state, str) else None

    @property
    def health(self) -> str:
        """``starting``, ``healthy`` or ``unhealthy``; ``unknown`` without a healthcheck."""
        state = self.attrs.get("State")
        health = state.get("Health") if isinstance(state, Mapping) else None
        result: str = (health or {}).get("Status", "unknown")
        return result

    @property
    def ports(self) -> dict[str, Any]:
        """Published ports as inspect reports them (``NetworkSettings.Ports``)."""
        settings = self.attrs.get("NetworkSettings") or {}
        return dict(settings.get("Ports") or {})


class Container(ContainerState, Model):
    """A container; properties read the cached ``attrs`` (refresh with :meth:`reload`)."""

    @property
    def _api(self) -> APIClient:
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        return self.client.api

    @property
    def image(self) -> Image | None:
        """The container's image as an :class:`Image` (one inspect per access)."""
        image_id = self.attrs.get("ImageID", self.attrs.get("Image"))
        if not image_id or self.client is None:
            return None
        return self.client.images.get(image_id)

    # ------------------------------------------------------------------ output and I/O

    def attach(self, **kwargs: Any) -> Any:
        return self._api.attach(self.id, **kwargs)

    def attach_socket(self, **kwargs: Any) -> Any:
        return self._api.attach_socket(self.id, **kwargs)

    def logs(self, **kwargs: Any) -> Any:
        """``bytes``, or an iterator of chunks with ``stream=True``."""
        return self._api.logs(self.id, **kwargs)

    def exec_run(
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

        With ``stream=True`` the output is an :class:`ExecOutput` whose ``exit_code`` (also the
        result's) is known once it has been read to the end; ``demux=True`` gives ``b""`` for a
        stream that carried nothing.
        """
        return run_exec(
            self._api,
            self.id,
            cmd,
            stdout=stdout,
            stderr=stderr,
            stdin=stdin,
            tty=tty,
            privileged=privileged,
            user=user,
            detach=detach,
            stream=stream,
            socket=socket,
            environment=environment,
            workdir=workdir,
            demux=demux,
        )

    def export(self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE) -> Iterator[bytes]:
        result: Iterator[bytes] = self._api.export(self.id, chunk_size)
        return result

    def get_archive(
        self,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[Iterator[bytes], dict[str, Any]]:
        result: tuple[Iterator[bytes], dict[str, Any]] = self._api.get_archive(
            self.id, path, chunk_size, encode_stream
        )
        return result

    def put_archive(self, path: str, data: bytes | Iterable[bytes] | Any) -> bool:
        return bool(self._api.put_archive(self.id, path, data))

    def stats(self, **kwargs: Any) -> Any:
        return self._api.stats(self.id, **kwargs)

    def top(self, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._api.top(self.id, **kwargs)
        return result

    def diff(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._api.diff(self.id)
        return result

    # ------------------------------------------------------------------ lifecycle

    def commit(self, repository: str | None = None, tag: str | None = None, **kwargs: Any) -> Image:
        """Commit to a new image and return it."""
        answer = self._api.commit(self.id, repository=repository, tag=tag, **kwargs)
        assert self.client is not None
        return self.client.images.get(answer["Id"])

    def kill(self, signal: str | int | None = None) -> None:
        self._api.kill(self.id, signal=signal)

    def pause(self) -> None:
        self._api.pause(self.id)

    def unpause(self) -> None:
        self._api.unpause(self.id)

    def remove(self, **kwargs: Any) -> None:
        self._api.remove_container(self.id, **kwargs)

    def rename(self, name: str) -> None:
        self._api.rename(self.id, name)

    def resize(self, height: int, width: int) -> None:
        self._api.resize(self.id, height, width)

    def restart(self, **kwargs: Any) -> None:
        self._api.restart(self.id, **kwargs)

    def start(self, **kwargs: Any) -> None:
        self._api.start(self.id, **kwargs)

    def stop(self, **kwargs: Any) -> None:
        self._api.stop(self.id, **kwargs)

    def update(self, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._api.update_container(self.id, **kwargs)
        return result

    def wait(self, **kwargs: Any) -> dict[str, Any]:
        """Block until the condition holds; ``timeout=`` raises :class:`ctrproto.errors.Timeout`."""
        return self._api.wait(self.id, **kwargs)


class ContainerCollection(Collection[Container]):
    model = Container

    @overload
    def run(
        self,
        image: str | Image,
        command: str | list[str] | None = None,
        *,
        detach: Literal[True],
        **kwargs: Any,
    ) -> Container: ...

    @overload
    def run(
        self,
        image: str | Image,
        command: str | list[str] | None = None,
        *,
        stream: Literal[True],
        detach: Literal[False] = False,
        **kwargs: Any,
    ) -> Iterator[bytes]: ...

    @overload
    def run(
        self, image: str | Image, command: str | list[str] | None = None, **kwargs: Any
    ) -> Container | bytes | Iterator[bytes] | None: ...

    def run(
        self, image: str | Image, command: str | list[str] | None = None, **kwargs: Any
    ) -> Container | bytes | Iterator[bytes] | None:
        """Create and start a container; wait for it and return its output unless ``detach``.

        A missing image is pulled first (a failed pull is :class:`ImageNotFound` naming it).
        """
        request, options = build_run_request(
            self.client.api.api_version, image, command, self._proxy_config(kwargs), **kwargs
        )
        container = self._create(request, pull=True)
        try:
            container.start()
        except BaseException:
            if options.remove:
                remove_quietly(container)
            raise
        if options.detach:
            return container
        return run_attached(container, options, command, image)

    def create(
        self, image: str | Image, command: str | list[str] | None = None, **kwargs: Any
    ) -> Container:
        """Create (not start) a container; :class:`ImageNotFound` when the image is missing."""
        request = build_create_request(
            self.client.api.api_version, image, command, self._proxy_config(kwargs), **kwargs
        )
        return self._create(request, pull=False)

    def _proxy_config(self, kwargs: Mapping[str, Any]) -> Mapping[str, str] | None:
        if not kwargs.get("use_config_proxy", True):
            return None
        return self.client.proxy_config()

    def _create(self, request: CreateRequest, pull: bool) -> Container:
        api = self.client.api
        name = request.params.get("name")
        try:
            answer = api.create_container_from_config(
                request.body, name=name, platform=request.platform
            )
        except ImageNotFound:
            if not pull:
                raise
            pull_for_run(self.client.images, request.image, request.platform)
            answer = api.create_container_from_config(
                request.body, name=name, platform=request.platform
            )
        return self.get(answer["Id"])

    def get(self, container_id: str) -> Container:
        """By full id, unique id prefix or name; :class:`NotFound` otherwise."""
        return self.prepare_model(self.client.api.inspect_container(container_id))

    def list(
        self,
        all: bool = False,
        before: str | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = -1,
        since: str | None = None,
        sparse: bool = False,
        ignore_removed: bool = False,
    ) -> builtins.list[Container]:
        """Containers, newest first; inspected in parallel unless ``sparse``.

        ``since``/``before`` are sent as filters, which (unlike the legacy query parameters)
        the daemon applies on every API version; like ``limit`` they include stopped containers.
        """
        merged = dict(filters or {})
        if since:
            merged["since"] = since
        if before:
            merged["before"] = before
        include_all = all or bool(since) or bool(before) or (limit is not None and limit > 0)
        summaries = self.client.api.containers(all=include_all, filters=merged, limit=limit)
        if sparse:
            return [self.prepare_model(item) for item in summaries]
        return self._inspect_all([item["Id"] for item in summaries], ignore_removed)

    def _inspect_all(
        self, ids: builtins.list[str], ignore_removed: bool
    ) -> builtins.list[Container]:
        """Inspect concurrently over the client's pool; keeps the list's order."""
        if not ids:
            return []

        def inspect(cid: str) -> Container | None:
            try:
                return self.get(cid)
            except NotFound:
                if ignore_removed:
                    return None
                raise

        with ThreadPoolExecutor(max_workers=min(LIST_WORKERS, len(ids))) as pool:
            found = list(pool.map(inspect, ids))
        return [container for container in found if container is not None]

    def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers; ``{"ContainersDeleted": [...], "SpaceReclaimed": n}``."""
        result: dict[str, Any] = self.client.api.prune_containers(filters=filters)
        result.setdefault("ContainersDeleted", None)
        result.setdefault("SpaceReclaimed", 0)
        return result
