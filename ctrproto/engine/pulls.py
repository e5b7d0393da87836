"""Image references and pulls: what a pull asks for, and how its failures are reported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import APIError, ImageNotFound, StreamError


def split_repository_tag(name: str) -> tuple[str, str | None]:
    """``"host:5000/a/b:tag"`` -> ``("host:5000/a/b", "tag")``; a digest counts as the tag.

    As docker-py's ``parse_repository_tag``: the last ``@`` separates a digest; otherwise a colon
    separates a tag only after the last ``/`` (before it, it belongs to a registry port).
    """
    if "@" in name:
        repo, digest = name.rsplit("@", 1)
        return repo, digest
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, None
    return repo, tag


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


def pull_item_error(reference: str, item: Any) -> APIError | None:
    """The error a pull progress message reports, if it reports one."""
    if isinstance(item, Mapping) and item.get("error"):
        detail = item.get("errorDetail") or {}
        message = detail.get("message") or item["error"]
        return APIError(f"pull of {reference} failed: {message}", explanation=message)
    return None


def pull_stream_error(reference: str, exc: StreamError) -> APIError:
    return APIError(f"pull of {reference} failed: {exc}", explanation=str(exc))


def pull_failed(image: str, exc: APIError) -> ImageNotFound:
    """What ``run()`` raises when the image is missing and pulling it failed."""
    reason = exc.explanation or str(exc)
    return ImageNotFound(
        f"image {image!r} is not present and pulling it failed: {reason}",
        response=exc.response,
        explanation=f"image {image!r} not found and could not be pulled: {reason}",
    )
