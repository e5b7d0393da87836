"""The demuxer for Docker's multiplexed stdout/stderr stream, in its fastest available form.

The compiled ``ctrproto.protocol._demux`` is used when it was built at install time; otherwise,
or when ``CTRPROTO_PURE_PYTHON`` is set to anything but ``""`` or ``"0"`` (to rule the extension
out while debugging), the pure-Python twin ``demux_py`` is.  Both have the same API and
behaviour; ``demux_py``'s docstring states the contract.  ``IMPLEMENTATION`` says which one is
active, so that a benchmark or a bug report can tell.

A helper above the demuxer serves every reader of a multiplexed stream, sync or asyncio:
:func:`feed_frames` (one piece, its items and the error it ended with).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ctrproto.errors import FrameError, StreamError
from ctrproto.protocol import demux_py as _py
from ctrproto.protocol.buffer import Buffer

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "IMPLEMENTATION",
    "STDERR",
    "STDOUT",
    "Collector",
    "Demuxer",
    "demux_buffer",
    "feed_frames",
    "implementations",
    "load",
]

COMPILED_MODULE = "ctrproto.protocol._demux"
ENV_PURE = "CTRPROTO_PURE_PYTHON"


def pure_requested() -> bool:
    """Whether the environment asks for the pure-Python implementation."""
    return os.environ.get(ENV_PURE, "") not in ("", "0")


def load(pure: bool) -> ModuleType:
    """One implementation, explicitly: ``load(True)`` is the pure one, ``load(False)`` the
    compiled one (``ImportError`` when it was not built).  The environment is not consulted."""
    if pure:
        return _py
    return importlib.import_module(COMPILED_MODULE)


def implementations() -> dict[str, ModuleType]:
    """Every implementation importable here, by name ("python", and "cython" if built)."""
    found = {"python": _py}
    with contextlib.suppress(ImportError):
        found["cython"] = load(pure=False)
    return found


def _select() -> tuple[str, ModuleType]:
    if not pure_requested():
        try:
            return "cython", load(pure=False)
        except ImportError:
            pass
    return "python", _py


IMPLEMENTATION: str
IMPLEMENTATION, _active = _select()

if TYPE_CHECKING:
    # Type checkers see the annotated twin; the compiled module has the same signatures.
    from ctrproto.protocol.demux_py import (
        DEFAULT_MAX_FRAME_SIZE,
        STDERR,
        STDOUT,
        Collector,
        Demuxer,
        demux_buffer,
    )
else:
    Collector = _active.Collector
    Demuxer = _active.Demuxer
    demux_buffer = _active.demux_buffer
    STDOUT = _active.STDOUT
    STDERR = _active.STDERR
    DEFAULT_MAX_FRAME_SIZE = _active.DEFAULT_MAX_FRAME_SIZE


def feed_frames(
    demuxer: Demuxer, piece: Buffer
) -> tuple[list[Any], FrameError | StreamError | None]:
    """The frames completed by ``piece``, and the error of a bad frame (or in-band error) in it.

    On an error the frames decoded before it are returned with it, and its ``frames`` emptied,
    since the caller hands those out first: no complete output is lost.  Both clients' readers
    use it, so they deliver exactly the same frames before an error.
    """
    try:
        return demuxer.feed(piece), None
    except (FrameError, StreamError) as exc:
        earlier, exc.frames = list(exc.frames), []
        return earlier, exc
