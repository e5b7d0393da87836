"""One log line as the ingester delivers it, its JSON form, and the daemon's timestamps.

This is the hot path of the ingester (every line passes through :func:`encode` and
:func:`parse_timestamp`), so both take the common shape first and fall back to the general one:

- :func:`encode_batch` writes one JSON object per line.  The followers hand lines on in
  :class:`Lines` groups (one container stream each), not as a :class:`Record` per line: the
  per-container part of the object (host, ids, name, image, stream) is escaped once per group,
  and text that needs no escaping (checked for the whole group at once) is copied between
  constant pieces; anything else goes through the C escapers of :mod:`json`.  Records are made
  only for a sink that wants objects (:meth:`Lines.records`).
  Text that is not UTF-8 cannot be a JSON string losslessly: the record then carries ``line``
  decoded with U+FFFD replacements (readable) *and* ``line_base64`` with the exact bytes
  (lossless); a consumer that needs the bytes takes ``line_base64`` when it is present.
- :func:`parse_timestamp` reads the daemon's ``RFC3339NanoFixed`` prefix (always 9 fraction
  digits and ``Z``) by slicing, with the date part cached: consecutive lines almost always share
  their second.  Other RFC 3339 forms (fewer digits, a numeric offset) go through a regex.

Pure code (no I/O): it sits below the asyncio runtime of :mod:`ctrproto.ingest`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from .hotpath import encode_plain
from .hotpath_py import MID, PLAIN, Line

__all__ = ["Line", "Lines", "Record", "encode", "encode_batch", "parse_timestamp", "since_param"]

_NS = 1_000_000_000

# The C escapers behind json.dumps: one quoted JSON string per call, no dict/encoder set-up.
# ``_esc_text`` keeps non-ASCII characters as they are (compact UTF-8 output); it is only used on
# text decoded from bytes, which cannot hold lone surrogates.  ``_esc_ascii`` escapes everything
# outside ASCII and is used on strings that came out of the daemon's JSON (names, labels), which
# may hold lone surrogates that UTF-8 cannot encode.
_esc_text = json.encoder.encode_basestring
_esc_ascii = json.encoder.encode_basestring_ascii


@dataclass(slots=True)
class Record:
    """One delivered log line of one container's stream.

    ``time`` is the daemon's timestamp exactly as it sent it (the cursor and the output both use
    it, so a consumer can compare with ``docker logs -t``); ``time_ns`` is the same instant as
    epoch nanoseconds, for ordering and resuming.  ``line`` has no trailing newline.
    ``partial`` marks a record that is one piece of a line longer than the ingester's maximum
    line length (every piece of such a line is marked, see :mod:`.assembly`).
    """

    host: str
    container_id: str
    container_name: str
    image: str
    stream: str
    time: str
    time_ns: int
    line: bytes
    partial: bool = False
    labels: dict[str, str] | None = None


@dataclass(slots=True)
class Lines:
    """Consecutive lines of ONE container stream, with what every record of them shares: the
    shape the followers hand on (a tuple per line is far cheaper than a Record per line)."""

    host: str
    container_id: str
    container_name: str
    image: str
    stream: str
    labels: dict[str, str] | None
    lines: list[Line]
    #: The stream's cursor (time, ns, count) before these lines (None: nothing delivered yet):
    #: where a sink that numbers lines (:mod:`.message_ids`) starts counting.
    before: tuple[str, int, int] | None = None

    def records(self) -> list[Record]:
        host, cid, name, image, stream, labels = (
            self.host, self.container_id, self.container_name, self.image, self.stream,
            self.labels,
        )
        return [
            Record(host, cid, name, image, stream, time, ns, line, partial, labels)
            for time, ns, line, partial in self.lines
        ]

    @classmethod
    def of(cls, record: Record) -> Lines:
        """One record as a group of one (for callers that hold records).  Its time must be a
        timestamp (:func:`parse_timestamp` checks): :func:`encode_batch` copies it unescaped."""
        parse_timestamp(record.time.encode())
        return cls(
            record.host, record.container_id, record.container_name, record.image,
            record.stream, record.labels,
            [(record.time, record.time_ns, record.line, record.partial)],
        )


# (host, id, name, image, stream) -> the escaped start of the object, up to '"time":'.
_prefixes: dict[tuple[str, str, str, str, str], bytes] = {}
_PREFIX_CACHE_MAX = 4096


def _prefix(key: tuple[str, str, str, str, str]) -> bytes:
    """The escaped start of the object for (host, id, name, image, stream), cached."""
    head = _prefixes.get(key)
    if head is not None:
        return head
    host, cid, name, image, stream = key
    text = (
        '{"host":' + _esc_ascii(host)
        + ',"container_id":' + _esc_ascii(cid)
        + ',"container_name":' + _esc_ascii(name)
        + ',"image":' + _esc_ascii(image)
        + ',"stream":' + _esc_ascii(stream)
        + ',"time":'
    )
    if len(_prefixes) >= _PREFIX_CACHE_MAX:
        # Containers come and go; a bounded cache keeps memory independent of their number.
        _prefixes.clear()
    head = text.encode()
    _prefixes[key] = head
    return head


def encode(record: Record) -> bytes:
    """The record as one JSON object followed by ``b"\\n"`` (one JSONL line).

    Keys in order: host, container_id, container_name, image, stream, time, line, then
    ``line_base64`` (only when ``line`` is not valid UTF-8: the exact bytes), ``partial``
    (only when true) and ``labels`` (only when not None).
    """
    key = (record.host, record.container_id, record.container_name, record.image, record.stream)
    return _encode_one(
        _prefix(key), record.time, record.line, record.partial, _labels(record.labels)
    )


def encode_batch(groups: list[Lines]) -> bytes:
    """Every line of every group as JSONL (what :func:`encode` gives per record, joined)."""
    out: list[bytes] = []
    add = out.append
    for group in groups:
        head = _prefix(
            (group.host, group.container_id, group.container_name, group.image, group.stream)
        )
        lines, labels = group.lines, group.labels
        # A line's time is a timestamp the assembler parsed (digits and punctuation), so only
        # the text can need escaping: one check for the whole group.
        plain = None if labels is not None else encode_plain(head + b'"', lines)
        if plain is not None:
            add(plain)
        else:
            extras = _labels(labels)
            for time, _, raw, partial in lines:
                add(_encode_one(head, time, raw, partial, extras))
    return b"".join(out)


def _encode_one(head: bytes, time: str, raw: bytes, partial: bool, labels: bytes) -> bytes:
    extra = (b',"partial":true' if partial else b"") + labels
    if time.isascii():
        time_b = time.encode()
        if not raw.translate(None, PLAIN) and not time_b.translate(None, PLAIN):
            return b"".join((head, b'"', time_b, MID, raw, b'"', extra, b"}\n"))
    try:
        text = raw.decode()
        b64 = ""
    except UnicodeDecodeError:
        text = raw.decode(errors="replace")
        b64 = ',"line_base64":"' + base64.b64encode(raw).decode("ascii") + '"'
    body = _esc_ascii(time) + ',"line":' + _esc_text(text) + b64
    return b"".join((head, body.encode(), extra, b"}\n"))


def _labels(labels: dict[str, str] | None) -> bytes:
    """The ``labels`` key (after ``line`` and ``partial``) when labels were asked for."""
    if labels is None:
        return b""
    return b',"labels":' + json.dumps(labels, separators=(",", ":"), sort_keys=True).encode()


# ------------------------------------------------------------------------------- timestamps

_GENERAL = re.compile(
    rb"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):(\d\d))"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# The last "YYYY-MM-DDTHH:MM:SS" seen and its epoch nanoseconds, as ONE tuple so that a reader in
# another thread never sees the head of one and the seconds of another.
_last_second: tuple[bytes, int] = (b"", 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _epoch_seconds(
    year: int, month: int, day: int, hour: int, minute: int, second: int, text: bytes
) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12:
        raise ValueError(f"bad month in timestamp {text!r}")
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
        raise ValueError(f"bad day in timestamp {text!r}")
    if hour > 23 or minute > 59 or second > 60:  # 60: a leap second, as RFC 3339 allows
        raise ValueError(f"bad time of day in timestamp {text!r}")
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second


def epoch_ns_of_second(head: bytes) -> int:
    """Epoch nanoseconds of ``YYYY-MM-DDTHH:MM:SS`` (checked strictly), for callers that keep
    their own cache of the current second."""
    return _head_seconds(head) * _NS


def _head_seconds(head: bytes) -> int:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM:SS`` (checked strictly: digits where digits go)."""
    if not (
        head[4] == 45 and head[7] == 45 and head[10] in (84, 116) and head[13] == 58
        and head[16] == 58
        and (head[0:4] + head[5:7] + head[8:10] + head[11:13] + head[14:16] + head[17:19]).isdigit()
    ):
        raise ValueError(f"not an RFC 3339 timestamp: {head!r}")
    return _epoch_seconds(
        int(head[0:4]), int(head[5:7]), int(head[8:10]),
        int(head[11:13]), int(head[14:16]), int(head[17:19]), head,
    )


