"""The minimal image side of the facade: what ``run()``, ``Container.image`` and ``commit`` need."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import APIError, ImageNotFound, StreamError
from .resource import Collection, Model

__all__ = ["Image", "ImageCollection", "split_repository_tag"]


def split_repository_tag(reference: str) -> tuple[str, str | None]:
    """``"host:5000/repo:tag"`` → ``("host:5000/repo", "tag")``; a digest stays with its repo.

    Only a colon after the last slash separates a tag, so a registry port is never mistaken for
    one.
    """
    if "@" in reference:
        repo, _, digest = reference.partition("@")
        return repo, digest
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


class Image(Model):
    """An image, as last inspected."""

    def __repr__(self) -> str:
        return "<{}: '{}'>".format(type(self).__name__, "', '".join(self.tags))

    @property
    def short_id(self) -> str:
        """The id with its ``sha256:`` prefix and 12 hex digits, as the CLI shows it."""
        if self.id.startswith("sha256:"):
            return self.id[:19]
        return self.id[:12]

    @property
    def tags(self) -> list[str]:
        """Repository tags, without the ``<none>:<none>`` placeholder of untagged images."""
        return [tag for tag in self.attrs.get("RepoTags") or [] if tag != "<none>:<none>"]

    @property
    def labels(self) -> dict[str, str]:
        config = self.attrs.get("Config") or {}
        labels: dict[str, str] = config.get("Labels") or {}
        return labels


class ImageCollection(Collection[Image]):
    model = Image

    def get(self, name: str) -> Image:
        """Inspect an image by name, tag or id; :class:`ImageNotFound` when the daemon lacks it."""
        return self.prepare_model(self.client.api.inspect_image(name))

    def list(
        self,
        name: str | None = None,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> builtins.list[Image]:
        summaries = self.client.api.images(name=name, all=all, filters=filters)
        return [self.get(item["Id"]) for item in summaries]

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        all_tags: bool = False,
        **kwargs: Any,
    ) -> Image | builtins.list[Image]:
        """Pull and return the image; an error the daemon reports inside the stream is raised.

        docker-py drains the progress stream without looking at it, so a failed pull surfaces
        only later as a confusing "not found"; here the daemon's own message is raised.
        """
        repo, tag = pull_reference(repository, tag, all_tags)
        kwargs.pop("stream", None)
        kwargs.pop("decode", None)
        progress = self.client.api.pull(
            repo, tag=tag, stream=True, decode=True, all_tags=all_tags, **kwargs
        )
        _drain_pull(repository, progress)
        if all_tags:
            return self.list(repo)
        return self.get(pulled_name(repo, tag))

    def remove(self, image: str, force: bool = False, noprune: bool = False) -> None:
        self.client.api.remove_image(image, force=force, noprune=noprune)


def pull_item_error(reference: str, item: Any) -> APIError | None:
    """The error a pull progress message reports, if it reports one."""
    if isinstance(item, Mapping) and item.get("error"):
        detail = item.get("errorDetail") or {}
        message = detail.get("message") or item["error"]
        return APIError(f"pull of {reference} failed: {message}", explanation=message)
    return None


def pull_stream_error(reference: str, exc: StreamError) -> APIError:
    return APIError(f"pull of {reference} failed: {exc}", explanation=str(exc))


def pull_reference(repository: str, tag: str | None, all_tags: bool) -> tuple[str, str | None]:
    """The repository and tag ``images.pull`` asks for (``latest`` unless told otherwise)."""
    repo, found_tag = split_repository_tag(repository)
    tag = tag or found_tag
    if not tag and not all_tags:
        tag = "latest"
    return repo, tag


def pulled_name(repo: str, tag: str | None) -> str:
    """The reference to inspect after pulling ``repo`` at ``tag`` (a digest takes ``@``)."""
    separator = "@" if tag and tag.startswith("sha256:") else ":"
    return f"{repo}{separator}{tag}"


def pull_failed(image: str, exc: APIError) -> ImageNotFound:
    """What ``run()`` raises when the image is missing and pulling it failed."""
    reason = exc.explanation or str(exc)
    return ImageNotFound(
        f"image {image!r} is not present and pulling it failed: {reason}",
        response=exc.response,
        explanation=f"image {image!r} not found and could not be pulled: {reason}",
    )


def _drain_pull(reference: str, progress: Iterable[Any]) -> None:
    try:
        for item in progress:
            error = pull_item_error(reference, item)
            if error is not None:
                raise error
    except StreamError as exc:
        raise pull_stream_error(reference, exc) from exc


def pull_for_run(images: ImageCollection, image: str, platform: str | None) -> None:
    """Pull a missing image for ``run()``; any failure becomes :class:`ImageNotFound` naming it."""
    try:
        images.pull(image, platform=platform)
    except APIError as exc:
        raise pull_failed(image, exc) from exc
