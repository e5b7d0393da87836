"""The ``docker`` namespace, and :func:`install` that makes ``import docker`` resolve to it.

After ``ctrproto.install_as_docker()`` (the PyMySQL ``install_as_MySQLdb()`` pattern),
``import docker`` is this module and every public docker-py module path (``docker.errors``,
``docker.types.containers``, ``docker.utils.socket``, ``docker.models.containers`` ...) is the
ctrproto module of the same job, listed in :data:`MODULES`.  Nothing is copied or wrapped: the
hook only registers the real ctrproto modules in ``sys.modules``, so
``docker.errors.NotFound is ctrproto.errors.NotFound`` and objects from either name are the same.

This module is the top level of docker-py (``APIClient``, ``DockerClient``, ``from_env``,
``from_context``, ``TLSConfig``, ``ContextAPI``, ``Context``, ``__version__`` and the submodules
as attributes).  It is separate from ``ctrproto`` itself because ``docker.__version__`` must be
docker-py's version (see :mod:`ctrproto.version`) while ``ctrproto.__version__`` stays ours.
Importing it loads every mapped module; ``import ctrproto`` alone does not.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from types import ModuleType

from . import (
    api,
    client,
    constants,
    context,
    errors,
    models,
    tls,
    types,
    utils,
    version,
)
from .client import DockerClient, from_context, from_env
from .context import Context, ContextAPI
from .tls import TLSConfig
from .version import __version__

#: docker module path -> the ctrproto module that serves it.
MODULES: dict[str, str] = {
    "docker.api": "ctrproto.api",
    "docker.api.client": "ctrproto.api.client",
    "docker.auth": "ctrproto.auth",
    "docker.client": "ctrproto.client",
    "docker.constants": "ctrproto.constants",
    "docker.context": "ctrproto.context",
    "docker.context.api": "ctrproto.context.api",
    "docker.context.config": "ctrproto.context.config",
    "docker.context.context": "ctrproto.context.context",
    "docker.errors": "ctrproto.errors",
    "docker.models": "ctrproto.models",
    "docker.models.containers": "ctrproto.models.containers",
    "docker.models.images": "ctrproto.models.images",
    "docker.models.networks": "ctrproto.models.networks",
    "docker.models.resource": "ctrproto.models.resource",
    "docker.models.volumes": "ctrproto.models.volumes",
    "docker.tls": "ctrproto.tls",
    "docker.types": "ctrproto.types",
    "docker.types.containers": "ctrproto.types.containers",
    "docker.types.daemon": "ctrproto.types.daemon",
    "docker.types.healthcheck": "ctrproto.types.healthcheck",
    "docker.types.networks": "ctrproto.types.networks",
    "docker.types.services": "ctrproto.types.services",
    "docker.utils": "ctrproto.utils",
    "docker.utils.build": "ctrproto.utils.build",
    "docker.utils.config": "ctrproto.utils.config",
    "docker.utils.decorators": "ctrproto.utils.decorators",
    "docker.utils.fnmatch": "ctrproto.utils.fnmatch",
    "docker.utils.json_stream": "ctrproto.utils.json_stream",
    "docker.utils.ports": "ctrproto.utils.ports",
    "docker.utils.proxy": "ctrproto.utils.proxy",
    "docker.utils.socket": "ctrproto.utils.socket",
    "docker.utils.utils": "ctrproto.utils.utils",
    "docker.version": "ctrproto.version",
}

__title__ = "docker"
#: A package with nowhere to search: ``import docker.<unmapped>`` (``docker.transport``,
#: ``docker.credentials``, swarm models ...) is a plain ``ModuleNotFoundError``, never a mix of
#: docker-py's code with ours.
__path__: list[str] = []

__all__ = [
    "APIClient",
    "Context",
    "ContextAPI",
    "DockerClient",
    "TLSConfig",
    "__version__",
    "api",
    "client",
    "constants",
    "context",
    "errors",
    "from_context",
    "from_env",
    "install",
    "models",
    "tls",
    "types",
    "utils",
    "version",
]

APIClient = api.APIClient


class DockerAlreadyImportedWarning(UserWarning):
    """docker-py was imported before :func:`install`; names bound from it earlier keep it."""


def _foreign(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and module is not sys.modules.get(MODULES.get(name, __name__))


def install() -> None:
    """Register this module as ``docker`` and the ctrproto modules under docker-py's paths.

    Works whether or not docker-py is installed.  If docker-py was already imported, its
    ``docker`` and ``docker.*`` entries are *replaced* (and the unmapped ones, such as
    ``docker.transport``, dropped so that no later import mixes the two), and a
    :class:`DockerAlreadyImportedWarning` says so: modules that already did ``import docker``
    or ``from docker.errors import NotFound`` keep docker-py's objects, which ctrproto's
    clients do not raise - so call the hook first, before importing code that uses docker.
    Calling it again is a no-op.
    """
    stale = sorted(name for name in sys.modules if name == "docker" or name.startswith("docker."))
    foreign = [name for name in stale if _foreign(name)]
    if foreign:
        warnings.warn(
            "docker-py was imported before ctrproto.install_as_docker(); its modules are "
            f"replaced ({', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}), but "
            "names imported from them earlier still refer to docker-py",
            DockerAlreadyImportedWarning,
            stacklevel=3,
        )
        for name in foreign:
            del sys.modules[name]
    sys.modules["docker"] = sys.modules[__name__]
    for docker_name, ours in MODULES.items():
        module: ModuleType = importlib.import_module(ours)
        sys.modules[docker_name] = module
        parent, _, child = docker_name.rpartition(".")
        if parent == "docker" and not hasattr(sys.modules[__name__], child):
            setattr(sys.modules[__name__], child, module)
