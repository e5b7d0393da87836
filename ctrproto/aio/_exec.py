"""``AsyncContainer.exec_run``: create, start and, once the output ended, the exit code.

The sequence of the sync ``models._exec`` with its decisions reused (when to stop polling
inspect, the demux shapes); only the waiting is asyncio's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ..models._exec import EXIT_CODE_GRACE, EXIT_CODE_POLL, ExecResult, exit_code, filled, joined
from .api import AsyncAPIClient


class AsyncExecOutput:
    """The async iterator of ``exec_run(stream=True)``; knows the exit code once exhausted."""

    def __init__(
        self, api: AsyncAPIClient, exec_id: str, chunks: AsyncIterator[Any], demux: bool
    ) -> None:
        self._api = api
        self._exec_id = exec_id
        self._chunks = chunks
        self._demux = demux
        #: The command's exit code; ``None`` until the output has been read to its end.
        self.exit_code: int | None = None

    def __aiter__(self) -> AsyncExecOutput:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._chunks.__anext__()
        except StopAsyncIteration:
            if self.exit_code is None:
                self.exit_code = await exit_code_of(self._api, self._exec_id)
            raise
        return filled(item) if self._demux else item

    async def aclose(self) -> None:
        """Stop reading; the connection is dropped (the command keeps running)."""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


async def exit_code_of(api: AsyncAPIClient, exec_id: str) -> int | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXIT_CODE_GRACE
    while True:
        done, code = exit_code(await api.exec_inspect(exec_id), loop.time() >= deadline)
        if done:
            return code
        await asyncio.sleep(EXIT_CODE_POLL)


async def run_exec(
    api: AsyncAPIClient,
    container_id: str,
    cmd: str | list[str],
    *,
    detach: bool,
    stream: bool,
    socket: bool,
    demux: bool,
    tty: bool,
    **create: Any,
) -> ExecResult:
    exec_id: str = (await api.exec_create(container_id, cmd, tty=tty, **create))["Id"]
    output: Any = await api.exec_start(
        exec_id, detach=detach, tty=tty, stream=stream, socket=socket, demux=demux
    )
    if socket:
        return ExecResult(None, output)
    if stream:
        # The exit code is the stream's, known once it has been read to the end.
        return ExecResult(None, AsyncExecOutput(api, exec_id, output, demux))
    if detach:
        code = (await api.exec_inspect(exec_id)).get("ExitCode")
        return ExecResult(code if isinstance(code, int) else None, output)
    if demux:
        output = joined(output)
    return ExecResult(await exit_code_of(api, exec_id), output)
