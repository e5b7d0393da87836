"""The asyncio clients: ``AsyncAPIClient`` and the facade ``AsyncDockerClient``.

They are the one source of both worlds (``ctrproto._async``; the sync client is generated from
it), on the same sans-IO core; this package only re-exports them.
"""

from .._async.api_client import AsyncAPIClient
from .._async.containers import (
    AsyncContainer,
    AsyncContainerCollection,
    AsyncExecOutput,
    ExecResult,
)
from .._async.docker_client import AsyncDockerClient, from_env
from .._async.hijacked_socket import AsyncHijackedSocket
from .._async.images import AsyncImage, AsyncImageCollection, AsyncRegistryData
from .._async.networks import AsyncNetwork, AsyncNetworkCollection
from .._async.volumes import AsyncVolume, AsyncVolumeCollection

__all__ = [
    "AsyncAPIClient",
    "AsyncContainer",
    "AsyncContainerCollection",
    "AsyncDockerClient",
    "AsyncExecOutput",
    "AsyncHijackedSocket",
    "AsyncImage",
    "AsyncImageCollection",
    "AsyncNetwork",
    "AsyncNetworkCollection",
    "AsyncRegistryData",
    "AsyncVolume",
    "AsyncVolumeCollection",
    "ExecResult",
    "from_env",
]
