"""ctrproto: a fast client for the Docker Engine API built on a sans-IO HTTP core.

Layers, lowest first - each imports only those below it:
``protocol`` (bytes in, events out) <- ``transport`` (streams) <- ``engine`` (the Engine API
without I/O) <- ``_backends`` (what differs per world) <- ``_async`` (both clients, written once
with async/await) -> ``_sync`` (generated from it by ``scripts/unasync``).  ``api``, ``models``
and ``aio`` are the public homes, re-exporting the clients.

:func:`install_as_docker` serves ctrproto under docker-py's module names.

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
    "install_as_docker",
    "types",
]


def install_as_docker() -> None:
    """Make ``import docker`` (and every public ``docker.*`` module path) resolve to ctrproto.

    PyMySQL's ``install_as_MySQLdb()`` pattern: call it once, before anything imports docker,
    and code written against docker-py 7.2 (testcontainers, for one) runs on ctrproto unchanged.
    It registers ctrproto's own modules in ``sys.modules`` (see :mod:`ctrproto.docker_compat`,
    whose ``MODULES`` lists them), whether or not docker-py is installed.  If docker-py was
    already imported, its entries are replaced and a ``DockerAlreadyImportedWarning`` is issued:
    names bound from it before the call keep referring to docker-py.  Idempotent.
    """
    from .docker_compat import install

    install()


def __getattr__(name: str) -> Any:
    if name in ("DockerClient", "from_env"):
        from ._sync import docker_client

        return getattr(docker_client, name)
    if name == "types":
        import importlib

        return importlib.import_module(".types", __name__)
    raise AttributeError(f"module 'ctrproto' has no attribute {name!r}")
