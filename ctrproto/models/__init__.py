"""The docker-py style facade: ``DockerClient``, ``client.containers`` and ``client.images``."""

from .client import DockerClient, from_env
from .containers import Container, ContainerCollection, ExecOutput, ExecResult
from .images import Image, ImageCollection

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
