"""Image endpoints of the low-level client: what ``run()`` and ``Container.commit`` rely on.

Every call that names an image maps a 404 to :class:`~ctrproto.errors.ImageNotFound`, which is
how ``containers.run()`` tells "pull it first" from any other failure.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any, Literal, Union, overload

from ..engine import endpoints
from ..engine.endpoints import encode_auth, split_repository_tag
from ..protocol.jsonstream import JSONStreamDecoder
from .base import BaseClient

PullResult = Union[str, Generator[bytes, None, None], Generator[dict[str, Any], None, None]]


class ImageApiMixin(BaseClient):
    def inspect_image(self, image: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call_json(endpoints.inspect_image(image))
        return result

    @overload
    def images(
        self,
        name: str | None = ...,
        quiet: Literal[False] = ...,
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[dict[str, Any]]: ...

    @overload
    def images(
        self,
        name: str | None = ...,
        *,
        quiet: Literal[True],
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[str]: ...

    @overload
    def images(
        self,
        name: str | None = ...,
        quiet: bool = ...,
        all: bool = ...,
        filters: Mapping[str, Any] | None = ...,
    ) -> list[dict[str, Any]] | list[str]: ...

    def images(
        self,
        name: str | None = None,
        quiet: bool = False,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]] | list[str]:
        """Local images; ``name`` keeps those whose reference matches; ``quiet`` gives ids."""
        result: list[dict[str, Any]] | list[str] = self._call_json(
            endpoints.images(name, quiet, all, filters)
        )
        return result

    def pull(
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
        response = self._call(
            endpoints.pull(self.api_version, repository, tag, auth_config, platform, all_tags)
        )
        if stream and decode:
            return self._stream_json(response, raise_on_error=True)
        checked = _checked_progress(self._stream_raw(response))
        if stream:
            return checked
        return b"".join(checked).decode("utf-8", "replace")

    def remove_image(self, image: Any, force: bool = False, noprune: bool = False) -> list[Any]:
        """Untag/delete an image; returns the daemon's ``Untagged``/``Deleted`` entries."""
        result: list[Any] = self._call_json(endpoints.remove_image(image, force, noprune))
        return result

    def tag(self, image: Any, repository: str, tag: str | None = None, force: bool = False) -> bool:
        """Add the reference ``repository:tag`` to ``image``; True when the daemon did."""
        call = endpoints.tag(image, repository, tag, force)
        response = self._call(call)
        self._discard(response)
        return call.succeeded(response.status_code)


def _checked_progress(pieces: Iterable[bytes]) -> Generator[bytes, None, None]:
    """Pass raw progress bytes through while watching them for an in-band error."""
    decoder = JSONStreamDecoder(raise_on_error=True)
    for piece in pieces:
        decoder.feed(piece)
        yield piece
    decoder.close()


__all__ = ["ImageApiMixin", "PullResult", "encode_auth", "split_repository_tag"]
