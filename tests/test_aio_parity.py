"""The async clients must not drift from the sync ones: same method names, same parameters.

Where an async method spells its parameters out, they must be the sync method's, in order; where
it forwards ``*args, **kwargs`` to a shared builder of :mod:`ctrproto.engine.endpoints`, the
builder's parameters must be the sync method's (so the same call works on both clients).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from ctrproto import APIClient
from ctrproto.aio import AsyncAPIClient, AsyncContainer, AsyncContainerCollection
from ctrproto.engine import endpoints
from ctrproto.models import Container
from ctrproto.models.containers import ContainerCollection

API_METHODS = [
    "ping", "version", "info", "containers", "inspect_container", "create_container",
    "create_container_from_config", "start", "stop", "restart", "kill", "wait",
    "remove_container", "logs", "attach_socket", "stats", "exec_create", "exec_inspect",
    "exec_start", "images", "inspect_image", "pull",
    "commit", "diff", "top", "pause", "unpause", "rename", "resize", "update_container",
    "prune_containers", "export", "get_archive", "archive_stat", "put_archive", "attach",
    "exec_resize", "remove_image", "tag",
]
CONTAINER_METHODS = [
    "logs", "stats", "attach_socket", "exec_run", "start", "stop", "kill", "wait", "remove",
    "reload", "commit", "diff", "top", "pause", "unpause", "rename", "resize", "restart",
    "update", "export", "get_archive", "put_archive", "attach",
]
CONTAINER_PROPERTIES = ["id", "short_id", "name", "labels", "status", "image", "health", "ports"]


def _params(func: Callable[..., Any], skip: int = 1) -> list[str]:
    return [
        p.name
        for p in list(inspect.signature(func).parameters.values())[skip:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _forwards(func: Callable[..., Any]) -> bool:
    kinds = {p.kind for p in inspect.signature(func).parameters.values()}
    return inspect.Parameter.VAR_KEYWORD in kinds


@pytest.mark.parametrize("name", API_METHODS)
def test_api_method_parameters_match(name: str) -> None:
    sync = getattr(APIClient, name)
    aio = getattr(AsyncAPIClient, name)
    assert inspect.iscoroutinefunction(aio)
    if not _forwards(aio) or name in ("start",):
        assert _params(aio) == _params(sync)
        return
    explicit = _params(aio)
    assert _params(sync)[: len(explicit)] == explicit
    builder = getattr(endpoints, name)
    built = _params(builder, skip=0)
    if built and built[0] == "api_version":
        built = built[1:]
    if name == "create_container":
        return  # the builder takes the keywords as **kwargs: create_config checks them
    assert built == _params(sync)[: len(built)]
    assert set(_params(sync)) - set(built) <= {"stream", "demux"}


@pytest.mark.parametrize("name", CONTAINER_METHODS)
def test_container_methods_exist(name: str) -> None:
    assert callable(getattr(Container, name))
    assert callable(getattr(AsyncContainer, name))


@pytest.mark.parametrize("name", CONTAINER_METHODS)
def test_container_method_parameters_match(name: str) -> None:
    """Where both facades spell parameters out, they are the same; forwarding ones pass the
    sync keywords through to the (already checked) API method."""
    sync = getattr(Container, name)
    aio = getattr(AsyncContainer, name)
    if _forwards(sync) or _forwards(aio):
        assert _params(aio) == _params(sync)[: len(_params(aio))]
        return
    assert _params(aio) == _params(sync)


@pytest.mark.parametrize("name", CONTAINER_PROPERTIES)
def test_container_properties_exist(name: str) -> None:
    assert isinstance(inspect.getattr_static(Container, name), property)
    assert isinstance(inspect.getattr_static(AsyncContainer, name), property)


@pytest.mark.parametrize("name", ["run", "create", "get", "list", "prune"])
def test_collection_methods_match(name: str) -> None:
    aio = getattr(AsyncContainerCollection, name)
    assert inspect.iscoroutinefunction(aio)
    assert _params(aio) == _params(getattr(ContainerCollection, name))
