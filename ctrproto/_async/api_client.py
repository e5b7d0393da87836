"""``AsyncAPIClient``: the low-level client, one method per Engine API endpoint."""

from __future__ import annotations

from .endpoints_container_io import AsyncContainerIOMixin
from .endpoints_containers import AsyncContainerApiMixin
from .endpoints_exec import AsyncExecApiMixin
from .endpoints_images import AsyncImageApiMixin
from .endpoints_networks import AsyncNetworkApiMixin
from .endpoints_system import AsyncSystemApiMixin
from .endpoints_volumes import AsyncVolumeApiMixin


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

    async def __aenter__(self) -> AsyncAPIClient:
        return self
