"""Image endpoints of the low-level client, named and shaped like docker-py 7.2's.

Every call that names a local image maps a 404 to :class:`~ctrproto.errors.ImageNotFound`, which
is how ``containers.run()`` tells "pull it first" from any other failure.  Large bodies stream
both ways: a build context is tarred while it is sent, a load or import body is read piece by
piece, a saved image comes back in ``chunk_size`` pieces and progress is decoded as it arrives.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Union, overload

from .. import build_context
from .._backends import asyncio as backend
from ..auth import load_config
from ..engine import endpoints, image_calls
from ..engine.defaults import DEFAULT_DATA_CHUNK_SIZE
from ..engine.pulls import split_repository_tag
from .client_core import AsyncClientCore
from .stream_shapes import checked_progress, collect, json_values, rechunked, stream_of

PullResult = Union[str, AsyncGenerator[bytes, None], AsyncGenerator[dict[str, Any], None]]
Progress = Union[AsyncGenerator[bytes, None], AsyncGenerator[Any, None]]


class AsyncImageApiMixin(AsyncClientCore):
    async def inspect_image(self, image: Any) -> dict[str, Any]:
        return await self._json(endpoints.inspect_image(image))

    @overload
    async def images(
        self,
        name: str | None = ...,
        quiet: Literal[False] = ...,
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[dict[str, Any]]: ...

    @overload
    async def images(
        self,
        name: str | None = ...,
        *,
        quiet: Literal[True],
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[str]: ...

    @overload
    async def images(
        self,
        name: str | None = ...,
        quiet: bool = ...,
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[dict[str, Any]] | list[str]: ...

    async def images(
        self,
        name: str | None = None,
        quiet: bool = False,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]] | list[str]:
        """Local images; ``name`` keeps those whose reference matches; ``quiet`` gives ids."""
        return await self._json(endpoints.images(name, quiet, all, filters))

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
        """Pull an image; ``repository`` may carry the tag or digest (``name:tag``).

        The daemon reports most failures inside its progress stream after answering 200; those
        raise :class:`~ctrproto.errors.StreamError` with its message (whether or not streaming,
        unlike docker-py, which hands the error text back as if the pull had worked).  A stream
        yields raw progress bytes, or dicts with ``decode=True``; otherwise the whole progress
        text is returned once the pull has finished.
        """
        version = await self.ensure_api_version()
        credentials = self._credentials(split_repository_tag(repository)[0], auth_config)
        call = endpoints.pull(version, repository, tag, credentials, platform, all_tags)
        return await self._progress(call, stream, decode)

    async def remove_image(
        self, image: Any, force: bool = False, noprune: bool = False
    ) -> list[Any]:
        """Untag/delete an image; returns the daemon's ``Untagged``/``Deleted`` entries."""
        return await self._json(endpoints.remove_image(image, force, noprune))

    async def tag(
        self, image: Any, repository: str, tag: str | None = None, force: bool = False
    ) -> bool:
        """Add the reference ``repository:tag`` to ``image``; True when the daemon did."""
        call = endpoints.tag(image, repository, tag, force)
        response = await self._drained(call)
        return call.succeeded(response.status_code)

    # ------------------------------------------------------------------ build

    async def build(
        self,
        path: str | None = None,
        tag: str | None = None,
        quiet: bool = False,
        fileobj: Any = None,
        nocache: bool = False,
        rm: bool = False,
        timeout: float | None = None,
        custom_context: bool = False,
        encoding: str | None = None,
        pull: bool = False,
        forcerm: bool = False,
        dockerfile: str | None = None,
        container_limits: Mapping[str, Any] | None = None,
        decode: bool = False,
        buildargs: Mapping[str, Any] | None = None,
        gzip: bool = False,
        shmsize: int | None = None,
        labels: Mapping[str, str] | None = None,
        cache_from: Sequence[str] | None = None,
        target: str | None = None,
        network_mode: str | None = None,
        squash: bool | None = None,
        extra_hosts: Mapping[str, str] | Sequence[str] | None = None,
        platform: str | None = None,
        isolation: str | None = None,
        use_config_proxy: bool = True,
    ) -> Progress:
        """Build an image (``docker build``); returns the daemon's progress as it comes: raw
        body pieces, or decoded dicts with ``decode=True``.

        ``path`` is a directory (tarred honouring its ``.dockerignore``, streamed while it is
        read: no temp file) or a remote URL; ``fileobj`` is a Dockerfile, or with
        ``custom_context=True`` a ready tar (``encoding`` names its compression).  Errors of
        the build itself arrive inside the stream (``{"error": ...}``), as docker-py's.
        """
        image_calls.check_build_arguments(
            path, fileobj, gzip, encoding, tag, container_limits, custom_context
        )
        remote: str | None = None
        body: Any = None
        if custom_context:
            body = fileobj
        elif fileobj is not None:
            body = build_context.mkbuildcontext_stream(fileobj)
        elif path is not None and path.startswith(image_calls.REMOTE_PREFIXES):
            remote = path
        elif path is None or not build_context.is_directory(path):
            raise TypeError("You must specify a directory to build in path")
        else:
            exclude = build_context.read_dockerignore(path)
            name, contents = build_context.process_dockerfile(dockerfile, path)
            dockerfile = name
            body = build_context.tar_stream(path, exclude, (name, contents), gzip=gzip)
            encoding = "gzip" if gzip else encoding
        args = dict(buildargs or {})
        if use_config_proxy:
            for key, value in self._build_proxy_args().items():
                args.setdefault(key, value)
        call = image_calls.build(
            await self.ensure_api_version(),
            tag=tag,
            quiet=quiet,
            nocache=nocache,
            rm=rm,
            forcerm=forcerm,
            pull=pull,
            dockerfile=dockerfile,
            container_limits=container_limits,
            buildargs=args,
            shmsize=shmsize,
            labels=labels,
            cache_from=cache_from,
            target=target,
            network_mode=network_mode,
            squash=squash,
            extra_hosts=extra_hosts,
            platform=platform,
            isolation=isolation,
            remote=remote,
            has_context=body is not None,
            encoding=encoding,
            timeout=timeout,
            registry_config=self._build_registry_config(),
        )
        pieces = None if body is None else backend.upload_body(body, DEFAULT_DATA_CHUNK_SIZE)
        response = await self._perform(call, pieces)
        progress = json_values(response.aiter_raw()) if decode else response.aiter_raw()
        return stream_of(response, progress)

    def _build_proxy_args(self) -> dict[str, str]:
        """The CLI config's proxy settings for this daemon, as build args (docker-py's
        ``use_config_proxy``)."""
        return self._proxy_configs.get_environment()

    def _build_registry_config(self) -> dict[str, Any] | None:
        """Every credential the CLI config holds, sent so the build can pull from any registry;
        ``None`` (no header) when it holds none, as docker-py (which reads the config again
        while it has none in memory)."""
        if not self._auth_configs or self._auth_configs.is_empty:
            self._auth_configs = load_config(credstore_env=self.credstore_env)
        if not self._auth_configs:
            return None
        credentials = self._auth_configs.get_all_credentials()
        return image_calls.registry_config(credentials) if credentials else None

    def _credentials(
        self, repository: str, auth_config: Mapping[str, Any] | None
    ) -> Mapping[str, Any] | None:
        """The ``auth_config`` given, else the CLI config's entry for the repository's registry
        (``None``: an anonymous request), as docker-py's pull, push and distribution."""
        if auth_config is not None:
            return auth_config
        return self._auth_config_for(repository)

    # ------------------------------------------------------------------ save, load, import

    async def get_image(
        self, image: Any, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        """The image as a tar (``docker save``), in ``chunk_size`` pieces as they arrive
        (``None``: as received); the request is made here, so a missing image raises now."""
        response = await self._perform(image_calls.get_image(image))
        return stream_of(response, rechunked(response.aiter_raw(), chunk_size))

    async def load_image(self, data: Any, quiet: bool | None = None) -> AsyncGenerator[Any, None]:
        """Load a saved tar (``docker load``): ``data`` is bytes, a binary file or an iterable
        of bytes (under asyncio also an async iterable), sent as it is read.  Returns the
        daemon's progress decoded, as docker-py's."""
        call = image_calls.load_image(await self.ensure_api_version(), quiet)
        body = backend.upload_body(data, DEFAULT_DATA_CHUNK_SIZE)
        response = await self._perform(call, body)
        return stream_of(response, json_values(response.aiter_raw()))

    async def import_image(
        self,
        src: Any = None,
        repository: str | None = None,
        tag: str | None = None,
        image: str | None = None,
        changes: Sequence[str] | None = None,
        stream_src: bool = False,
    ) -> str:
        """Create an image from a tarball (``docker import``): ``src`` is a file path, a URL the
        daemon fetches, or the data (bytes, a file, an iterable); ``image`` imports another
        image.  Returns the daemon's answer text, as docker-py's."""
        image_calls.check_import_source(src, image)
        params = image_calls.import_params(
            repository,
            tag,
            image,
            src=src if isinstance(src, str) else None,
            changes=changes,
            src_is_file=build_context.is_local_file(src),
        )
        if image or params.get("fromSrc") != "-":
            return await self._text(image_calls.import_image(params, with_body=False))
        if isinstance(src, str):
            with open(src, "rb") as f:
                return await self._import_body(params, f)
        return await self._import_body(params, src)

    async def _import_body(self, params: Mapping[str, Any], data: Any) -> str:
        call = image_calls.import_image(params, with_body=True)
        body = backend.upload_body(data, DEFAULT_DATA_CHUNK_SIZE)
        async with await self._perform(call, body) as response:
            return (await response.read()).decode("utf-8", "replace")

    async def import_image_from_data(
        self,
        data: Any,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
    ) -> str:
        params = image_calls.import_params(repository, tag, src="-", changes=changes)
        return await self._import_body(params, data)

    async def import_image_from_file(
        self,
        filename: str,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
    ) -> str:
        return await self.import_image(
            src=filename, repository=repository, tag=tag, changes=changes
        )

    async def import_image_from_stream(
        self,
        stream: Any,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
    ) -> str:
        return await self.import_image(
            src=stream, stream_src=True, repository=repository, tag=tag, changes=changes
        )

    async def import_image_from_url(
        self,
        url: str,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
    ) -> str:
        return await self.import_image(src=url, repository=repository, tag=tag, changes=changes)

    async def import_image_from_image(
        self,
        image: str,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
    ) -> str:
        return await self.import_image(
            image=image, repository=repository, tag=tag, changes=changes
        )

    # ------------------------------------------------------------------ registry

    async def push(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: Mapping[str, Any] | None = None,
        decode: bool = False,
    ) -> PullResult:
        """Push ``repository`` (``name:tag`` or with ``tag``) to its registry.

        As :meth:`pull`: an error the daemon reports inside the progress stream raises
        :class:`~ctrproto.errors.StreamError` (docker-py hands it back as text).  A stream
        yields raw progress bytes, or dicts with ``decode=True``; otherwise the whole progress
        text is returned once the push has finished.
        """
        credentials = self._credentials(split_repository_tag(repository)[0], auth_config)
        call = image_calls.push(repository, tag, credentials)
        return await self._progress(call, stream, decode)

    async def _progress(self, call: endpoints.Call[None], stream: bool, decode: bool) -> PullResult:
        """A pull's or push's progress: a stream closable from another thread (raw bytes, or
        dicts with ``decode``), or the whole text once done; in-band errors raise."""
        response = await self._perform(call)
        pieces = response.aiter_raw()
        if stream and decode:
            return stream_of(response, json_values(pieces, raise_on_error=True))
        checked = checked_progress(pieces)
        if stream:
            return stream_of(response, checked)
        return (await collect(checked)).decode("utf-8", "replace")

    async def inspect_distribution(
        self, image: Any, auth_config: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The registry's descriptor and platforms of ``image`` (asks the registry)."""
        credentials = self._credentials(endpoints.check_resource(image, "image"), auth_config)
        call = image_calls.inspect_distribution(
            await self.ensure_api_version(), image, credentials
        )
        return await self._json(call)

    async def search(self, term: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Search Docker Hub (through the daemon)."""
        return await self._json(image_calls.search(term, limit))

    # ------------------------------------------------------------------ local images

    async def history(self, image: Any) -> list[dict[str, Any]]:
        return await self._json(image_calls.history(image))

    async def prune_builds(
        self,
        filters: Mapping[str, Any] | None = None,
        keep_storage: int | None = None,
        all: bool | None = None,
    ) -> dict[str, Any]:
        """Delete the builder cache; ``CachesDeleted`` and ``SpaceReclaimed``."""
        version = await self.ensure_api_version()
        return await self._json(image_calls.prune_builds(version, filters, keep_storage, all))

    async def prune_images(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused images; ``ImagesDeleted`` and ``SpaceReclaimed``."""
        return await self._json(
            image_calls.prune_images(await self.ensure_api_version(), filters)
        )
