"""Incremental decoder for the daemon's streams of JSON values (stats, events, pull progress).

The daemon writes one JSON value after another, usually newline-separated but not always, and the
transport hands them over in arbitrary pieces: a value may be split anywhere, even inside a
multi-byte UTF-8 character or an escaped quote.  The decoder scans each new byte once, tracking
string and nesting state, and hands only a complete value to :mod:`json`, so that a long stream
costs linear time however it is cut.  Scanning bytes rather than text is safe because every byte
of a multi-byte UTF-8 sequence is >= 0x80, never a quote, backslash or bracket.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ctrproto.errors import StreamError, StreamParseError

__all__ = ["DEFAULT_MAX_VALUE_SIZE", "JSONStreamDecoder"]

#: Largest single value accepted by default: far above any real stats or progress message, low
#: enough that a daemon (or a proxy) sending garbage without end cannot exhaust memory.
DEFAULT_MAX_VALUE_SIZE = 64 * 1024 * 1024

_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_CONTAINER_SPECIAL = re.compile(rb'["{}\[\]]')
_STRING_SPECIAL = re.compile(rb'["\\]')
_SCALAR_CHARS = re.compile(rb"[0-9A-Za-z+\-.]*")
_SCALAR_START = b"-0123456789tfn"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Python's json accepts NaN/Infinity, which are not JSON: refuse them like any other garbage.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)

# Scanner states.
_BETWEEN = 0  # between values, skipping separators
_CONTAINER = 1  # inside an object or array, outside strings
_STRING = 2  # inside a string (at any depth)
_SCALAR = 3  # inside a top-level number or literal


class JSONStreamDecoder:
    """Turn a byte stream of concatenated JSON values into Python values.

    :meth:`feed` returns the values completed by each piece; :meth:`close` ends the stream.
    Errors come out in stream order: the values that precede a problem are returned first, and the
    error is raised by the following :meth:`feed` or :meth:`close` call.

    With ``raise_on_error=True``, an object carrying ``error`` or ``errorDetail`` (how the daemon
    reports a failure in the middle of a pull or push) raises
    :class:`~ctrproto.errors.StreamError` with its message instead of being returned.
    """

    def __init__(
        self, *, raise_on_error: bool = False, max_value_size: int = DEFAULT_MAX_VALUE_SIZE
    ) -> None:
        if max_value_size <= 0:
            raise ValueError("max_value_size must be positive")
        self._raise_on_error = raise_on_error
        self._max_value_size = max_value_size
        self._buffer = bytearray()
        self._base = 0  # stream offset of _buffer[0], for error messages
        self._pos = 0  # next byte to scan
        self._start = 0  # first byte of the value being scanned
        self._state = _BETWEEN
        self._depth = 0  # nesting depth; 0 for a top-level string
        self._line_tried_until = 0  # the one-line fast path already failed before this offset
        self._pending: Exception | None = None
        self._closed = False

    # ------------------------------------------------------------------ public API

    def feed(self, data: bytes) -> list[Any]:
        """Add bytes; return every value they complete, in order."""
        self._raise_pending()
        if self._closed:
            raise StreamParseError("JSON stream decoder used after close()")
        if not data:
            return []
        self._buffer += data
        values: list[Any] = []
        try:
            self._scan(values)
        except (StreamParseError, StreamError) as exc:
            self._closed = True
            if not values:
                raise
            self._pending = exc
            return values
        self._compact()
        if self._state != _BETWEEN and len(self._buffer) - self._start > self._max_value_size:
            self._closed = True
            raise StreamParseError(
                f"a JSON value starting at offset {self._base + self._start} exceeds "
                f"{self._max_value_size} bytes"
            )
        return values

    def close(self) -> list[Any]:
        """End the stream: return a last value that needed the end to be complete, if any.

        Only a bare top-level number or literal (``42``, ``true``) can be such a value; objects,
        arrays and strings end with their closing character.  A value left unfinished raises
        :class:`~ctrproto.errors.StreamParseError`.
        """
        self._raise_pending()
        if self._closed:
            return []
        self._closed = True
        if self._state == _BETWEEN:
            return []
        if self._state == _SCALAR:
            values: list[Any] = []
            self._emit(self._start, len(self._buffer), values)
            return values
        raise StreamParseError(
            f"the stream ended inside a JSON value starting at offset {self._base + self._start} "
            f"({len(self._buffer) - self._start} bytes received): "
            f"{self._excerpt(self._start)}"
        )

    # ------------------------------------------------------------------ scanning

    def _scan(self, values: list[Any]) -> None:
        buf = self._buffer
        end = len(buf)
        pos = self._pos
        while pos < end:
            state = self._state
            if state == _BETWEEN:
                match = _WHITESPACE.match(buf, pos)
                pos = match.end() if match else pos
                if pos >= end:
                    break
                if pos >= self._line_tried_until:
                    newline = buf.find(b"\n", pos)
                    if newline != -1:
                        if self._take_line(pos, newline, values):
                            pos = newline + 1
                            continue
                        self._line_tried_until = newline + 1
                first = buf[pos]
                self._start = pos
                if first in b"{[":
                    self._state, self._depth = _CONTAINER, 1
                    pos += 1
                elif first == 0x22:  # '"'
                    self._state, self._depth = _STRING, 0
                    pos += 1
                elif first in _SCALAR_START:
                    self._state = _SCALAR
                else:
                    raise self._garbage(pos)
            elif state == _CONTAINER:
                found = _CONTAINER_SPECIAL.search(buf, pos)
                if found is None:
                    pos = end
                    break
                pos = found.end()
                char = buf[found.start()]
                if char == 0x22:
                    self._state = _STRING
                elif char in b"{[":
                    self._depth += 1
                else:
                    self._depth -= 1
                    if self._depth == 0:
                        self._emit(self._start, pos, values)
                        self._state = _BETWEEN
            elif state == _STRING:
                found = _STRING_SPECIAL.search(buf, pos)
                if found is None:
                    pos = end
                    break
                if buf[found.start()] == 0x5C:  # backslash: skip the escaped byte
                    if found.start() + 1 >= end:
                        pos = found.start()  # wait for the escaped byte
                        break
                    pos = found.start() + 2
                    continue
                pos = found.end()
                if self._depth == 0:
                    self._emit(self._start, pos, values)
                    self._state = _BETWEEN
                else:
                    self._state = _CONTAINER
            else:  # _SCALAR
                match = _SCALAR_CHARS.match(buf, pos)
                pos = match.end() if match else pos
                if pos >= end:
                    break  # the next piece (or close()) tells where it ends
                self._emit(self._start, pos, values)
                self._state = _BETWEEN
        self._pos = pos

    def _take_line(self, start: int, newline: int, values: list[Any]) -> bool:
        """Fast path for the daemon's usual framing: the rest of the line is exactly one value.

        One ``json`` call instead of a scan.  When it fails (several values on the line, a value
        spanning lines, garbage), the scanner takes over and reports precisely; the line is not
        tried again, so the cost stays linear.
        """
        if newline - start > self._max_value_size:
            return False
        try:
            value = _DECODER.decode(self._buffer[start:newline].decode("utf-8"))
        except ValueError:  # includes UnicodeDecodeError
            return False
        self._deliver(value, values)
        return True

    def _emit(self, start: int, stop: int, values: list[Any]) -> None:
        if stop - start > self._max_value_size:
            raise StreamParseError(
                f"a JSON value starting at offset {self._base + start} exceeds "
                f"{self._max_value_size} bytes"
            )
        raw = bytes(self._buffer[start:stop])
        try:
            value = _DECODER.decode(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise StreamParseError(
                f"invalid JSON value at offset {self._base + start}: {exc}; {self._excerpt(start)}"
            ) from None
        self._deliver(value, values)

    def _deliver(self, value: Any, values: list[Any]) -> None:
        if self._raise_on_error and isinstance(value, dict):
            self._check_error(value)
        values.append(value)

    def _check_error(self, value: dict[str, Any]) -> None:
        if "error" not in value and "errorDetail" not in value:
            return
        detail = value.get("errorDetail")
        message: Any = None
        if isinstance(detail, dict):
            message = detail.get("message")
        if not message:
            message = value.get("error") or detail or "unknown error"
        raise StreamError(str(message))

    # ------------------------------------------------------------------ bookkeeping

    def _compact(self) -> None:
        """Drop the bytes of values already returned, so the buffer holds one value at most."""
        between = self._state == _BETWEEN
        keep_from = self._pos if between else self._start
        if keep_from:
            del self._buffer[:keep_from]
            self._base += keep_from
            self._pos -= keep_from
            self._start = 0 if between else self._start - keep_from
            self._line_tried_until = max(0, self._line_tried_until - keep_from)

    def _raise_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            raise pending

    def _garbage(self, pos: int) -> StreamParseError:
        return StreamParseError(
            f"unexpected byte {bytes(self._buffer[pos : pos + 1])!r} at offset {self._base + pos} "
            f"of the JSON stream: {self._excerpt(pos)}"
        )

    def _excerpt(self, pos: int, size: int = 40) -> str:
        piece = bytes(self._buffer[pos : pos + size])
        more = "..." if len(self._buffer) > pos + size else ""
        return f"{piece!r}{more}"
