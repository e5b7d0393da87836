"""asyncio clients on the same sans-IO core: ``AsyncAPIClient`` and ``AsyncDockerClient``.

Only I/O lives here - asyncio transports, a pool, the driver that feeds ``ClientCycle`` - and thin
facades; requests come from :mod:`ctrproto.engine.endpoints` and every decoder (HTTP framing,
demuxer, JSON streams) from :mod:`ctrproto.protocol`, exactly as the sync client uses them.
"""

from .api import AsyncAPIClient
from .client import AsyncDockerClient
from .containers import AsyncContainer, AsyncContainerCollection
from .hijack import AsyncHijackedSocket

__all__ = [
    "AsyncAPIClient",
    "AsyncContainer",
    "AsyncContainerCollection",
    "AsyncDockerClient",
    "AsyncHijackedSocket",
]
