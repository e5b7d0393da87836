"""The docker-py style sync facade: ``DockerClient``, ``client.containers`` and ``client.images``
(generated into ``ctrproto._sync`` from the asyncio source; this package only re-exports it)."""

from .._sync.containers import Container, ContainerCollection, ExecOutput, ExecResult
from .._sync.docker_client import DockerClient, from_env
from .._sync.images import Image, ImageCollection

__all__ = [
    "Container",
    "ContainerCollection",
    "DockerClient",
    "ExecOutput",
    "ExecResult",
    "Image",
    "ImageCollection",
    "from_env",
]
