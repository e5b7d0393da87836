"""Upload bodies (``put_archive``): bytes, a binary file or an iterable, cut into pieces.

The type is checked before the request starts, so that a wrong argument is a plain ``TypeError``
rather than a connection torn down halfway through sending.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable


def iter_body(data: object, chunk_size: int) -> Generator[bytes, None, None]:
    """Body pieces from bytes, a binary file-like object or an iterable of bytes."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _slices(memoryview(data), chunk_size)
    read = getattr(data, "read", None)
    if callable(read):
        return _reads(read, chunk_size)
    if isinstance(data, str) or not isinstance(data, Iterable):
        raise TypeError(
            "the data must be bytes, a binary file or an iterable of bytes, "
            f"not {type(data).__name__}"
        )
    return _pieces(data)


def _slices(view: memoryview, chunk_size: int) -> Generator[bytes, None, None]:
    for start in range(0, len(view), chunk_size):
        yield bytes(view[start : start + chunk_size])


def _reads(read: Callable[[int], object], chunk_size: int) -> Generator[bytes, None, None]:
    while True:
        piece = read(chunk_size)
        if not piece:
            return
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise TypeError(f"the file must be opened in binary mode; read() gave {piece!r:.40}")
        yield bytes(piece)


def _pieces(data: Iterable[object]) -> Generator[bytes, None, None]:
    for piece in data:
        yield body_piece(piece)


def body_piece(piece: object) -> bytes:
    """One piece of an iterable upload body, checked: bytes-like or a ``TypeError``."""
    if not isinstance(piece, (bytes, bytearray, memoryview)):
        raise TypeError(f"the data yielded {type(piece).__name__}, not bytes")
    return bytes(piece)
