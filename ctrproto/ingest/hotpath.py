"""The ingester's per-line loops in their fastest available form (the demuxer's arrangement).

The compiled ``ctrproto.ingest._hotpath`` is used when it was built at install time; otherwise,
or when ``CTRPROTO_PURE_PYTHON`` is set (see :mod:`ctrproto.protocol.demux`), the pure-Python
twin :mod:`.hotpath_py`, whose docstrings state the contract.  ``IMPLEMENTATION`` says which.
"""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from ..protocol.demux import pure_requested
from . import hotpath_py as _py

__all__ = ["IMPLEMENTATION", "encode_plain", "implementations", "stamped_lines"]

COMPILED_MODULE = "ctrproto.ingest._hotpath"


def implementations() -> dict[str, ModuleType]:
    """Every implementation importable here, by name ("python", and "cython" if built)."""
    found = {"python": _py}
    with contextlib.suppress(ImportError):
        found["cython"] = importlib.import_module(COMPILED_MODULE)
    return found


def _select() -> tuple[str, ModuleType]:
    if not pure_requested():
        with contextlib.suppress(ImportError):
            return "cython", importlib.import_module(COMPILED_MODULE)
    return "python", _py


IMPLEMENTATION: str
IMPLEMENTATION, _active = _select()

if TYPE_CHECKING:
    from .hotpath_py import encode_plain, stamped_lines
else:
    encode_plain = _active.encode_plain
    stamped_lines = _active.stamped_lines
