"""Image endpoints beyond the basics (build, save/load, import, push, search, history, prune,
distribution) as :class:`~ctrproto.engine.endpoints.Call` values, with docker-py 7.2's checks.

Uploads (a build context, a saved image, an imported tarball) travel as a streamed body and take
no request timeout: the daemon answers only once it has read and processed the whole body, and
how long that takes depends on its size, not on the daemon being stuck.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DockerException, InvalidArgument
from ..protocol.request import path
from .endpoints import Call, check_resource, encode_auth, require_version
from .pulls import split_repository_tag
from .utils import convert_filters

#: The keys ``build(container_limits=)`` accepts (docker-py's ``CONTAINER_LIMITS_KEYS``).
CONTAINER_LIMITS_KEYS = ("memory", "memswap", "cpushares", "cpusetcpus")
#: Remote build contexts: the daemon fetches them itself.
REMOTE_PREFIXES = ("http://", "https://", "git://", "github.com/", "git@")
#: The Docker Hub names a registry credential may be stored under (docker-py's ``auth``).
INDEX_NAME = "docker.io"
INDEX_URL = f"https://index.{INDEX_NAME}/v1/"

_BUILT = re.compile(r"(^Successfully built |sha256:)([0-9a-f]+)$")
_LOADED = re.compile(r"(^Loaded image ID: |^Loaded image: )(.+)$")


def _json_param(value: Any) -> str:
    return json.dumps(value)


def build(
    api_version: str,
    *,
    tag: str | None = None,
    quiet: bool = False,
    nocache: bool = False,
    rm: bool = False,
    forcerm: bool = False,
    pull: bool = False,
    dockerfile: str | None = None,
    container_limits: Mapping[str, Any] | None = None,
    buildargs: Mapping[str, Any] | None = None,
    shmsize: int | None = None,
    labels: Mapping[str, str] | None = None,
    cache_from: Sequence[str] | None = None,
    target: str | None = None,
    network_mode: str | None = None,
    squash: bool | None = None,
    extra_hosts: Mapping[str, str] | Sequence[str] | None = None,
    platform: str | None = None,
    isolation: str | None = None,
    remote: str | None = None,
    has_context: bool = True,
    encoding: str | None = None,
    timeout: float | None = None,
    registry_config: Mapping[str, Any] | None = None,
) -> Call[None]:
    """POST /build.  ``timeout`` bounds the whole exchange as docker-py's: ``None`` (its default)
    waits as long as the build runs; a silent ``RUN`` step may take minutes."""
    params: dict[str, Any] = {
        "t": tag,
        "remote": remote,
        "q": quiet,
        "nocache": nocache,
        "rm": rm,
        "forcerm": forcerm,
        "pull": pull,
        "dockerfile": dockerfile,
    }
    params.update(container_limits or {})
    if buildargs:
        params["buildargs"] = _json_param(dict(buildargs))
    if shmsize:
        require_version(api_version, "1.22", "build(shmsize=...)")
        params["shmsize"] = shmsize
    if labels:
        require_version(api_version, "1.23", "build(labels=...)")
        params["labels"] = _json_param(dict(labels))
    if cache_from:
        require_version(api_version, "1.25", "build(cache_from=...)")
        params["cachefrom"] = _json_param(list(cache_from))
    if target:
        require_version(api_version, "1.29", "build(target=...)")
        params["target"] = target
    if network_mode:
        require_version(api_version, "1.25", "build(network_mode=...)")
        params["networkmode"] = network_mode
    if squash:
        require_version(api_version, "1.25", "build(squash=...)")
        params["squash"] = squash
    if extra_hosts is not None:
        require_version(api_version, "1.27", "build(extra_hosts=...)")
        if isinstance(extra_hosts, Mapping):
            extra_hosts = [f"{k}:{v}" for k, v in sorted(extra_hosts.items())]
        params["extrahosts"] = list(extra_hosts)
    if platform is not None:
        require_version(api_version, "1.32", "build(platform=...)")
        params["platform"] = platform
    if isolation is not None:
        require_version(api_version, "1.24", "build(isolation=...)")
        params["isolation"] = isolation
    headers: dict[str, str] = {}
    if has_context:
        headers["Content-Type"] = "application/tar"
        if encoding:
            headers["Content-Encoding"] = encoding
    if registry_config:
        headers["X-Registry-Config"] = encode_auth(registry_config)
    return Call(
        "POST",
        "/build",
        params=params,
        headers=headers or None,
        streamed_body=has_context,
        timeout=timeout,
        stream_timeout=timeout,
    )


def check_build_arguments(
    path_: str | None,
    fileobj: Any,
    gzip: bool,
    encoding: str | None,
    tag: str | None,
    container_limits: Mapping[str, Any] | None,
    custom_context: bool,
) -> None:
    """docker-py's argument checks, made before anything is read or sent."""
    if path_ is None and fileobj is None:
        raise TypeError("Either path or fileobj needs to be provided.")
    if gzip and encoding is not None:
        raise DockerException("Can not use custom encoding if gzip is enabled")
    if tag is not None:
        from .build_rules import match_tag

        if not match_tag(tag):
            raise DockerException(f"invalid tag '{tag}': invalid reference format")
    for key in container_limits or {}:
        if key not in CONTAINER_LIMITS_KEYS:
            raise DockerException(f"invalid container_limits key {key!r}")
    if custom_context and not fileobj:
        raise TypeError("You must specify fileobj with custom_context")


