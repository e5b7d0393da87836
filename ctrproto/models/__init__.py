"""The docker-py style sync facade: ``DockerClient`` and its collections
(generated into ``ctrproto._sync`` from the asyncio source; this package only re-exports it)."""

from .._sync.containers import Container, ContainerCollection, ExecOutput, ExecResult
from .._sync.docker_client import DockerClient, from_env
from .._sync.images import Image, ImageCollection, RegistryData
from .._sync.networks import Network, NetworkCollection
from .._sync.volumes import Volume, VolumeCollection

__all__ = [
    "Container",
    "ContainerCollection",
    "DockerClient",
    "ExecOutput",
    "ExecResult",
    "Image",
    "ImageCollection",
    "Network",
    "NetworkCollection",
    "RegistryData",
    "Volume",
    "VolumeCollection",
    "from_env",
]
