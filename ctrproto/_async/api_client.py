"""``AsyncAPIClient``: the low-level client, one method per Engine API endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .endpoints_container_io import AsyncContainerIOMixin
from .endpoints_containers import AsyncContainerApiMixin
from .endpoints_exec import AsyncExecApiMixin
from .endpoints_images import AsyncImageApiMixin
from .endpoints_networks import AsyncNetworkApiMixin
from .endpoints_system import AsyncSystemApiMixin
from .endpoints_volumes import AsyncVolumeApiMixin
from .hijacked_socket import AsyncHijackedSocket


class AsyncAPIClient(
    AsyncContainerApiMixin,
    AsyncContainerIOMixin,
    AsyncExecApiMixin,
    AsyncImageApiMixin,
    AsyncNetworkApiMixin,
    AsyncSystemApiMixin,
    AsyncVolumeApiMixin,
):
    """Talks to one daemon; share one instance (across threads in the sync world, across the
    tasks of one event loop under asyncio).

    ``base_url`` takes the same forms as ``DOCKER_HOST``; ``version`` is ``"auto"`` (negotiate
    once with the daemon, the default) or an explicit ``"1.41"``; ``timeout`` bounds connecting
    and each read of an ordinary request (streams that follow output are not cut by it).
    """

    async def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> AsyncHijackedSocket:
        """The hijacked attach connection: read output, write stdin, half-close it for EOF.

        ``params`` defaults to stdout, stderr and stream; add ``stdin=1`` to write.  Without a
        ``detachKeys`` entry the CLI config's ``detachKeys`` is sent, as docker-py does.
        """
        query = dict(params) if params is not None else {"stdout": 1, "stderr": 1, "stream": 1}
        if "detachKeys" not in query and "detachKeys" in self._general_configs:
            query["detachKeys"] = self._general_configs["detachKeys"]
        return await super().attach_socket(container, query or None, ws)

    async def __aenter__(self) -> AsyncAPIClient:
        return self