def registry_config(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The ``X-Registry-Config`` value: every credential, Docker Hub's under its URL too."""
    data = dict(credentials)
    if INDEX_URL not in data and INDEX_NAME in data:
        data[INDEX_URL] = data[INDEX_NAME]
    return data


def built_image_id(item: Any) -> str | None:
    """The image id a build progress item announces (``Successfully built`` or an aux id)."""
    if isinstance(item, Mapping) and "stream" in item:
        match = _BUILT.search(str(item["stream"]))
        if match:
            return match.group(2)
    return None


def loaded_image_name(item: Any) -> str | None:
    """The image a load progress item announces (``Loaded image: name`` or ``... ID: id``)."""
    if isinstance(item, Mapping) and "stream" in item:
        match = _LOADED.search(str(item["stream"]))
        if match:
            return match.group(2)
    return None


# ---------------------------------------------------------------------- save / load / import


def get_image(image: Any) -> Call[None]:
    """The image as a tar stream (``docker save``); no per-read timeout, as docker-py."""
    return Call(
        "GET",
        path("/images/{}/get", check_resource(image, "image")),
        image_request=True,
        stream_timeout=None,
    )


def load_image(api_version: str, quiet: bool | None = None) -> Call[None]:
    params: dict[str, Any] = {}
    if quiet is not None:
        require_version(api_version, "1.23", "load_image(quiet=...)")
        params["quiet"] = quiet
    return Call(
        "POST",
        "/images/load",
        params=params,
        headers={"Content-Type": "application/x-tar"},
        streamed_body=True,
        timeout=None,
    )


def import_params(
    repository: str | None,
    tag: str | None,
    image: str | None = None,
    src: str | None = None,
    changes: Sequence[str] | None = None,
    src_is_file: bool = False,
) -> dict[str, Any]:
    """``fromImage`` for an image, ``fromSrc`` a URL, or ``-`` for a body the client sends."""
    params: dict[str, Any] = {"repo": repository, "tag": tag}
    if image:
        params["fromImage"] = image
    elif src and not src_is_file:
        params["fromSrc"] = src
    else:
        params["fromSrc"] = "-"
    if changes:
        params["changes"] = list(changes) if not isinstance(changes, str) else changes
    return params


def import_image(params: Mapping[str, Any], with_body: bool) -> Call[None]:
    """POST /images/create for an import; its answer is the progress text (docker-py returns
    it undecoded)."""
    if not with_body:
        return Call("POST", "/images/create", params=params)
    return Call(
        "POST",
        "/images/create",
        params=params,
        headers={"Content-Type": "application/tar"},
        streamed_body=True,
        timeout=None,
    )


def check_import_source(src: Any, image: str | None) -> None:
    if not (src or image):
        raise DockerException("Must specify src or image to import from")


# ---------------------------------------------------------------------- registry


def auth_header(auth_config: Mapping[str, Any] | None) -> dict[str, str] | None:
    return {"X-Registry-Auth": encode_auth(auth_config)} if auth_config else None


def push(
    repository: str, tag: str | None = None, auth_config: Mapping[str, Any] | None = None
) -> Call[None]:
    """POST /images/{name}/push; a push runs as long as the upload takes (no timeout)."""
    if not tag:
        repository, tag = split_repository_tag(repository)
    return Call(
        "POST",
        path("/images/{}/push", repository),
        params={"tag": tag},
        json={},
        headers=auth_header(auth_config),
        image_request=True,
        timeout=None,
        stream_timeout=None,
    )


def inspect_distribution(
    api_version: str, image: Any, auth_config: Mapping[str, Any] | None = None
) -> Call[dict[str, Any]]:
    require_version(api_version, "1.30", "inspect_distribution")
    return Call(
        "GET",
        path("/distribution/{}/json", check_resource(image, "image")),
        headers=auth_header(auth_config),
    )


def search(term: str, limit: int | None = None) -> Call[list[dict[str, Any]]]:
    params: dict[str, Any] = {"term": term}
    if limit is not None:
        params["limit"] = limit
    return Call("GET", "/images/search", params=params)


# ---------------------------------------------------------------------- local images


def history(image: Any) -> Call[list[dict[str, Any]]]:
    return Call(
        "GET", path("/images/{}/history", check_resource(image, "image")), image_request=True
    )


def prune_images(
    api_version: str, filters: Mapping[str, Any] | None = None
) -> Call[dict[str, Any]]:
    """Delete unused images; answers ``ImagesDeleted`` and ``SpaceReclaimed``."""
    require_version(api_version, "1.25", "prune_images")
    params = {"filters": convert_filters(filters)} if filters is not None else None
    return Call("POST", "/images/prune", params=params)


def prune_builds(
    api_version: str,
    filters: Mapping[str, Any] | None = None,
    keep_storage: int | None = None,
    all: bool | None = None,
) -> Call[dict[str, Any]]:
    """Delete the builder cache; answers ``CachesDeleted`` and ``SpaceReclaimed``.  Its
    options came in API 1.39 (docker-py's checks)."""
    require_version(api_version, "1.31", "prune_builds")
    if (filters, keep_storage, all) != (None, None, None):
        require_version(api_version, "1.39", "prune_builds(filters, keep_storage, all)")
    params: dict[str, Any] = {}
    if filters is not None:
        params["filters"] = convert_filters(filters)
    if keep_storage is not None:
        params["keep-storage"] = keep_storage
    if all is not None:
        params["all"] = all
    return Call("POST", "/build/prune", params=params)


# ---------------------------------------------------------------------- the facade's rules


def save_reference(image_id: str, tags: Sequence[str], named: bool | str) -> str:
    """What ``Image.save(named=)`` asks the daemon for: the id, the first tag, or a given tag."""
    if not named:
        return image_id
    if isinstance(named, str):
        if named not in tags:
            raise InvalidArgument(f"{named} is not a valid tag for this image")
        return named
    return tags[0] if tags else image_id


def parse_platform(platform: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``os[/arch[/variant]]`` as the dict the distribution answer lists."""
    if not platform or isinstance(platform, Mapping):
        return dict(platform) if platform else None
    parts = platform.split("/")
    if len(parts) > 3 or len(parts) < 1:
        raise InvalidArgument(f'"{platform}" is not a valid platform descriptor')
    result: dict[str, Any] = {"os": parts[0]}
    if len(parts) > 2:
        result["variant"] = parts[2]
    if len(parts) > 1:
        result["architecture"] = parts[1]
    return result


def normalize_platform(
    platform: Mapping[str, Any] | None, engine_version: Mapping[str, Any]
) -> dict[str, Any]:
    """The platform with the daemon's own ``Os``/``Arch`` filled in where it names none."""
    result = dict(platform or {})
    result.setdefault("os", engine_version["Os"])
    result.setdefault("architecture", engine_version["Arch"])
    return result


__all__ = [
    "CONTAINER_LIMITS_KEYS",
    "REMOTE_PREFIXES",
    "auth_header",
    "build",
    "built_image_id",
    "check_build_arguments",
    "check_import_source",
    "get_image",
    "history",
    "import_image",
    "import_params",
    "inspect_distribution",
    "load_image",
    "loaded_image_name",
    "normalize_platform",
    "parse_platform",
    "prune_images",
    "push",
    "registry_config",
    "save_reference",
    "search",
]
