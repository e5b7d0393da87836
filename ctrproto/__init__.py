"""ctrproto: a fast client for the Docker Engine API built on a sans-IO HTTP core.

Layers, lowest first - each imports only those below it:
``protocol`` (bytes in, events out) <- ``transport`` (streams) <- ``api`` (``APIClient``) <-
``models`` (``DockerClient`` and the containers facade).
"""

from . import errors, types
from ._version import __version__
from .api import APIClient
from .models.client import DockerClient, from_env
from .protocol.demux import IMPLEMENTATION as DEMUX_IMPLEMENTATION
from .transport.tls import TLSConfig

__all__ = [
    "APIClient",
    "DEMUX_IMPLEMENTATION",
    "DockerClient",
    "TLSConfig",
    "__version__",
    "errors",
    "from_env",
    "types",
]
