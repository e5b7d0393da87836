"""Connecting to NATS for the JetStream sink and state (``pip install ctrproto[nats]``).

nats-py retries a first connection for minutes; a server that is not there is said at once
instead (a TCP probe first), while reconnects later - to a restarted server - are left to
nats-py, without limit.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

__all__ = ["connect", "disconnect"]


async def connect(server: str, missing: type[Exception]) -> Any:
    """A connected nats-py client for ``nats://HOST:PORT``; ``missing`` is raised when nats-py
    is not installed (each caller names its own error)."""
    try:
        import nats
    except ImportError as exc:
        raise missing("NATS needs nats-py: pip install ctrproto[nats]") from exc
    parts = urlsplit(server)
    _, probe = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port or 4222), 10
    )
    probe.close()
    return await nats.connect(
        server, connect_timeout=10, allow_reconnect=True, max_reconnect_attempts=-1
    )


async def disconnect(nc: Any) -> None:
    """Flush and close; a connection that is already broken is just closed."""
    if nc is None:
        return
    try:
        await nc.drain()
    except Exception:  # noqa: BLE001 - closing a broken connection
        await nc.close()
