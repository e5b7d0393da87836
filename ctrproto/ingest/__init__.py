"""Log ingestion (issue 12): follow every matching container on many daemons, each line once.

The pure core (records, line assembly, cursors) has no I/O; the runtime on the asyncio client
(followers, discovery, the batching loop) and the sinks and state build on it.  The library API
is here: ``await ingest(hosts, filters, sink, state)`` (``ingest_sync`` without a loop of your
own), with a :class:`CallableSink` around an async callable that receives batches of
:class:`Record`, or the :class:`FileSink`/:class:`StdoutSink` the CLI uses.
"""

from .records import Record
from .runner import ingest, ingest_sync
from .sinks import CallableSink, FileSink, StdoutSink
from .state import StateStore

__all__ = [
    "CallableSink", "FileSink", "Record", "StateStore", "StdoutSink", "ingest", "ingest_sync",
]
