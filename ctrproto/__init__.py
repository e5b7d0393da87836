"""ctrproto: a fast client for the Docker Engine API built on a sans-IO HTTP core.

Layers, lowest first - each imports only those below it:
``protocol`` (bytes in, events out) <- ``transport`` (streams) <- ``engine`` (the Engine API
without I/O) <- ``_backends`` (what differs per world) <- ``_async`` (both clients, written once
with async/await) -> ``_sync`` (generated from it by ``scripts/unasync``).  ``api``, ``models``
and ``aio`` are the public homes, re-exporting the clients.

The facade and ``types`` load on first use (PEP 562): a script that only needs the low-level
client, or a pipeline started often, does not pay for the keyword-conversion tables at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from ._version import __version__
from .api import APIClient
from .protocol.demux import IMPLEMENTATION as DEMUX_IMPLEMENTATION
from .transport.tls import TLSConfig

if TYPE_CHECKING:
    from . import types
    from ._sync.docker_client import DockerClient, from_env

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


def __getattr__(name: str) -> Any:
    if name in ("DockerClient", "from_env"):
        from ._sync import docker_client

        return getattr(docker_client, name)
    if name == "types":
        import importlib

        return importlib.import_module(".types", __name__)
    raise AttributeError(f"module 'ctrproto' has no attribute {name!r}")
