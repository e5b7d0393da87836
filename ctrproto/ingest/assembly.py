"""Turning one stream of ``logs(timestamps=True)`` output into whole lines.

What the daemon sends (checked against dockerd 20.10):

- **Non-TTY** containers: one multiplexed frame per log message, ``"<timestamp> <text>"``.  The
  daemon's log copier cuts a line longer than its 16 KiB buffer into several messages; every
  piece but the last comes *without* a trailing newline, is exactly ``piece_bytes`` long, and
  carries its own timestamp prefix.  A shorter message without a newline is what a run wrote
  last before it ended: a line of its own.  :meth:`LineAssembler.feed` takes the payload of ONE
  frame of the stream the assembler is for and joins the pieces: one line, stamped with the
  FIRST piece's timestamp (the instant the line started; resuming at it returns every piece
  again).
- **TTY** containers: no frames, the stream is the raw bytes as read, cut anywhere by the
  transport.  Each message is still prefixed (``"<ts> text\\r\\n<ts> text\\r\\n"``), and a line
  longer than 16 KiB arrives as pieces of exactly ``piece_bytes`` bytes each followed
  directly by the next piece's prefix, with no newline in between.  The assembler keeps a small
  buffer for a prefix cut by a read, recognises a continuation prefix at exactly that offset
  (validated as a timestamp; anything else there is taken as text), and strips ``"\\r\\n"`` (or a
  bare ``"\\n"``) from each line.

Lines longer than ``max_line_bytes`` are cut, so that memory stays bounded whatever a container
writes: the line is delivered as records of ``max_line_bytes`` bytes and a last shorter one,
**every one of them marked partial** (also the last), all with the line's first timestamp.  So
``partial`` simply means "this record is not a whole line"; a consumer that wants the line back
joins the consecutive partial records of one stream sharing a ``time``.  (Two consecutive
over-long lines with the same nanosecond cannot be told apart that way; that is the price of not
holding a whole line in memory.)  The cuts are deterministic, so re-reading the same stream
yields the same records, which the resume rule (:mod:`.cursor`) relies on.

:meth:`LineAssembler.flush` delivers a last line that has no newline, when the stream has truly
ended (the container stopped).  Call it only then: after a broken connection the line may still
be continued, and the follower should resume instead (the held piece is read again).

Known limit: a TTY container that exits in the middle of a line (output without a final newline)
and is then restarted has that unterminated text joined with the first line of the next run
when both are read in one request (a TTY stream does not say where a message ends).  And a
resumed request may begin inside a split line (its ``since`` is the earliest of both streams'
cursors): the tail pieces then form a line of their own, stamped before the stream's cursor and
dropped by :class:`~.cursor.Resume`, unless the line's last piece shares its nanosecond with the
first piece of the next line (no daemon seen stamps that way).

Pure code (no I/O).
"""

from __future__ import annotations

from .hotpath import stamped_lines
from .records import Line, epoch_ns_of_second, parse_timestamp

__all__ = ["Line", "LineAssembler", "DAEMON_PIECE_BYTES"]

#: The size of the daemon's log copier buffer: where it cuts a longer line into pieces.
DAEMON_PIECE_BYTES = 16 * 1024
# Where the space after a timestamp prefix must be (the daemon's is 30 bytes, 35 with an offset).
_PREFIX_MAX = 48


