"""``DockerClient``: the docker-py style entry point over one low-level :class:`APIClient`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ..api import APIClient
from ..api.base import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT
from ..engine.create_config import select_proxy_config
from .containers import ContainerCollection
from .images import ImageCollection

__all__ = ["DockerClient", "config_proxies", "from_env", "kwargs_from_environment"]


class DockerClient:
    """A client for a Docker daemon; the low-level client is ``.api``.

    Every argument goes to :class:`~ctrproto.api.APIClient`, so ``base_url``, ``version``
    (``"auto"``/``None`` negotiates), ``timeout`` and ``tls`` mean the same as there.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.api = APIClient(*args, **kwargs)
        self._proxy_config: Mapping[str, str] | None = None

    @classmethod
    def from_env(
        cls,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        environment: Mapping[str, str] | None = None,
        use_ssh_client: bool = False,
        **kwargs: Any,
    ) -> DockerClient:
        """A client configured from ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``.

        The environment is read by ``ctrproto.config.kwargs_from_env``; explicit keywords win
        over what it finds.
        """
        options = kwargs_from_environment(environment)
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
    def containers(self) -> ContainerCollection:
        """Run and manage containers (``client.containers.run(...)``)."""
        return ContainerCollection(client=self)

    @property
    def images(self) -> ImageCollection:
        """Inspect, list, pull and remove images."""
        return ImageCollection(client=self)

    def proxy_config(self) -> Mapping[str, str]:
        """This daemon's entry of ``proxies`` in the docker CLI's config.json (read once).

        ``run()``/``create()`` inject it into the container's environment unless
        ``use_config_proxy=False``, as docker-py does.
        """
        if self._proxy_config is None:
            self._proxy_config = select_proxy_config(config_proxies(), self.api.base_url)
        return self._proxy_config

    # ------------------------------------------------------------------ daemon

    def ping(self) -> bool:
        return self.api.ping()

    def version(self, api_version: bool = True) -> dict[str, Any]:
        return self.api.version(api_version)

    def info(self) -> dict[str, Any]:
        return self.api.info()

    def close(self) -> None:
        """Close the pooled connections."""
        self.api.close()

    def __enter__(self) -> DockerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.api.base_url}>"


def kwargs_from_environment(environment: Mapping[str, str] | None) -> dict[str, Any]:
    """The environment parser of ``ctrproto.config``, or ``DOCKER_HOST`` alone while it is absent.

    The import is deferred because the config module is developed separately; without it only
    the address is honoured (no TLS variables), which is stated in the report/README.
    """
    try:
        from ..config import kwargs_from_env
    except ImportError:
        env = os.environ if environment is None else environment
        host = env.get("DOCKER_HOST")
        return {"base_url": host} if host else {}
    result: dict[str, Any] = dict(kwargs_from_env(environment=environment))
    return result


def config_proxies() -> Mapping[str, Any] | None:
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(directory, "config.json"), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None  # no readable config: no proxies, as the CLI behaves
    proxies = data.get("proxies") if isinstance(data, dict) else None
    return proxies if isinstance(proxies, Mapping) else None


def from_env(**kwargs: Any) -> DockerClient:
    """Module-level shortcut for :meth:`DockerClient.from_env`, as ``docker.from_env``."""
    return DockerClient.from_env(**kwargs)
