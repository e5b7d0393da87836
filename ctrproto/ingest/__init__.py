"""Log ingestion (issue 12): follow every matching container on many daemons, each line once.

The pure core (records, line assembly, cursors) has no I/O; the runtime on the asyncio client
(followers, discovery, the batching loop) and the sinks and state build on it.
"""
