"""What ``exec_run`` returns and when its exit code is known, without I/O.

The exit code comes from exec inspect, which can still say "running" for a moment after the
output stream has closed; :func:`exit_code` decides when polling may stop instead of returning a
``None`` that would look like "no exit code" to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

#: How long to wait for exec inspect to report the exit code once the output has ended.
EXIT_CODE_GRACE = 5.0
#: How often exec inspect is asked again meanwhile.
EXIT_CODE_POLL = 0.02


class ExecResult(NamedTuple):
    """``(exit_code, output)`` of ``Container.exec_run``."""

    exit_code: int | None
    output: Any


def filled(item: Any) -> Any:
    """A streamed demux chunk with ``b""`` instead of ``None`` on the silent side."""
    if isinstance(item, tuple):
        return tuple(b"" if part is None else part for part in item)
    return item


def joined(output: Any, tty: bool) -> tuple[bytes, bytes | None]:
    """A whole demuxed output as ``(stdout, stderr)``: ``b""`` for a stream that carried
    nothing, but stderr ``None`` for a TTY, which has no stderr stream (as docker-py)."""
    out, err = output if isinstance(output, tuple) else (output, None)
    return out or b"", None if tty else err or b""


def exit_code(info: Mapping[str, Any], give_up: bool) -> tuple[bool, int | None]:
    """From an exec inspect: whether to stop polling, and the exit code to report."""
    if not info.get("Running") or give_up:
        return True, finished_code(info)
    return False, None


def finished_code(info: Mapping[str, Any]) -> int | None:
    """The exit code of a detached exec, if it has already finished."""
    code = info.get("ExitCode")
    return code if isinstance(code, int) else None
