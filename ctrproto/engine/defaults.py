"""The clients' defaults and sizes, each defined once for both worlds."""

from __future__ import annotations

#: Seconds for connecting and for each read of an ordinary request (docker-py's default).
DEFAULT_TIMEOUT = 60.0
#: Idle keep-alive connections a client keeps.
DEFAULT_MAX_POOL_SIZE = 10
#: docker-py's piece size for exports, archives and uploads.
DEFAULT_DATA_CHUNK_SIZE = 2 * 1024 * 1024
#: Parallel inspects of a non-sparse ``containers.list()``: enough to hide latency, few enough
#: to stay polite.
LIST_WORKERS = 8
#: The first read of an exchange: holds the head and most whole answers, and stays below the size
#: where the allocator maps fresh pages for every read.
HEAD_READ_SIZE = 64 * 1024
#: Body and hijacked-stream reads go into one buffer of this size, reused for every read.
READ_SIZE = 256 * 1024
