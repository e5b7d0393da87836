"""The readers ``ingest_bench.py`` compares, each run as its own process so that its CPU and RSS
are its own (the parent takes them from ``wait4``).

    python _ingest_clients.py MODE HOST LABEL

``MODE`` is one of:

- ``docker-py``: one thread per container over docker-py's ``logs(stream=True,
  timestamps=True)``, the way a user reads many containers today;
- ``ctrproto``: the same with ctrproto's sync ``APIClient`` (the "bare ctrproto fan-in");
- ``ctrproto.aio``: one task per container on ctrproto's asyncio client, one loop.

Each counts the frames (lines) it read and prints the total; nothing is parsed or written, so
these are the floor the ingester's own work (assembly, cursors, JSON, the file, the state) adds
to.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any


def _threads(ids: list[str], read: Callable[[str], Iterable[bytes]]) -> int:
    counts = [0] * len(ids)

    def one(index: int) -> None:
        n = 0
        for _ in read(ids[index]):
            n += 1
        counts[index] = n

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def docker_py(host: str, label: str) -> int:
    import docker

    client = docker.APIClient(base_url=host, timeout=600)
    ids = [c["Id"] for c in client.containers(all=True, filters={"label": label})]
    return _threads(ids, lambda cid: client.logs(cid, stream=True, timestamps=True, follow=False))


def ctrproto_sync(host: str, label: str) -> int:
    from ctrproto import APIClient

    client = APIClient(base_url=host, timeout=600)
    ids = [c["Id"] for c in client.containers(all=True, filters={"label": label})]
    return _threads(ids, lambda cid: client.logs(cid, stream=True, timestamps=True, follow=False))


def ctrproto_aio(host: str, label: str) -> int:
    from ctrproto.aio import AsyncAPIClient

    async def main() -> int:
        client = AsyncAPIClient(base_url=host, timeout=600)
        try:
            ids = [c["Id"] for c in await client.containers(all=True, filters={"label": label})]

            async def one(cid: str) -> int:
                n = 0
                stream: Any = await client.logs(cid, stream=True, timestamps=True, follow=False)
                async for _ in stream:
                    n += 1
                return n

            return sum(await asyncio.gather(*(one(cid) for cid in ids)))
        finally:
            await client.aclose()

    return asyncio.run(main())


MODES = {"docker-py": docker_py, "ctrproto": ctrproto_sync, "ctrproto.aio": ctrproto_aio}

if __name__ == "__main__":
    mode, host, label = sys.argv[1:4]
    print(MODES[mode](host, label))
