"""``client.images``: docker-py 7.2's image facade (build, load, pull, push, registry data ...).

Pull rules are :mod:`ctrproto.engine.pulls`'; build and load read the progress stream to its
end before they return, as docker-py's do, and hand back what they read.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..engine.defaults import DEFAULT_DATA_CHUNK_SIZE
from ..engine.image_calls import (
    built_image_id,
    loaded_image_name,
    normalize_platform,
    parse_platform,
    save_reference,
)
from ..engine.model_state import ImageState
from ..engine.pulls import (
    pull_failed,
    pull_item_error,
    pull_reference,
    pull_stream_error,
    pulled_name,
    split_repository_tag,
)
from ..errors import APIError, BuildError, ImageLoadError, StreamError
from .resource import AsyncCollection, AsyncModel

if TYPE_CHECKING:
    from .api_client import AsyncAPIClient

__all__ = ["AsyncImage", "AsyncImageCollection", "AsyncRegistryData"]


class AsyncImage(ImageState, AsyncModel):
    """An image, as last inspected."""

    @property
    def api(self) -> AsyncAPIClient:
        """The low-level client this image is bound to."""
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        return self.client.api

    async def history(self) -> builtins.list[dict[str, Any]]:
        return await self.api.history(self.id)

    async def remove(self, force: bool = False, noprune: bool = False) -> builtins.list[Any]:
        return await self.api.remove_image(self.id, force=force, noprune=noprune)

    async def save(
        self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE, named: bool | str = False
    ) -> AsyncGenerator[bytes, None]:
        """The image as a tar stream in ``chunk_size`` pieces (``docker save``); ``named`` keeps
        the first tag (``True``) or the given one in the tar, else only the id."""
        reference = save_reference(self.id, self.tags, named)
        return await self.api.get_image(reference, chunk_size)

    async def tag(self, repository: str, tag: str | None = None, **kwargs: Any) -> bool:
        return await self.api.tag(self.id, repository, tag=tag, **kwargs)


class AsyncRegistryData(AsyncModel):
    """What a registry says about an image: its digest (``id``) and the platforms it has."""

    def __init__(self, image_name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.image_name = image_name

    @property
    def id(self) -> str:
        """The digest of the image's manifest (list)."""
        digest: str = self.attrs["Descriptor"]["digest"]
        return digest

    @property
    def short_id(self) -> str:
        return self.id[:19]

    def _collection(self) -> AsyncImageCollection:
        if not isinstance(self.collection, AsyncImageCollection):
            raise RuntimeError(f"{self!r} is not bound to an image collection")
        return self.collection

    async def pull(self, platform: str | None = None) -> AsyncImage | builtins.list[AsyncImage]:
        """Pull exactly this digest."""
        repository, _ = split_repository_tag(self.image_name)
        return await self._collection().pull(repository, tag=self.id, platform=platform)

    async def has_platform(self, platform: str | Mapping[str, Any] | None) -> bool:
        """Whether the registry lists ``platform`` (``os[/arch[/variant]]`` or a dict; what it
        leaves out is the daemon's own)."""
        wanted = parse_platform(platform)
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        engine = await self.client.version()
        return normalize_platform(wanted, engine) in self.attrs["Platforms"]

    async def reload(self) -> None:
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        self.attrs = await self.client.api.inspect_distribution(self.image_name)


