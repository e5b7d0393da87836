"""``docker.utils.json_stream``: JSON values out of a stream of text or bytes pieces.

docker-py's helpers for progress streams whose pieces do not line up with the values (one
value split over pieces, several in one piece, newlines or none).  ctrproto's clients use the
incremental :class:`~ctrproto.protocol.jsonstream.JSONStreamDecoder`; these keep docker-py's
generator interface for code that calls them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterable
from typing import Any

from ..errors import StreamParseError

__all__ = [
    "json_decoder", "json_splitter", "json_stream", "line_splitter", "split_buffer",
    "stream_as_text",
]

#: docker-py's module-level decoder (its name is public there).
json_decoder = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # what json.decoder skips between values


def stream_as_text(stream: Iterable[str | bytes]) -> Generator[str, None, None]:
    """Each piece as text (bytes decoded as UTF-8, bad bytes replaced)."""
    for data in stream:
        yield data if isinstance(data, str) else data.decode("utf-8", "replace")


def json_splitter(buffer: str) -> tuple[Any, str] | None:
    """The first JSON value of ``buffer`` and the rest, or ``None`` if none is complete yet."""
    buffer = buffer.strip()
    try:
        value, index = json_decoder.raw_decode(buffer)
    except ValueError:
        return None
    end = _WHITESPACE.match(buffer, index)
    return value, buffer[end.end() if end else index :]


def line_splitter(buffer: str, separator: str = "\n") -> tuple[str, str] | None:
    """The first line of ``buffer`` (separator kept) and the rest, or ``None``."""
    index = buffer.find(str(separator))
    if index == -1:
        return None
    return buffer[: index + 1], buffer[index + 1 :]


def split_buffer(
    stream: Iterable[str | bytes],
    splitter: Callable[[str], tuple[Any, str] | None] | None = None,
    decoder: Callable[[str], Any] = lambda text: text,
) -> Generator[Any, None, None]:
    """Join the pieces and yield what ``splitter`` cuts off; the remainder goes to ``decoder``
    at the end (a failure there is a :class:`~ctrproto.errors.StreamParseError`)."""
    split = splitter or line_splitter
    buffered = ""
    for data in stream_as_text(stream):
        buffered += data
        while True:
            cut = split(buffered)
            if cut is None:
                break
            item, buffered = cut
            yield item
    if buffered:
        try:
            yield decoder(buffered)
        except Exception as exc:
            raise StreamParseError(exc) from exc


def json_stream(stream: Iterable[str | bytes]) -> Generator[Any, None, None]:
    """The JSON values of a stream of pieces, however the pieces are cut."""
    return split_buffer(stream, json_splitter, json_decoder.decode)
