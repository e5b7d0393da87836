"""Message ids that make a replay after a crash idempotent on a bus that de-duplicates by id
(JetStream's ``Nats-Msg-Id``, Kafka's idempotent keys).

A line's id is its stream's key, its timestamp (epoch ns) and its index among the lines of that
stream carrying exactly that timestamp: the issue's "(host, container, stream, timestamp, index
at that timestamp)".  Numbering starts from the cursor the follower resumed at, whose count IS
the index the next line at its instant gets.  Along one stream these ids never repeat.  A replay
resumes at a committed cursor; the daemon returns every line at or after its instant in the
same order, and every line at an instant after the cursor is returned with all the lines at that
instant before it, so each replayed line gets the id it had and the bus drops it.  The one
exception is the limit :mod:`.cursor` describes: a line stamped *before* the committed cursor (a
clock that stepped back) that was not yet delivered may be numbered differently on a replay, and
is lost like it is for every other sink.

The stream's key is a 96-bit BLAKE2b digest of (host, container id, stream), 16 URL-safe
characters: an id is then about 40 bytes instead of 130 (the host URL and the 64-digit container
id), and the server's de-duplication map hashes and keeps each one for the whole window - about
1.5 µs of the server's CPU per message less (benchmarks/RESULTS.md, issue 13).  Ids are unique
unless two streams' digests collide (odds ~n²/2^97 for n streams).

Memory: the indexes of the last :data:`INSTANTS` timestamps of a stream are kept; a line that
steps back further than that to exactly the nanosecond of an older line would repeat its id.

Pure code (no I/O).
"""

from __future__ import annotations

import base64
import hashlib

from .cursor import Cursor, advance
from .records import Line

__all__ = ["INSTANTS", "StreamIds", "stream_key"]

#: How many distinct timestamps per stream keep their index (a stream's recent instants).
INSTANTS = 4096


def stream_key(host: str, container_id: str, stream: str) -> str:
    """The short key of one container stream (see the module docstring)."""
    digest = hashlib.blake2b(
        "\0".join((host, container_id, stream)).encode("utf-8", "surrogatepass"), digest_size=12
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()


class StreamIds:
    """Ids for the lines of ONE (host, container, stream), fed in delivery order.

    ``start``: the stream's cursor before the first line fed (``(time, ns, count)``, the
    committed or handed-on cursor the follower resumed at; None: nothing delivered yet).
    """

    __slots__ = ("key", "_cursor", "_seen")

    def __init__(self, key: str, start: tuple[str, int, int] | None) -> None:
        self.key = key
        #: Where the stream stands (:func:`~.cursor.advance`), to tell whether a group follows.
        self._cursor: Cursor | None = None if start is None else Cursor(*start)
        #: Timestamp -> how many lines carrying it were numbered (insertion order: oldest first).
        self._seen: dict[int, int] = {} if start is None else {start[1]: start[2]}

    def follows(self, start: tuple[str, int, int] | None) -> bool:
        """Whether lines starting after ``start`` continue the lines numbered so far (a
        sink re-numbers from ``start`` when not: a follower resumed somewhere else)."""
        cursor = self._cursor
        if start is None or cursor is None:
            return start is None and cursor is None
        return (start[1], start[2]) == (cursor.time_ns, cursor.count)

    def ids(self, lines: list[Line]) -> list[str]:
        out = []
        key, seen, cursor = self.key, self._seen, self._cursor
        for time, ns, _, _ in lines:
            index = seen.pop(ns, 0)  # re-inserted: the newest instant
            seen[ns] = index + 1
            if len(seen) > INSTANTS:
                del seen[next(iter(seen))]
            cursor = advance(cursor, time, ns)
            out.append(f"{key}:{ns}:{index}")
        self._cursor = cursor
        return out
