"""``Container.exec_run``: an exec instance created, started and, once it ended, inspected.

The exit code comes from exec inspect, which can still say "running" for a moment after the
output stream has closed; it is polled briefly instead of returning a ``None`` that would look like
"no exit code" to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..api import APIClient

__all__ = ["ExecOutput", "ExecResult", "run_exec"]

#: How long to wait for exec inspect to report the exit code once the output has ended.
EXIT_CODE_GRACE = 5.0
#: How often exec inspect is asked again meanwhile.
EXIT_CODE_POLL = 0.02


class ExecResult(NamedTuple):
    """``(exit_code, output)`` of :meth:`Container.exec_run`."""

    exit_code: int | None
    output: Any


class ExecOutput:
    """The generator of ``exec_run(stream=True)``; knows the exit code once exhausted.

    docker-py can only give ``None`` as the exit code of a streamed exec; iterating this to the end
    fills :attr:`exit_code` (and the ``exit_code`` of the :class:`ExecResult` holding it).
    """

    def __init__(self, api: APIClient, exec_id: str, chunks: Iterator[Any], demux: bool) -> None:
        self._api = api
        self._exec_id = exec_id
        self._chunks = iter(chunks)
        self._demux = demux
        self._done = False
        #: The command's exit code; ``None`` until the output has been read to its end.
        self.exit_code: int | None = None

    def __iter__(self) -> ExecOutput:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._chunks)
        except StopIteration:
            if not self._done:
                self._done = True
                self.exit_code = exit_code_of(self._api, self._exec_id)
            raise
        return filled(item) if self._demux else item

    def close(self) -> None:
        """Stop reading; the connection is dropped (the command keeps running)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


class _StreamedExecResult(ExecResult):
    """An :class:`ExecResult` whose ``exit_code`` reads the stream's, once it has one."""

    __slots__ = ()

    @property
    def exit_code(self) -> int | None:
        output = self.output
        return output.exit_code if isinstance(output, ExecOutput) else None


def filled(item: Any) -> Any:
    """A streamed demux chunk with ``b""`` instead of ``None`` on the silent side."""
    if isinstance(item, tuple):
        return tuple(b"" if part is None else part for part in item)
    return item


def joined(output: Any) -> tuple[bytes, bytes]:
    """A whole demuxed output as ``(stdout, stderr)``, never ``None``."""
    out, err = output if isinstance(output, tuple) else (output, None)
    return out or b"", err or b""


def exit_code(info: Mapping[str, Any], give_up: bool) -> tuple[bool, int | None]:
    """From an exec inspect: whether to stop polling, and the exit code to report."""
    code = info.get("ExitCode")
    if not info.get("Running") or give_up:
        return True, code if isinstance(code, int) else None
    return False, None


def exit_code_of(api: APIClient, exec_id: str) -> int | None:
    deadline = time.monotonic() + EXIT_CODE_GRACE
    while True:
        done, code = exit_code(api.exec_inspect(exec_id), time.monotonic() >= deadline)
        if done:
            return code
        time.sleep(EXIT_CODE_POLL)


def run_exec(
    api: APIClient,
    container_id: str,
    cmd: str | list[str],
    *,
    stdout: bool,
    stderr: bool,
    stdin: bool,
    tty: bool,
    privileged: bool,
    user: str,
    detach: bool,
    stream: bool,
    socket: bool,
    environment: dict[str, str] | list[str] | None,
    workdir: str | None,
    demux: bool,
) -> ExecResult:
    created = api.exec_create(
        container_id,
        cmd,
        stdout=stdout,
        stderr=stderr,
        stdin=stdin,
        tty=tty,
        privileged=privileged,
        user=user,
        environment=environment,
        workdir=workdir,
    )
    exec_id: str = created["Id"]
    output: Any = api.exec_start(
        exec_id, detach=detach, tty=tty, stream=stream, socket=socket, demux=demux
    )
    if socket:
        return ExecResult(None, output)
    if stream:
        return _StreamedExecResult(None, ExecOutput(api, exec_id, output, demux))
    if detach:
        # The command runs on; report an exit code only if it has already finished.
        code = api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(code if isinstance(code, int) else None, output)
    if demux:
        output = joined(output)
    return ExecResult(exit_code_of(api, exec_id), output)
