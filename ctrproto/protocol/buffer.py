"""The one name for "bytes-like input" that every layer takes: the decoders, streams and sockets.

Its own module so that nothing has to import a decoder (and the compiled extension it may load)
just to annotate a parameter.
"""

from __future__ import annotations

from typing import Union

#: What a network read or a caller may hand over: copied by whoever keeps it.
Buffer = Union[bytes, bytearray, memoryview]

__all__ = ["Buffer"]
