"""Message ids that make a replay after a crash idempotent on a bus that de-duplicates by id
(JetStream's ``Nats-Msg-Id``, Kafka's idempotent keys).

A line's id is its stream's key and the cursor *after* it (:func:`~.cursor.advance`'s rule:
the latest timestamp and how many lines carried it), plus, for a line stamped before that
cursor (a clock that stepped back: the cursor does not move), how many such lines came since it
last moved.  Along one stream these ids never repeat: the cursors of lines that move it only
grow, and the others are numbered behind the one they follow.  A replay resumes at a committed
cursor and the daemon returns the same lines after it in the same order, so every replayed line
gets the id it had: the bus drops it.  (Lines stamped before a committed cursor are not returned
on resume at all - the limit :mod:`.cursor` describes - so they cannot collide either.)

Pure code (no I/O).
"""

from __future__ import annotations

from .records import Line

__all__ = ["StreamIds"]


class StreamIds:
    """Ids for the lines of ONE (host, container, stream), fed in delivery order.

    ``start``: the stream's cursor before the first line fed (``(time, ns, count)``, the
    committed or handed-on cursor the follower resumed at; None: nothing delivered yet).
    """

    __slots__ = ("key", "_ns", "_count", "_behind")

    def __init__(self, key: str, start: tuple[str, int, int] | None) -> None:
        self.key = key
        self._ns = -1 if start is None else start[1]
        self._count = 0 if start is None else start[2]
        self._behind = 0

    def follows(self, start: tuple[str, int, int] | None) -> bool:
        """Whether lines starting after ``start`` continue the lines numbered so far (a
        sink re-numbers from ``start`` when not: a follower resumed somewhere else)."""
        if start is None:
            return self._ns == -1
        return (start[1], start[2]) == (self._ns, self._count)

    def ids(self, lines: list[Line]) -> list[str]:
        out = []
        key = self.key
        ns, count, behind = self._ns, self._count, self._behind
        for _, line_ns, _, _ in lines:
            if line_ns > ns:
                ns, count, behind = line_ns, 1, 0
            elif line_ns == ns:
                count += 1
                behind = 0
            else:
                behind += 1
            out.append(f"{key}:{ns}:{count}:{behind}")
        self._ns, self._count, self._behind = ns, count, behind
        return out
