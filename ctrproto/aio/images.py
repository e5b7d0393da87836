"""``client.images`` for asyncio: get, list and pull, with the sync facade's pull rules."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from ..errors import APIError, StreamError
from ..models.images import (
    Image,
    pull_failed,
    pull_item_error,
    pull_reference,
    pull_stream_error,
    pulled_name,
)

if TYPE_CHECKING:
    from .client import AsyncDockerClient


class AsyncImageCollection:
    def __init__(self, client: AsyncDockerClient) -> None:
        self.client = client

    async def get(self, name: str) -> Image:
        """Inspect an image; :class:`ImageNotFound` when the daemon lacks it.

        The result is the sync :class:`Image` (pure properties over ``attrs``), unbound.
        """
        return Image(attrs=await self.client.api.inspect_image(name))

    async def list(self, name: str | None = None, all: bool = False) -> builtins.list[Image]:
        summaries = await self.client.api.images(name=name, all=all)
        return [await self.get(item["Id"]) for item in summaries]

    async def pull(
        self, repository: str, tag: str | None = None, all_tags: bool = False, **kwargs: Any
    ) -> Image | builtins.list[Image]:
        """Pull and return the image; an error reported inside the progress stream is raised."""
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
        """Pull a missing image for ``run()``; a failure is :class:`ImageNotFound` naming it."""
        try:
            await self.pull(image, platform=platform)
        except APIError as exc:
            raise pull_failed(image, exc) from exc
