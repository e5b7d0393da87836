"""``docker.constants``: docker-py's module-level constants, with ctrproto's own values.

Where ctrproto has the setting (API versions, timeouts, pool and chunk sizes, the default
socket, the ``User-Agent`` it sends) the value here is ctrproto's, so that code reading it learns
what this client really does; the rest are docker-py's facts.  ``DEFAULT_USER_AGENT`` is the one
ctrproto sends (``ctrproto/<version>``), not docker-py's.  ``BYTE_UNITS`` is the table
:func:`ctrproto.utils.parse_bytes` uses: docker-py's ``b``/``k``/``m``/``g`` plus ``t`` and ``p``.
"""

from __future__ import annotations

import sys

from .engine import defaults
from .engine.utils import BYTE_UNITS as _BYTE_UNITS
from .engine.versions import MAX_API_VERSION, MIN_API_VERSION
from .protocol.demux_py import HEADER_SIZE
from .protocol.request import DEFAULT_USER_AGENT
from .transport.unix import DEFAULT_UNIX_SOCKET as _SOCKET_PATH

#: The Engine API version asked for when none is given (the newest this client implements).
DEFAULT_DOCKER_API_VERSION = MAX_API_VERSION
#: The oldest Engine API version this client drives.
MINIMUM_DOCKER_API_VERSION = MIN_API_VERSION
DEFAULT_TIMEOUT_SECONDS = int(defaults.DEFAULT_TIMEOUT)
#: Bytes of a multiplexed-stream frame header (``[stream][0 0 0][uint32 size]``).
STREAM_HEADER_SIZE_BYTES = HEADER_SIZE
#: The keys of a build's ``container_limits``.
CONTAINER_LIMITS_KEYS = ["memory", "memswap", "cpushares", "cpusetcpus"]

DEFAULT_HTTP_HOST = "127.0.0.1"
#: docker-py spells the local socket with its ``requests`` scheme; ``base_url`` takes either.
DEFAULT_UNIX_SOCKET = f"http+unix://{_SOCKET_PATH}"
DEFAULT_NPIPE = "npipe:////./pipe/docker_engine"

BYTE_UNITS = dict(_BYTE_UNITS)

INSECURE_REGISTRY_DEPRECATION_WARNING = (
    "The `insecure_registry` argument to {} is deprecated and non-functional. Please remove it."
)

IS_WINDOWS_PLATFORM = sys.platform == "win32"
WINDOWS_LONGPATH_PREFIX = "\\\\?\\"

__all__ = [
    "BYTE_UNITS",
    "CONTAINER_LIMITS_KEYS",
    "DEFAULT_DATA_CHUNK_SIZE",
    "DEFAULT_DOCKER_API_VERSION",
    "DEFAULT_HTTP_HOST",
    "DEFAULT_MAX_POOL_SIZE",
    "DEFAULT_NPIPE",
    "DEFAULT_NUM_POOLS",
    "DEFAULT_NUM_POOLS_SSH",
    "DEFAULT_SWARM_ADDR_POOL",
    "DEFAULT_SWARM_SUBNET_SIZE",
    "DEFAULT_TIMEOUT_SECONDS",
    "DEFAULT_UNIX_SOCKET",
    "DEFAULT_USER_AGENT",
    "INSECURE_REGISTRY_DEPRECATION_WARNING",
    "IS_WINDOWS_PLATFORM",
    "MINIMUM_DOCKER_API_VERSION",
    "STREAM_HEADER_SIZE_BYTES",
    "WINDOWS_LONGPATH_PREFIX",
]

#: docker-py's ``requests`` pool counts (one pool per host there); ctrproto keeps one pool per
#: client, so these are docker-py's facts, kept for code that reads them.
DEFAULT_NUM_POOLS = 25
DEFAULT_NUM_POOLS_SSH = 9
#: Idle keep-alive connections a client keeps.
DEFAULT_MAX_POOL_SIZE = defaults.DEFAULT_MAX_POOL_SIZE
DEFAULT_DATA_CHUNK_SIZE = defaults.DEFAULT_DATA_CHUNK_SIZE

#: Swarm defaults (swarm itself is out of ctrproto's scope).
DEFAULT_SWARM_ADDR_POOL = ["10.0.0.0/8"]
DEFAULT_SWARM_SUBNET_SIZE = 24
