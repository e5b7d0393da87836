"""``AsyncDockerClient``: the docker-py style entry point for asyncio, over one AsyncAPIClient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.base import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT
from ..engine.create_config import select_proxy_config
from ..models.client import config_proxies, kwargs_from_environment
from .api import AsyncAPIClient
from .containers import AsyncContainerCollection
from .images import AsyncImageCollection


class AsyncDockerClient:
    """A client for a Docker daemon from one event loop; the low-level client is ``.api``.

    Arguments are :class:`AsyncAPIClient`'s (the same as ``DockerClient``'s).  Use it as an async
    context manager, or ``await client.close()``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.api = AsyncAPIClient(*args, **kwargs)
        self._proxy_config: Mapping[str, str] | None = None

    @classmethod
    def from_env(
        cls,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        environment: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AsyncDockerClient:
        """Configured from ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``."""
        options = kwargs_from_environment(environment)
        options.update(kwargs)
        return cls(version=version, timeout=timeout, max_pool_size=max_pool_size, **options)

    @property
    def containers(self) -> AsyncContainerCollection:
        return AsyncContainerCollection(self)

    @property
    def images(self) -> AsyncImageCollection:
        return AsyncImageCollection(self)

    def proxy_config(self) -> Mapping[str, str]:
        """This daemon's ``proxies`` entry of the docker CLI's config.json (read once)."""
        if self._proxy_config is None:
            self._proxy_config = select_proxy_config(config_proxies(), self.api.base_url)
        return self._proxy_config

    async def ping(self) -> bool:
        return await self.api.ping()

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        return await self.api.version(api_version)

    async def info(self) -> dict[str, Any]:
        return await self.api.info()

    async def close(self) -> None:
        """Close the pooled connections."""
        self.api.close()

    async def __aenter__(self) -> AsyncDockerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.api.base_url}>"
