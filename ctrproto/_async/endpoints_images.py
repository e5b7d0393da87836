"""Image endpoints of the low-level client: what ``run()`` and ``Container.commit`` rely on.

Every call that names an image maps a 404 to :class:`~ctrproto.errors.ImageNotFound`, which is
how ``containers.run()`` tells "pull it first" from any other failure.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal, Union, overload

from ..engine import endpoints
from .client_core import AsyncClientCore
from .stream_shapes import checked_progress, collect, json_values

PullResult = Union[str, AsyncGenerator[bytes, None], AsyncGenerator[dict[str, Any], None]]


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
        call = endpoints.pull(version, repository, tag, auth_config, platform, all_tags)
        pieces = (await self._perform(call)).aiter_raw()
        if stream and decode:
            return json_values(pieces, raise_on_error=True)
        checked = checked_progress(pieces)
        if stream:
            return checked
        return (await collect(checked)).decode("utf-8", "replace")

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
