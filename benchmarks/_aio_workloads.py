"""Workload A (issue 7): the asyncio client next to aiodocker, on log ingestion and request rate.

The same log container as W1 and the same sleeper as W4 are read through ``ctrproto.aio``,
aiodocker (both on one event loop, driven to completion per repetition) and, for scale, the sync
ctrproto client and the raw socket.  aiodocker streams logs as decoded text lines - that is its
API - so its figure includes that work; ctrproto hands out bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import _raw
import aiodocker
from _harness import Case, run_interleaved
from _workloads import LINE99, MB, Bench, _consume

from ctrproto.aio import AsyncAPIClient

CONCURRENCY = 8


def _driven(
    loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[object]]
) -> Callable[[], object]:
    """A blocking callable for the harness that runs one coroutine on the shared loop."""
    return lambda: loop.run_until_complete(make())


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


def asyncio_workloads(bench: Bench) -> list[Case]:
    size = bench.sizes.logs
    cid = bench.container("logs-lines", f"yes {LINE99} | head -c {size}")
    sleeper = bench.sleeper()
    n = bench.sizes.requests
    loop = asyncio.new_event_loop()
    acp = AsyncAPIClient(base_url=bench.host, version=bench.api_version, timeout=600)

    async def make_aiodocker() -> aiodocker.Docker:
        return aiodocker.Docker(url=bench.host, api_version=f"v{bench.api_version}")

    adp = loop.run_until_complete(make_aiodocker())
    target = bench.url(f"/containers/{cid}/logs?stdout=1&stderr=1")

    async def acp_logs() -> None:
        await _drain(await acp.logs(cid, stream=True, follow=False))

    async def acp_bulk_logs() -> None:
        await _drain(await acp.logs(cid, stream=True, follow=False, chunks=True))

    async def adp_logs() -> None:
        await _drain(adp.containers.container(cid).log(stdout=True, stderr=True, follow=True))

    async def acp_inspects(k: int) -> None:
        async def one_task(count: int) -> None:
            for _ in range(count):
                await acp.inspect_container(sleeper)

        await asyncio.gather(*(one_task(n // k) for _ in range(k)))

    async def adp_inspects(k: int) -> None:
        container = adp.containers.container(sleeper)

        async def one_task(count: int) -> None:
            for _ in range(count):
                await container.show()

        await asyncio.gather(*(one_task(n // k) for _ in range(k)))

    try:
        logs = {
            "raw": lambda: _raw.read_to_close(bench.host, "GET", target),
            "ctrproto": lambda: _consume(bench.cp.logs(cid, stream=True, follow=False)),
            "ctrproto.aio": _driven(loop, acp_logs),
            "ctrproto.aio-bulk": _driven(loop, acp_bulk_logs),
            "aiodocker": _driven(loop, adp_logs),
        }
        cases = [run_interleaved(Case("A", f"logs stream {size // MB} MB 100 B lines", "MB"),
                                 logs, bench.reps, size)]
        for k in (1, CONCURRENCY):
            rate = {
                "ctrproto": lambda: [bench.cp.inspect_container(sleeper) for _ in range(n)],
                "ctrproto.aio": _driven(loop, lambda k=k: acp_inspects(k)),
                "aiodocker": _driven(loop, lambda k=k: adp_inspects(k)),
            }
            label = f"inspect x{n}" + (f" {k} tasks" if k > 1 else "")
            cases.append(run_interleaved(Case("A", label, "op"), rate, bench.reps, n))
        return cases
    finally:
        loop.run_until_complete(acp.aclose())
        loop.run_until_complete(adp.close())
        loop.close()
