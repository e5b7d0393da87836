"""``client.images``: get, list, pull and remove, by the rules of :mod:`ctrproto.engine.pulls`."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from ..engine.model_state import ImageState
from ..engine.pulls import (
    pull_failed,
    pull_item_error,
    pull_reference,
    pull_stream_error,
    pulled_name,
)
from ..errors import APIError, StreamError
from .resource import AsyncCollection, AsyncModel

__all__ = ["AsyncImage", "AsyncImageCollection"]


class AsyncImage(ImageState, AsyncModel):
    """An image, as last inspected."""


class AsyncImageCollection(AsyncCollection[AsyncImage]):
    model = AsyncImage

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
