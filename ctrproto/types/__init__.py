"""Typed helpers for the structured arguments: ulimits, log config, mounts, checks, networks...

Each class is a ``dict`` that already holds the Engine API's JSON form, so an instance can be put
straight into a request body, compared with a plain dict, or passed where docker-py code passes
its own ``docker.types`` objects.  The constructors take docker-py's parameter names (and, where
docker-py does, the Engine's CamelCase names too, so that a dict read back from ``inspect`` can be
fed to them) and check values early: a wrong value raises :class:`~ctrproto.errors.InvalidArgument`
naming the parameter instead of a 400 from the daemon after a round trip.

The submodules follow docker-py's ``docker.types`` layout (``containers``, ``healthcheck``,
``networks``, ``services``, ``daemon``) so that ``docker.types.containers`` and friends can be
served by them; everything is re-exported here.  The package is pure data (layer 3): besides the
standard library it imports only the error hierarchy and the I/O-free value parsers of
:mod:`ctrproto.engine.utils`.
"""

from __future__ import annotations

from .containers import DeviceRequest, LogConfig, LogConfigTypesEnum, Ulimit
from .daemon import CancellableStream
from .healthcheck import Duration, Healthcheck
from .networks import EndpointConfig, IPAMConfig, IPAMPool, NetworkingConfig, normalize_links
from .services import Mount, RestartConditionTypesEnum, RestartPolicy

__all__ = [
    "CancellableStream",
    "DeviceRequest",
    "Duration",
    "EndpointConfig",
    "Healthcheck",
    "IPAMConfig",
    "IPAMPool",
    "LogConfig",
    "LogConfigTypesEnum",
    "Mount",
    "NetworkingConfig",
    "RestartConditionTypesEnum",
    "RestartPolicy",
    "Ulimit",
    "normalize_links",
]
