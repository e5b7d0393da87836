"""``DockerClient``: the docker-py style entry point over one low-level client (``.api``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..config import context_kwargs, current_context_name, kwargs_from_env
from ..engine.defaults import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT
from .api_client import AsyncAPIClient
from .cancellable import AsyncCancellableStream
from .containers import AsyncContainerCollection
from .images import AsyncImageCollection
from .networks import AsyncNetworkCollection
from .volumes import AsyncVolumeCollection

__all__ = ["AsyncDockerClient", "from_context", "from_env"]


class AsyncDockerClient:
    """A client for a Docker daemon; the low-level client is ``.api``.

    Every argument goes to the low-level client, so ``base_url``, ``version`` (``"auto"``/``None``
    negotiates), ``timeout`` and ``tls`` mean the same as there.  Use it as a context manager,
    or call :meth:`close`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.api = AsyncAPIClient(*args, **kwargs)

    @classmethod
    def from_env(
        cls,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        environment: Mapping[str, str] | None = None,
        use_ssh_client: bool = False,
        **kwargs: Any,
    ) -> AsyncDockerClient:
        """A client configured from ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``
        and the docker CLI's contexts (``ctrproto.config.kwargs_from_env``); explicit keywords
        win over what it finds."""
        options = kwargs_from_env(environment=environment)
        options.update(kwargs)
        return cls(
            version=version,
            timeout=timeout,
            max_pool_size=max_pool_size,
            use_ssh_client=use_ssh_client,
            **options,
        )

    @classmethod
    def from_context(
        cls,
        name: str | None = None,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        use_ssh_client: bool = False,
        **kwargs: Any,
    ) -> AsyncDockerClient:
        """A client for the docker CLI context ``name``; with ``None`` the current one
        (``DOCKER_CONTEXT``, then config.json's ``currentContext``, then ``default``), as
        docker-py 7.2's.  ``DOCKER_HOST`` is not consulted; explicit keywords win."""
        options = context_kwargs(name or current_context_name(os.environ), os.environ)
        options.update(kwargs)
        return cls(
            version=version,
            timeout=timeout,
            max_pool_size=max_pool_size,
            use_ssh_client=use_ssh_client,
            **options,
        )

    # ------------------------------------------------------------------ collections

    @property
    def containers(self) -> AsyncContainerCollection:
        """Run and manage containers (``client.containers.run(...)``)."""
        return AsyncContainerCollection(client=self)

    @property
    def images(self) -> AsyncImageCollection:
        """Inspect, list, pull and remove images."""
        return AsyncImageCollection(client=self)

    @property
    def networks(self) -> AsyncNetworkCollection:
        """Create, list, connect and remove networks."""
        return AsyncNetworkCollection(client=self)

    @property
    def volumes(self) -> AsyncVolumeCollection:
        """Create, list and remove volumes."""
        return AsyncVolumeCollection(client=self)

    def proxy_config(self) -> Mapping[str, str]:
        """This daemon's entry of ``proxies`` in the docker CLI's config.json (read once, by
        the low-level client: its ``_proxy_configs``).

        ``run()``/``create()`` inject it into the container's environment unless
        ``use_config_proxy=False``, as docker-py does.
        """
        return self.api._proxy_entry

    # ------------------------------------------------------------------ daemon

    async def ping(self) -> bool:
        return await self.api.ping()

    async def events(self, *args: Any, **kwargs: Any) -> AsyncCancellableStream[Any]:
        """The daemon's events; the arguments of :meth:`AsyncAPIClient.events`."""
        return await self.api.events(*args, **kwargs)

    async def df(self) -> dict[str, Any]:
        """Disk usage of images, containers, volumes and build cache."""
        return await self.api.df()

    async def login(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Check and keep registry credentials; the arguments of
        :meth:`AsyncAPIClient.login`."""
        return await self.api.login(*args, **kwargs)

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        return await self.api.version(api_version)

    async def info(self) -> dict[str, Any]:
        return await self.api.info()

    async def close(self) -> None:
        """Close the pooled connections."""
        await self.api.aclose()

    async def __aenter__(self) -> AsyncDockerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.api.daemon_url}>"


def from_env(**kwargs: Any) -> AsyncDockerClient:
    """Module-level shortcut for :meth:`AsyncDockerClient.from_env`, as ``docker.from_env``."""
    return AsyncDockerClient.from_env(**kwargs)


def from_context(name: str | None = None, **kwargs: Any) -> AsyncDockerClient:
    """Module-level shortcut for :meth:`AsyncDockerClient.from_context`, as
    ``docker.from_context``."""
    return AsyncDockerClient.from_context(name, **kwargs)