def parse_timestamp(prefix: bytes) -> int:
    """Epoch nanoseconds of an RFC 3339 timestamp such as ``2026-12-01T23:17:16.123456789Z``.

    The daemon always sends 9 fraction digits and ``Z`` (Go's RFC3339NanoFixed); fewer digits
    (or none) and a numeric offset (``+02:00``) are accepted too.  Raises :class:`ValueError`
    for anything else.
    """
    global _last_second
    if len(prefix) == 30 and prefix[29] == 90 and prefix[19] == 46:  # "...SS.nnnnnnnnnZ"
        fraction = prefix[20:29]
        if fraction.isdigit():
            head = prefix[:19]
            cached = _last_second
            if head != cached[0]:
                cached = _last_second = (head, _head_seconds(head) * _NS)
            return cached[1] + int(fraction)
    match = _GENERAL.fullmatch(prefix)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {prefix[:64]!r}")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    seconds = _epoch_seconds(
        int(year), int(month), int(day), int(hour), int(minute), int(second), prefix
    )
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError(f"bad offset in timestamp {prefix!r}")
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == b"+" else -offset
    nanos = int(fraction.ljust(9, b"0")) if fraction else 0
    return seconds * _NS + nanos


def since_param(time_ns: int) -> str:
    """The ``since`` query value the daemon reads as exactly ``time_ns``: ``<sec>.<9 digits>``.

    The daemon's ``since`` is inclusive and it parses the fraction to the nanosecond, so
    resuming at the cursor itself (never at cursor + 1 ns, never at a whole second) returns
    every line that shares the cursor's nanosecond; :class:`~.cursor.Resume` drops the ones
    already delivered.
    """
    if time_ns < 0:
        raise ValueError(f"a since before 1970 cannot be sent to the daemon: {time_ns}")
    seconds, nanos = divmod(time_ns, _NS)
    return f"{seconds}.{nanos:09d}"
