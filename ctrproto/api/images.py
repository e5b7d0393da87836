"""Image endpoints of the low-level client: what ``run()`` and ``Container.commit`` rely on.

Every call that names an image maps a 404 to :class:`~ctrproto.errors.ImageNotFound`, which is
how ``containers.run()`` tells "pull it first" from any other failure.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator, Iterable, Mapping
from typing import Any, Literal, Union, overload

from ..engine.utils import convert_filters
from ..protocol.jsonstream import JSONStreamDecoder
from .base import BaseClient, check_resource

PullResult = Union[str, Generator[bytes, None, None], Generator[dict[str, Any], None, None]]


class ImageApiMixin(BaseClient):
    def inspect_image(self, image: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            self._get(
                self._url("/images/{}/json", check_resource(image, "image")), image_request=True
            )
        )
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
        merged = dict(filters or {})
        if name:
            merged["reference"] = name
        params: dict[str, Any] = {"all": all, "only_ids": quiet}
        if merged:
            params["filters"] = convert_filters(merged)
        result: list[dict[str, Any]] = self._json(self._get("/images/json", params=params))
        if quiet:
            return [item["Id"] for item in result]
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
        repo, image_tag = split_repository_tag(repository)
        params: dict[str, Any] = {"fromImage": repo}
        if not all_tags:
            params["tag"] = tag or image_tag or "latest"
        if platform is not None:
            self._require_version("1.32", "pull(platform=...)")
            params["platform"] = platform
        headers = {"X-Registry-Auth": encode_auth(auth_config)} if auth_config else None
        response = self._post(
            "/images/create",
            params=params,
            headers=headers,
            image_request=True,
            timeout=None,  # a pull may take long before the daemon even answers
            stream_timeout=None,
        )
        if stream and decode:
            return self._stream_json(response, raise_on_error=True)
        checked = _checked_progress(self._stream_raw(response))
        if stream:
            return checked
        return b"".join(checked).decode("utf-8", "replace")

    def remove_image(self, image: Any, force: bool = False, noprune: bool = False) -> list[Any]:
        """Untag/delete an image; returns the daemon's ``Untagged``/``Deleted`` entries."""
        result: list[Any] = self._json(
            self._delete(
                self._url("/images/{}", check_resource(image, "image")),
                params={"force": force, "noprune": noprune},
                image_request=True,
            )
        )
        return result

    def tag(self, image: Any, repository: str, tag: str | None = None, force: bool = False) -> bool:
        """Add the reference ``repository:tag`` to ``image``; True when the daemon did."""
        response = self._post(
            self._url("/images/{}/tag", check_resource(image, "image")),
            params={"repo": repository, "tag": tag, "force": force},
            image_request=True,
        )
        status = response.status_code
        self._discard(response)
        return status == 201


def _checked_progress(pieces: Iterable[bytes]) -> Generator[bytes, None, None]:
    """Pass raw progress bytes through while watching them for an in-band error."""
    decoder = JSONStreamDecoder(raise_on_error=True)
    for piece in pieces:
        decoder.feed(piece)
        yield piece
    decoder.close()


def split_repository_tag(name: str) -> tuple[str, str | None]:
    """``"host:5000/a/b:tag"`` → ``("host:5000/a/b", "tag")``; a digest counts as the tag.

    A colon before the last ``/`` belongs to a registry port, not to a tag.
    """
    if "@" in name:
        repo, digest = name.rsplit("@", 1)
        return repo, digest
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, None
    return repo, tag


def encode_auth(auth_config: Mapping[str, Any]) -> str:
    """The ``X-Registry-Auth`` header value: URL-safe base64 of the JSON credentials."""
    return base64.urlsafe_b64encode(json.dumps(dict(auth_config)).encode("utf-8")).decode("ascii")


__all__ = ["ImageApiMixin", "PullResult", "encode_auth", "split_repository_tag"]
