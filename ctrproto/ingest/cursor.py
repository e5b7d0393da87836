"""Where a stream was delivered up to, and how to resume from there without loss or duplicates.

The daemon's ``since`` is inclusive and exact to the nanosecond, and many lines can share one
nanosecond (a burst written in one ``write``; the pieces of a long line).  So a cursor is the last
delivered timestamp AND how many delivered lines carried exactly it:

- resuming at ``since=<cursor>`` (never cursor + 1 ns: that loses the undelivered lines sharing
  the nanosecond; never a whole second: that re-sends up to a second of lines) returns every line
  at or after the cursor; :class:`Resume` drops those before the cursor and the first ``count``
  at it, and passes everything after the first line it keeps.

Non-monotonic timestamps (the host clock stepped back): :func:`advance` keeps the cursor at the
latest timestamp and does not count an earlier one.  Delivery itself is not affected (lines are
delivered in arrival order), but a line stamped before the cursor that was NOT yet delivered when
the ingester stopped is lost on resume: the daemon filters it out (it is before ``since``) or, when
another stream's earlier cursor lets it through, it cannot be told from the lines that were
delivered, and is dropped.  Exactly-once holds for lines whose timestamps do not go back.

A cursor with ``count == 0`` is a *floor*: "nothing at or after this instant was delivered",
e.g. where ``--from now`` starts a container never seen before.

Gaps: the lines at a stored cursor were delivered and the daemon returns them again on resume.
When it does not (the log was rotated away or cleared behind the cursor), lines may be missing;
:attr:`Resume.gaps` names the streams where that was seen, so that it is reported, not hidden.

Pure code (no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from .records import since_param

__all__ = ["Cursor", "Resume", "advance"]


class Cursor(NamedTuple):
    """The last delivered timestamp of one (host, container, stream) and how many delivered
    lines carried exactly that timestamp.

    Immutable.  A named tuple rather than a frozen dataclass: :func:`advance` makes one per
    delivered line, and a frozen dataclass costs five times as much to create.
    """

    time_str: str
    time_ns: int
    count: int  # type: ignore[assignment]  # shadows tuple.count, on purpose: the spec's name


# Creating the tuple directly skips the generated Python-level __new__ (the hot path).
_new = tuple.__new__


def advance(cursor: Cursor | None, time_str: str, time_ns: int) -> Cursor:
    """The cursor after one more delivered line stamped ``time_ns``.

    Same nanosecond: one more line at it.  Later: the new instant, one line.  Earlier (a clock
    stepped back): the cursor stays at the latest instant, count unchanged (see the module
    docstring for what that costs on resume).
    """
    if cursor is None or time_ns > cursor[1]:
        return _new(Cursor, (time_str, time_ns, 1))
    if time_ns == cursor[1]:
        return _new(Cursor, (cursor[0], time_ns, cursor[2] + 1))
    return cursor


class _StreamResume:
    """The drop state of one stream: lines still to drop at the cursor, and whether it passed."""

    __slots__ = ("cursor", "dropped", "passed")

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self.dropped = 0
        self.passed = False


class Resume:
    """The filter for one resumed request over several streams of one container.

    ``cursors`` maps each stream of the request to its cursor, or None when nothing of it was
    delivered (that stream needs everything, so :meth:`since` is then None: from the start).
    A stream not in the mapping is passed whole.
    """

    __slots__ = ("_cursors", "_streams", "gaps")

    def __init__(self, cursors: Mapping[str, Cursor | None]) -> None:
        self._cursors = dict(cursors)
        self._streams = {
            stream: _StreamResume(cursor)
            for stream, cursor in cursors.items()
            if cursor is not None
        }
        #: Streams whose delivered lines at the cursor did not all come back: the daemon no
        #: longer has them (rotated away, cleared), so lines after them may be missing too.
        self.gaps: set[str] = set()

    def since(self) -> str | None:
        """The ``since`` for the request: the earliest of the streams' cursors, or None."""
        if not self._cursors or any(c is None for c in self._cursors.values()):
            return None
        return since_param(min(c.time_ns for c in self._cursors.values() if c is not None))

    def keep(self, stream: str, time_ns: int) -> bool:
        """Whether the next line of ``stream`` (in arrival order) is new and must be delivered."""
        state = self._streams.get(stream)
        if state is None or state.passed:
            return True
        cursor = state.cursor
        if time_ns < cursor.time_ns:
            return False
        if time_ns == cursor.time_ns and state.dropped < cursor.count:
            state.dropped += 1
            return False
        state.passed = True
        if state.dropped < cursor.count:
            self.gaps.add(stream)
        return True
