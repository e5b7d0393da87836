"""The ingester's two per-line loops, in pure Python: the twin (and the contract) of the compiled
``ctrproto.ingest._hotpath``.  :mod:`.hotpath` picks the fastest one available.

Both loops do only the common case and say where it stops, so that the general code (in
:mod:`.assembly` and :mod:`.records`) keeps every rule and every error message:

- :func:`stamped_lines`: frames that each hold one whole line behind the daemon's own timestamp
  form (``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``, 30 bytes, then a space), up to the first frame that
  is anything else;
- :func:`encode_plain`: a group's JSONL when no text needs escaping, else None.

Pure code (no I/O).
"""

from __future__ import annotations

from collections.abc import Callable

#: One assembled line: (timestamp string, epoch ns, text without newline, partial).
Line = tuple[str, int, bytes, bool]

# Bytes that stand for themselves inside a JSON string: printable ASCII but '"' and '\\'.
PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in (0x22, 0x5C))
MID = b'","line":"'
END = b'"}\n'
END_PARTIAL = b'","partial":true}\n'
#: Beyond this a timestamp's nanoseconds do not fit the compiled twin's 64-bit arithmetic
#: (around the year 2255): such a frame is left to the general path, in both twins alike.
NS_LIMIT = 9_000_000_000_000_000_000


def stamped_lines(
    payloads: list[bytes],
    start: int,
    max_text: int,
    second: bytes,
    second_ns: int,
    seconds_of: Callable[[bytes], int],
) -> tuple[list[Line], int, bytes, int]:
    """The lines of ``payloads[start:]`` up to the first frame that is not one whole line of at
    most ``max_text`` bytes behind the daemon's timestamp form.

    ``second``/``second_ns``: the caller's cache of the last ``YYYY-MM-DDTHH:MM:SS`` and its
    epoch ns; ``seconds_of`` computes a new one and raises ``ValueError`` for a bad one (that
    frame is then left to the general path, which reports it).  Returns (lines, the index of
    the first frame not taken, the cache after them).
    """
    out: list[Line] = []
    add = out.append
    index = start
    count = len(payloads)
    while index < count:
        payload = payloads[index]
        if not (
            type(payload) is bytes
            and 32 <= len(payload) <= max_text + 32
            and payload[30] == 32 and payload[29] == 90 and payload[19] == 46
            and payload[-1] == 10
        ):
            break
        fraction = payload[20:29]
        text = payload[31:-1]
        if not fraction.isdigit() or b"\n" in text:
            break
        head = payload[:19]
        if head != second:
            try:
                ns = seconds_of(head)
            except ValueError:
                break
            if not -NS_LIMIT < ns < NS_LIMIT:
                break
            second, second_ns = head, ns
        add((payload[:30].decode("ascii"), second_ns + int(fraction), text, False))
        index += 1
    return out, index, second, second_ns


def encode_plain(quote: bytes, lines: list[Line]) -> bytes | None:
    """``quote`` (a record's JSON start, up to and with the time's opening quote) + time +
    text for every line, as JSONL - or None when some text needs escaping.  The times are
    copied as they are: timestamps the assembler parsed."""
    if b"".join([text for _, _, text, _ in lines]).translate(None, PLAIN):
        return None
    return b"".join([
        quote + time.encode() + MID + text + (END_PARTIAL if partial else END)
        for time, _, text, partial in lines
    ])