class LineAssembler:
    """Whole lines out of the frames (or, for a TTY, the raw bytes) of one stream.

    ``stream`` is only carried for the caller ("stdout"/"stderr"); it does not change the
    parsing.  Memory: at most ``max_line_bytes`` plus one frame (or read) per assembler.
    """

    __slots__ = (
        "stream", "max_line_bytes", "tty", "_piece_bytes",
        "_parts", "_size", "_time", "_ns", "_cut",
        "_buf", "_left", "_continuation", "_msg_time", "_msg_ns", "_cr", "_second",
    )

    def __init__(
        self,
        stream: str,
        max_line_bytes: int = 1 << 20,
        tty: bool = False,
        *,
        piece_bytes: int | None = DAEMON_PIECE_BYTES,
    ) -> None:
        if max_line_bytes < 1:
            raise ValueError(f"max_line_bytes must be at least 1, not {max_line_bytes}")
        if piece_bytes is not None and piece_bytes < 1:
            raise ValueError(f"piece_bytes must be at least 1, not {piece_bytes}")
        self.stream = stream
        self.max_line_bytes = max_line_bytes
        self.tty = tty
        # None: never look for a continuation prefix (a daemon that does not cut TTY lines).
        self._piece_bytes = piece_bytes if piece_bytes is not None else -1
        # The line being assembled: its pieces, their total size, its first timestamp.
        self._parts: list[bytes] = []
        self._size = 0
        self._time: str | None = None
        self._ns = 0
        self._cut = False  # some of this line was already delivered as partial records
        # TTY only: an unparsed prefix cut by a read, how much text may still come before the
        # daemon's next cut (0: a prefix comes next), whether that prefix would continue a line,
        # the current message's timestamp, and a held-back '\r' (the start of "\r\n"?).
        self._buf = b""
        self._left = 0
        self._continuation = False
        self._msg_time = b""
        self._msg_ns = 0
        self._cr = False
        # The last "YYYY-MM-DDTHH:MM:SS" of this stream and its epoch ns (lines share seconds).
        self._second: tuple[bytes, int] = (b"", 0)

    # ------------------------------------------------------------------------------ input

    def feed(self, payload: bytes) -> list[Line]:
        """The lines completed by one frame payload (non-TTY) or one read of bytes (TTY)."""
        if self.tty:
            return self._feed_tty(payload)
        space = payload.find(b" ", 0, _PREFIX_MAX)
        if space < 0:
            raise ValueError(f"log frame without a timestamp prefix: {payload[:_PREFIX_MAX]!r}")
        stamp = payload[:space]
        ns = parse_timestamp(stamp)
        newline = payload.find(b"\n", space + 1)
        if (
            newline == len(payload) - 1
            and self._time is None
            and newline - space - 1 <= self.max_line_bytes
        ):
            # The common case: one whole line in one frame, nothing pending.
            return [(stamp.decode("ascii"), ns, payload[space + 1:newline], False)]
        out: list[Line] = []
        start = space + 1
        while newline >= 0:
            self._append(stamp, ns, payload[start:newline], out)
            self._end_line(out)
            start = newline + 1
            newline = payload.find(b"\n", start)
        if start < len(payload):
            self._append(stamp, ns, payload[start:], out)
            if len(payload) - space - 1 != self._piece_bytes:
                # The daemon cuts a long line only at exactly its buffer's size: a shorter
                # unterminated message is the last output of a run, a line of its own (else a
                # restarted container's next first line would be joined to it).
                self._end_line(out)
        return out

    def feed_all(self, payloads: list[bytes]) -> list[Line]:
        """:meth:`feed` over the payloads of many frames in order, the lines of all.

        The hot path of the ingester: while nothing is pending, runs of frames that each hold
        one whole line behind the daemon's own timestamp form go through
        :func:`~.hotpath.stamped_lines` (compiled when built); every other frame through
        :meth:`feed`.
        """
        out: list[Line] = []
        if self.tty:
            for data in payloads:
                out += self._feed_tty(data)
            return out
        index, count = 0, len(payloads)
        while index < count:
            if self._time is None:
                lines, index, second, second_ns = stamped_lines(
                    payloads, index, self.max_line_bytes, *self._second, epoch_ns_of_second
                )
                self._second = (second, second_ns)
                out += lines
                if index == count:
                    break
            out += self.feed(payloads[index])
            index += 1
        return out

    def flush(self) -> list[Line]:
        """At the stream's real end: the last line if it had no newline (``partial`` False
        unless it was cut).  A TTY prefix cut by the end of the stream is dropped."""
        out: list[Line] = []
        if self.tty:
            if self._buf and self._continuation:
                # Not a prefix after all: the end of the line's text.
                self._append_tty(self._buf, out)
            self._buf = b""
            if self._cr:
                self._cr = False
                self._append(self._msg_time, self._msg_ns, b"\r", out)
            self._left = 0
            self._continuation = False
        if self._time is not None:
            self._end_line(out)
        return out

    # --------------------------------------------------------------------------- assembly

    def _append(self, stamp: bytes, ns: int, piece: bytes, out: list[Line]) -> None:
        """Add text to the current line (starting it with this timestamp if none is open)."""
        if self._time is None:
            self._time = stamp.decode("ascii")
            self._ns = ns
        self._parts.append(piece)
        self._size += len(piece)
        if self._size > self.max_line_bytes:
            self._cut_line(out)

    def _cut_line(self, out: list[Line]) -> None:
        """Deliver ``max_line_bytes`` records while more than that is held (keeps >= 1 byte)."""
        assert self._time is not None
        limit = self.max_line_bytes
        data = b"".join(self._parts)
        start = 0
        while len(data) - start > limit:
            out.append((self._time, self._ns, data[start:start + limit], True))
            start += limit
        rest = data[start:]
        self._parts = [rest]
        self._size = len(rest)
        self._cut = True

    def _end_line(self, out: list[Line]) -> None:
        assert self._time is not None
        parts = self._parts
        line = parts[0] if len(parts) == 1 else b"".join(parts)
        out.append((self._time, self._ns, line, self._cut))
        self._parts = []
        self._size = 0
        self._time = None
        self._cut = False
        self._cr = False

    # -------------------------------------------------------------------------------- TTY

    def _append_tty(self, piece: bytes, out: list[Line]) -> None:
        """Text of a TTY line, holding back a final '\\r' until we know whether '\\n' follows."""
        if self._cr:
            piece = b"\r" + piece
            self._cr = False
        if piece.endswith(b"\r"):
            piece = piece[:-1]
            self._cr = True
        self._append(self._msg_time, self._msg_ns, piece, out)

    def _feed_tty(self, data: bytes) -> list[Line]:
        out: list[Line] = []
        if self._buf:
            data = self._buf + data
            self._buf = b""
        pos = 0
        end = len(data)
        while pos < end:
            if self._left == 0:
                # A prefix comes next: a new message, or (after a cut) the line's next piece.
                space = data.find(b" ", pos, pos + _PREFIX_MAX)
                stamp = data[pos:space] if space >= 0 else b""
                ns = -1
                if space >= 0:
                    try:
                        ns = parse_timestamp(stamp)
                    except ValueError:
                        ns = -1
                elif end - pos < _PREFIX_MAX:
                    self._buf = data[pos:]  # cut by the read: wait for the rest
                    break
                if ns < 0:
                    if not self._continuation:
                        raise ValueError(
                            f"TTY log stream without a timestamp prefix: {data[pos:pos + 64]!r}"
                        )
                    # No prefix at the cut: the daemon did not cut here; it is all text.
                    self._continuation = False
                    self._left = self._piece_bytes
                    continue
                if not self._continuation:
                    self._msg_time = stamp
                    self._msg_ns = ns
                self._continuation = False
                self._left = self._piece_bytes
                pos = space + 1
                continue
            stop = end if self._left < 0 else min(end, pos + self._left)
            newline = data.find(b"\n", pos, stop)
            if newline >= 0:
                self._append_tty(data[pos:newline], out)
                self._end_line(out)
                pos = newline + 1
                self._left = 0
            else:
                self._append_tty(data[pos:stop], out)
                if self._left > 0:
                    self._left -= stop - pos
                    if self._left == 0:
                        self._continuation = True
                pos = stop
        return out