class AsyncImageCollection(AsyncCollection[AsyncImage]):
    model = AsyncImage

    async def build(self, **kwargs: Any) -> tuple[AsyncImage, AsyncIterator[Any]]:
        """Build and return ``(image, log)``; takes :meth:`AsyncAPIClient.build`'s keywords.

        The whole progress is read first (the log handed back replays it).  A build whose
        stream reports an error, or names no image, raises :class:`BuildError` with the reason
        and the whole log; any other failure is the API's error.
        """
        kwargs.pop("decode", None)
        progress = await self.client.api.build(decode=True, **kwargs)
        log: builtins.list[Any] = []
        image_id: str | None = None
        error: Any = None
        try:
            async for item in progress:
                log.append(item)
                if error is None and isinstance(item, Mapping) and "error" in item:
                    error = item["error"]
                found = built_image_id(item)
                if found:
                    image_id = found
        finally:
            await progress.aclose()
        if error is not None:
            raise BuildError(error, _replay(log))
        if not image_id:
            raise BuildError(log[-1] if log else "Unknown", _replay(log))
        return await self.get(image_id), _replay(log)

    async def load(self, data: Any) -> builtins.list[AsyncImage]:
        """Load a saved tar (bytes, a file or an iterable of bytes, streamed) and return the
        images it held; an error in the daemon's answer is :class:`ImageLoadError`."""
        progress = await self.client.api.load_image(data)
        names: builtins.list[str] = []
        try:
            async for item in progress:
                name = loaded_image_name(item)
                if name:
                    names.append(name)
                if isinstance(item, Mapping) and "errorDetail" in item:
                    raise ImageLoadError(item["errorDetail"]["message"])
        finally:
            await progress.aclose()
        return [await self.get(name) for name in names]

    async def push(self, repository: str, tag: str | None = None, **kwargs: Any) -> Any:
        """:meth:`AsyncAPIClient.push`, same keywords and result."""
        return await self.client.api.push(repository, tag=tag, **kwargs)

    async def search(self, *args: Any, **kwargs: Any) -> builtins.list[dict[str, Any]]:
        return await self.client.api.search(*args, **kwargs)

    async def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.client.api.prune_images(filters=filters)

    async def prune_builds(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Delete the builder cache (``APIClient.prune_builds``'s arguments)."""
        return await self.client.api.prune_builds(*args, **kwargs)

    async def get_registry_data(
        self, name: str, auth_config: Mapping[str, Any] | None = None
    ) -> AsyncRegistryData:
        """The registry's digest and platforms of ``name`` (asks the registry, pulls nothing)."""
        attrs = await self.client.api.inspect_distribution(name, auth_config)
        return AsyncRegistryData(
            image_name=name, attrs=attrs, client=self.client, collection=self
        )

    async def get(self, name: str) -> AsyncImage:
        """Inspect an image by name, tag or id; :class:`ImageNotFound` when the daemon lacks it."""
        return self.prepare_model(await self.client.api.inspect_image(name))

    async def list(
        self,
        name: str | None = None,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> builtins.list[AsyncImage]:
        summaries = await self.client.api.images(name=name, all=all, filters=filters)
        return [await self.get(item["Id"]) for item in summaries]

    async def pull(
        self,
        repository: str,
        tag: str | None = None,
        all_tags: bool = False,
        **kwargs: Any,
    ) -> AsyncImage | builtins.list[AsyncImage]:
        """Pull and return the image; an error the daemon reports inside the stream is raised.

        docker-py drains the progress stream without looking at it, so a failed pull surfaces
        only later as a confusing "not found"; here the daemon's own message is raised.
        """
        repo, tag = pull_reference(repository, tag, all_tags)
        kwargs.pop("stream", None)
        kwargs.pop("decode", None)
        progress = await self.client.api.pull(
            repo, tag=tag, stream=True, decode=True, all_tags=all_tags, **kwargs
        )
        assert not isinstance(progress, str)
        try:
            async for item in progress:
                error = pull_item_error(repository, item)
                if error is not None:
                    raise error
        except StreamError as exc:
            raise pull_stream_error(repository, exc) from exc
        finally:
            await progress.aclose()
        if all_tags:
            return await self.list(repo)
        return await self.get(pulled_name(repo, tag))

    async def pull_for_run(self, image: str, platform: str | None) -> None:
        """Pull a missing image for ``run()``; any failure is :class:`ImageNotFound` naming it."""
        try:
            await self.pull(image, platform=platform)
        except APIError as exc:
            raise pull_failed(image, exc) from exc

    async def remove(self, image: str, force: bool = False, noprune: bool = False) -> None:
        await self.client.api.remove_image(image, force=force, noprune=noprune)


async def _replay(items: Iterable[Any]) -> AsyncGenerator[Any, None]:
    """Items already read, handed out again as the stream they came from."""
    for item in items:
        yield item
