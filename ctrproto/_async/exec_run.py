"""``Container.exec_run``: an exec instance created, started and, once it ended, inspected.

The exit code comes from exec inspect, polled briefly while it still says "running" after the
output ended (the decision is :func:`ctrproto.engine.exec_results.exit_code`'s).  A streamed
exec's result learns its exit code when the stream has been read to the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._backends import asyncio as backend
from ..engine.exec_results import (
    EXIT_CODE_GRACE,
    EXIT_CODE_POLL,
    ExecResult,
    exit_code,
    filled,
    finished_code,
    joined,
)

if TYPE_CHECKING:
    from .api_client import AsyncAPIClient

__all__ = ["AsyncExecOutput", "ExecResult", "exec_result"]


class AsyncExecOutput:
    """The iterator of ``exec_run(stream=True)``; knows the exit code once exhausted.

    docker-py can only give ``None`` as the exit code of a streamed exec; iterating this to the end
    fills :attr:`exit_code` (and the ``exit_code`` of the :class:`ExecResult` holding it).
    """

    def __init__(
        self, api: AsyncAPIClient, exec_id: str, chunks: AsyncIterator[Any], demux: bool
    ) -> None:
        self._api = api
        self._exec_id = exec_id
        self._chunks = chunks
        self._demux = demux
        self._done = False
        #: The command's exit code; ``None`` until the output has been read to its end.
        self.exit_code: int | None = None

    def __aiter__(self) -> AsyncExecOutput:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._chunks.__anext__()
        except StopAsyncIteration:
            if not self._done:
                self._done = True
                self.exit_code = await exit_code_of(self._api, self._exec_id)
            raise
        return filled(item) if self._demux else item

    def close(self) -> None:
        """Stop reading, from any thread (a blocked read wakes and the iteration ends); the
        connection is dropped (the command keeps running)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    # unasync: async-only
    async def aclose(self) -> None:
        """Stop reading; the connection is dropped (the command keeps running)."""
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()

    # unasync: end


class _StreamedExecResult(ExecResult):
    """An :class:`ExecResult` whose ``exit_code`` reads the stream's, once it has one."""

    __slots__ = ()

    @property
    def exit_code(self) -> int | None:
        output = self.output
        return output.exit_code if isinstance(output, AsyncExecOutput) else None


async def exit_code_of(api: AsyncAPIClient, exec_id: str) -> int | None:
    deadline = backend.monotonic() + EXIT_CODE_GRACE
    while True:
        done, code = exit_code(await api.exec_inspect(exec_id), backend.monotonic() >= deadline)
        if done:
            return code
        await backend.sleep(EXIT_CODE_POLL)


async def exec_result(
    api: AsyncAPIClient,
    exec_id: str,
    output: Any,
    *,
    socket: bool,
    stream: bool,
    detach: bool,
    demux: bool,
    tty: bool,
) -> ExecResult:
    """The ``(exit_code, output)`` of a started exec, shaped for ``exec_run``'s flags.

    Streamed demux chunks of a TTY keep ``None`` on the stderr side: a TTY has no stderr.
    """
    if socket:
        return ExecResult(None, output)
    if stream:
        chunks = AsyncExecOutput(api, exec_id, output, demux and not tty)
        return _StreamedExecResult(None, chunks)
    if detach:
        # The command runs on; report an exit code only if it has already finished.
        return ExecResult(finished_code(await api.exec_inspect(exec_id)), output)
    if demux:
        output = joined(output, tty)
    return ExecResult(await exit_code_of(api, exec_id), output)
