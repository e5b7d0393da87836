"""The pure core of ctrproto.ingest (issue 12): records, line assembly, the cursor rule.

No daemon: the daemon's behaviour is simulated where it matters (its log copier cutting lines
at 16 KiB, its inclusive ``since``), shaped after what dockerd 20.10 sends.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.ingest import records
from ctrproto.ingest.assembly import DAEMON_PIECE_BYTES, Line, LineAssembler
from ctrproto.ingest.cursor import Cursor, Resume, advance
from ctrproto.ingest.records import (
    Lines,
    Record,
    encode,
    encode_batch,
    parse_timestamp,
    since_param,
)

NS = 1_000_000_000
BASE_NS = 1_796_167_036 * NS  # 2026-12-01T23:17:16Z


def stamp(ns: int) -> str:
    """The daemon's RFC3339NanoFixed form of epoch nanoseconds."""
    seconds, nanos = divmod(ns, NS)
    day = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return day.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def record(line: bytes, **kw: object) -> Record:
    fields: dict[str, object] = dict(
        host="unix:///var/run/docker.sock", container_id="ab" * 32, container_name="web-1",
        image="busybox:latest", stream="stdout", time=stamp(BASE_NS + 5), time_ns=BASE_NS + 5,
        line=line,
    )
    fields.update(kw)
    return Record(**fields)  # type: ignore[arg-type]


def decoded(data: bytes) -> dict[str, object]:
    assert data.endswith(b"\n") and data.count(b"\n") == 1, data
    value = json.loads(data)
    assert isinstance(value, dict)
    return value


def original_bytes(obj: dict[str, object]) -> bytes:
    """What a consumer does to get the exact line back."""
    if "line_base64" in obj:
        return base64.b64decode(str(obj["line_base64"]))
    return str(obj["line"]).encode()


# ------------------------------------------------------------------------------- records


def test_encode_ascii_line_has_the_documented_keys_in_order() -> None:
    rec = record(b"GET /index.html 200 12ms")
    obj = decoded(encode(rec))
    assert list(obj) == [
        "host", "container_id", "container_name", "image", "stream", "time", "line"
    ]
    assert obj == {
        "host": rec.host, "container_id": rec.container_id, "container_name": "web-1",
        "image": "busybox:latest", "stream": "stdout", "time": rec.time,
        "line": "GET /index.html 200 12ms",
    }
    assert obj["time"] == "2026-12-01T23:17:16.000000005Z"


def test_encode_unicode_line_is_plain_utf8() -> None:
    text = "héllo wörld 漢字 🎉"
    data = encode(record(text.encode()))
    obj = decoded(data)
    assert obj["line"] == text and "line_base64" not in obj
    assert text.encode() in data  # written as UTF-8, not \u escapes


def test_encode_escapes_quotes_backslashes_and_control_characters() -> None:
    raw = b'say "hi" \\ back\x00\x01\x1f\t\r\x7f end'
    obj = decoded(encode(record(raw)))
    assert obj["line"] == raw.decode()
    assert "line_base64" not in obj


def test_encode_non_utf8_is_lossless_through_line_base64() -> None:
    raw = b"\xff\xfe bad \x80\xc3( utf8 \xed\xa0\x80"  # the last: an encoded surrogate, invalid
    obj = decoded(encode(record(raw)))
    assert obj["line"] == raw.decode(errors="replace")
    assert base64.b64decode(str(obj["line_base64"])) == raw


def test_encode_partial_and_labels_only_when_set() -> None:
    obj = decoded(encode(record(b"x", partial=True, labels={"app": "web", "tier": "é"})))
    assert obj["partial"] is True and obj["labels"] == {"app": "web", "tier": "é"}
    plain = decoded(encode(record(b"x", labels={})))
    assert "partial" not in plain and plain["labels"] == {}
    assert "labels" not in decoded(encode(record(b"x")))


def test_encode_survives_strings_utf8_cannot_hold() -> None:
    # Names and labels come out of the daemon's JSON, which can carry lone surrogates.
    rec = record(b"ok", container_name="bad\udc80name", labels={"k\ud800": "v"})
    obj = decoded(encode(rec))
    assert obj["container_name"] == "bad\udc80name" and obj["labels"] == {"k\ud800": "v"}


def test_encode_prefix_cache_is_bounded() -> None:
    for i in range(records._PREFIX_CACHE_MAX + 10):
        encode(record(b"x", container_id=f"{i:064x}"))
    assert len(records._prefixes) <= records._PREFIX_CACHE_MAX
    # and a record after a clear is still right
    assert decoded(encode(record(b"y", container_id="z")))["container_id"] == "z"


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=200) | st.text(max_size=60).map(lambda s: s.encode("utf-8", "replace")),
    partial=st.booleans(),
    stream=st.sampled_from(["stdout", "stderr"]),
)
def test_encode_round_trip(raw: bytes, partial: bool, stream: str) -> None:
    obj = decoded(encode(record(raw, partial=partial, stream=stream)))
    assert original_bytes(obj) == raw
    assert obj["stream"] == stream
    assert obj.get("partial", False) is partial
    assert ("line_base64" in obj) == (not _is_utf8(raw))


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.binary(max_size=40) | st.sampled_from([b"plain text", b"", b"a\"b", b"\\"]),
            st.booleans(),
        ),
        max_size=8,
    ),
    groups=st.integers(1, 3),
    labels=st.none() | st.just({"app": "web"}),
)
def test_encode_batch_is_each_record_encoded_in_order(
    lines: list[tuple[bytes, bool]], groups: int, labels: dict[str, str] | None
) -> None:
    """The followers' fast path (a group of lines, one escaping check for the whole group)
    writes exactly what :func:`encode` writes for each record, in order."""
    batch = []
    for g in range(groups):
        recs = [
            record(raw, partial=partial, stream=("stdout", "stderr")[g % 2], labels=labels,
                   time=stamp(BASE_NS + i), time_ns=BASE_NS + i)
            for i, (raw, partial) in enumerate(lines)
        ]
        group = Lines.of(recs[0]) if recs else None
        if group is not None:
            group.lines = [(r.time, r.time_ns, r.line, r.partial) for r in recs]
            batch.append(group)
            assert group.records() == recs
    want = b"".join(encode(r) for group in batch for r in group.records())
    assert encode_batch(batch) == want


def test_lines_of_refuses_a_time_that_is_not_a_timestamp() -> None:
    """The batch encoder copies times unescaped: a group's times must be timestamps."""
    with pytest.raises(ValueError, match="RFC 3339"):
        Lines.of(record(b"x", time='2026"}'))


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------------------- timestamps


def test_parse_timestamp_daemon_form() -> None:
    assert parse_timestamp(b"2026-12-01T23:17:16.123456789Z") == BASE_NS + 123456789
    assert parse_timestamp(b"1970-01-01T00:00:00.000000000Z") == 0
    assert parse_timestamp(b"2024-02-29T12:00:00.000000001Z") == (
        calendar.timegm((2024, 2, 29, 12, 0, 0)) * NS + 1
    )


def test_parse_timestamp_other_rfc3339_forms() -> None:
    assert parse_timestamp(b"2026-12-01T23:17:16Z") == BASE_NS
    assert parse_timestamp(b"2026-12-01T23:17:16.5Z") == BASE_NS + 500_000_000
    assert parse_timestamp(b"2026-12-01T23:17:16.000123Z") == BASE_NS + 123_000
    assert parse_timestamp(b"2026-12-02T01:17:16.1+02:00") == BASE_NS + 100_000_000
    assert parse_timestamp(b"2026-12-01T17:47:16-05:30") == BASE_NS
    assert parse_timestamp(b"2026-12-01t23:17:16z") == BASE_NS


@pytest.mark.parametrize("bad", [
    b"", b"garbage", b"2026-13-01T00:00:00.000000000Z", b"2026-02-29T00:00:00.000000000Z",
    b"2026-12-01T24:00:00.000000000Z", b"2026-12-01T23:17:16.1234567890Z",
    b"2026-12-01 23:17:16.123456789Z", b"2026-12-01T23:17:16.12345678 Z",
    b"2026-12-01T23:17:16.+23456789Z", b"2026-12-01T23:17:16", b"2026-12-01T23:17:16+25:00",
    b"2026-1a-01T23:17:16.123456789Z",
])
def test_parse_timestamp_rejects(bad: bytes) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(bad)


@settings(max_examples=300, deadline=None)
@given(seconds=st.integers(0, 253402300799), nanos=st.integers(0, NS - 1))
def test_parse_timestamp_matches_the_calendar(seconds: int, nanos: int) -> None:
    ns = seconds * NS + nanos
    assert parse_timestamp(stamp(ns).encode()) == ns
    # alternating seconds: the one-entry cache must not leak between them
    assert parse_timestamp(stamp(BASE_NS).encode()) == BASE_NS
    assert parse_timestamp(stamp(ns).encode()) == ns


def test_since_param_is_seconds_and_nine_digits() -> None:
    assert since_param(BASE_NS + 5) == "1796167036.000000005"
    assert since_param(BASE_NS) == "1796167036.000000000"
    assert since_param(0) == "0.000000000"
    assert since_param(parse_timestamp(b"2026-12-01T23:17:16.123456789Z")) == (
        "1796167036.123456789"
    )
    with pytest.raises(ValueError):
        since_param(-1)


# ----------------------------------------------------------------------- a daemon's copier


def copier_messages(data: bytes, piece: int) -> list[tuple[bytes, bool]]:
    """The messages dockerd's log copier makes of a stream's bytes: a line per message, a line
    with no newline in ``piece`` bytes cut there; the end of the stream flushes the rest.
    Each message: (bytes, ends_a_line)."""
    out: list[tuple[bytes, bool]] = []
    pos = 0
    while pos < len(data):
        newline = data.find(b"\n", pos, pos + piece)
        if newline >= 0:
            out.append((data[pos:newline + 1], True))
            pos = newline + 1
        else:
            out.append((data[pos:pos + piece], False))
            pos += piece
    return out


def daemon_frames(
    lines: list[bytes], piece: int, own_stamps: bool, ending: bytes = b"\n",
    unterminated_last: bool = False, start_ns: int = BASE_NS, ns_step: int = 7,
) -> tuple[list[bytes], list[tuple[str, int, bytes]]]:
    """(payloads "<ts> <text>", expected (time, ns, line) with the first piece's stamp).

    ``own_stamps``: every piece has its own, later stamp (as the issue describes newer daemons);
    otherwise the pieces of a line share the first's (what dockerd 20.10 does).  Several lines
    share one nanosecond when ``ns_step`` is 0.
    """
    data = ending.join(lines) + (b"" if unterminated_last else ending)
    payloads: list[bytes] = []
    expected: list[tuple[str, int, bytes]] = []
    ns = start_ns
    line_ns: int | None = None
    for text, ends in copier_messages(data, piece):
        if line_ns is None:
            line_ns = ns
            expected.append((stamp(ns), ns, b""))
        this = ns if own_stamps else line_ns
        payloads.append(stamp(this).encode() + b" " + text)
        if own_stamps:
            ns += 1
        if ends:
            line_ns = None
            ns += ns_step
    for i, line in enumerate(lines):
        expected[i] = (expected[i][0], expected[i][1], line)
    return payloads, expected


def assembled(assembler: LineAssembler, chunks: list[bytes]) -> list[Line]:
    out: list[Line] = []
    for chunk in chunks:
        out.extend(assembler.feed(chunk))
    out.extend(assembler.flush())
    return out


def cut_expected(expected: list[tuple[str, int, bytes]], limit: int) -> list[Line]:
    """What max_line_bytes makes of whole lines: pieces of ``limit``, all marked partial."""
    out: list[Line] = []
    for time, ns, line in expected:
        if len(line) <= limit:
            out.append((time, ns, line, False))
        else:
            out.extend((time, ns, line[i:i + limit], True) for i in range(0, len(line), limit))
    return out


# ----------------------------------------------------------------------- non-TTY assembly


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.binary(max_size=30).map(lambda b: b.replace(b"\n", b".")) | st.just(b"x\ny"),
        max_size=12,
    ),
    piece=st.integers(4, 24),
    limit=st.integers(1, 40),
    odd_stamp=st.booleans(),
    cuts=st.lists(st.integers(0, 20), max_size=4),
)
def test_feed_all_is_feed_frame_by_frame(
    lines: list[bytes], piece: int, limit: int, odd_stamp: bool, cuts: list[int]
) -> None:
    """The hot path (:meth:`LineAssembler.feed_all`, a batch of frames at once) gives exactly
    what :meth:`LineAssembler.feed` gives frame by frame: split lines, frames holding several
    lines, lines over the limit, and stamps in another RFC 3339 form (fewer digits)."""
    payloads, _ = daemon_frames(lines, piece, own_stamps=True)
    if odd_stamp and payloads:
        payloads[0] = b"2026-12-01T23:17:16.5Z " + payloads[0].split(b" ", 1)[1]
    one = LineAssembler("stdout", max_line_bytes=limit, piece_bytes=piece)
    want = [line for p in payloads for line in one.feed(p)] + one.flush()
    many = LineAssembler("stdout", max_line_bytes=limit, piece_bytes=piece)
    got: list[Line] = []
    start = 0
    for cut in sorted(cuts) + [len(payloads)]:  # the batches the reads happen to make
        got += many.feed_all(payloads[start:max(start, cut)])
        start = max(start, cut)
    assert got + many.flush() == want



def test_whole_lines_one_per_frame() -> None:
    asm = LineAssembler("stdout")
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z hello\n") == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"hello", False)
    ]
    assert asm.feed(b"2026-12-01T23:17:16.000000002Z \n") == [
        ("2026-12-01T23:17:16.000000002Z", BASE_NS + 2, b"", False)
    ]
    # A '\r' in a non-TTY line is text.
    assert asm.feed(b"2026-12-01T23:17:16.000000003Z a\r\n")[0][2] == b"a\r"
    assert asm.flush() == []


def test_split_line_is_joined_with_the_first_pieces_timestamp() -> None:
    asm = LineAssembler("stderr", piece_bytes=4)
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z aaaa") == []
    assert asm.feed(b"2026-12-01T23:17:16.000000002Z bbbb") == []
    assert asm.feed(b"2026-12-01T23:17:16.000000003Z cc\n") == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"aaaabbbbcc", False)
    ]
    assert asm.feed(b"2026-12-01T23:17:16.000000004Z next\n")[0][:3] == (
        "2026-12-01T23:17:16.000000004Z", BASE_NS + 4, b"next"
    )


def test_a_frame_holding_several_lines_gives_them_all() -> None:
    asm = LineAssembler("stdout", piece_bytes=1)
    assert [x[2] for x in asm.feed(b"2026-12-01T23:17:16.000000001Z a\nb\n\nc")] == [
        b"a", b"b", b"", b"c"  # "c": a short unterminated end is a line of its own
    ]
    assert asm.flush() == []


def test_a_short_unterminated_message_is_a_line_of_its_own() -> None:
    """The daemon cuts only at exactly its buffer size: a shorter message without newline is
    a run's last output, and a restarted container's next line must not be joined to it."""
    asm = LineAssembler("stdout")
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z tail") == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"tail", False)
    ]
    assert asm.feed(b"2026-12-01T23:17:17.000000001Z next run\n")[0][2] == b"next run"
    assert asm.flush() == []
    piece = b"x" * DAEMON_PIECE_BYTES
    assert asm.feed(b"2026-12-01T23:17:18.000000001Z " + piece) == []  # a cut: continued
    assert asm.feed(b"2026-12-01T23:17:18.000000001Z end\n")[0][2] == piece + b"end"


def test_flush_delivers_a_last_line_without_newline_and_resets() -> None:
    asm = LineAssembler("stdout", piece_bytes=4)  # "tail" is a whole piece: it may continue
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z tail") == []
    assert asm.flush() == [("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"tail", False)]
    assert asm.flush() == []
    assert asm.feed(b"2026-12-01T23:17:16.000000002Z x\n")[0][2] == b"x"


def test_frame_without_a_timestamp_is_an_error() -> None:
    with pytest.raises(ValueError):
        LineAssembler("stdout").feed(b"no-timestamp-here-at-all-but-a-long-first-word-indeed\n")
    with pytest.raises(ValueError):
        LineAssembler("stdout").feed(b"hello world\n")


def test_max_line_bytes_cuts_into_partial_records() -> None:
    asm = LineAssembler("stdout", max_line_bytes=4, piece_bytes=3)
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z abcd\n") == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"abcd", False)  # exactly the max
    ]
    out = asm.feed(b"2026-12-01T23:17:16.000000002Z abcdefghij\n")
    assert [(x[2], x[3]) for x in out] == [(b"abcd", True), (b"efgh", True), (b"ij", True)]
    assert {x[1] for x in out} == {BASE_NS + 2}
    # cut across frames: records leave as soon as there is more than the max
    assert asm.feed(b"2026-12-01T23:17:16.000000003Z abc") == []
    assert asm.feed(b"2026-12-01T23:17:16.000000004Z def") == [
        ("2026-12-01T23:17:16.000000003Z", BASE_NS + 3, b"abcd", True)
    ]
    assert asm.feed(b"2026-12-01T23:17:16.000000005Z gh\n") == [
        ("2026-12-01T23:17:16.000000003Z", BASE_NS + 3, b"efgh", True)
    ]


def test_memory_stays_bounded_on_an_endless_line() -> None:
    asm = LineAssembler("stdout", max_line_bytes=1 << 20)
    piece = b"2026-12-01T23:17:16.000000001Z " + b"x" * DAEMON_PIECE_BYTES
    delivered = 0
    for _ in range(200):  # 3.2 MiB of one line
        delivered += sum(len(x[2]) for x in asm.feed(piece))
        assert asm._size <= (1 << 20)
    assert delivered == 3 * (1 << 20)
    assert sum(len(x[2]) for x in asm.flush()) == 200 * DAEMON_PIECE_BYTES - delivered


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"-")), max_size=12),
    piece=st.integers(1, 9),
    limit=st.integers(1, 30),
    own_stamps=st.booleans(),
    unterminated=st.booleans(),
    ns_step=st.sampled_from([0, 3]),
)
def test_assembly_of_daemon_frames(
    lines: list[bytes], piece: int, limit: int, own_stamps: bool, unterminated: bool,
    ns_step: int,
) -> None:
    if unterminated and (not lines or not lines[-1]):
        unterminated = False  # an empty unterminated last line is no output at all
    frames, expected = daemon_frames(lines, piece, own_stamps, b"\n", unterminated, ns_step=ns_step)
    got = assembled(LineAssembler("stdout", max_line_bytes=limit, piece_bytes=piece), frames)
    assert got == cut_expected(expected, limit)


def test_assembly_at_the_daemons_real_sizes() -> None:
    lines = [b"short", b"x" * 40_000, b"y" * DAEMON_PIECE_BYTES, b"z" * (DAEMON_PIECE_BYTES - 1),
             b"", b"\xff\xfe binary \x00"]
    frames, expected = daemon_frames(lines, DAEMON_PIECE_BYTES, own_stamps=True)
    # 40,000 bytes: 3 pieces; 16 KiB exactly: 2 (the 2nd just "\n"); 16 KiB - 1 and "\n": 1
    assert len(frames) == 9
    assert assembled(LineAssembler("stdout"), frames) == cut_expected(expected, 1 << 20)


# --------------------------------------------------------------------------- TTY assembly


def tty_wire(
    lines: list[bytes], piece: int, ending: bytes = b"\r\n", unterminated_last: bool = False,
    ns_step: int = 5,
) -> tuple[bytes, list[tuple[str, int, bytes]]]:
    frames, expected = daemon_frames(
        lines, piece, own_stamps=False, ending=ending, unterminated_last=unterminated_last,
        ns_step=ns_step,
    )
    return b"".join(frames), expected


def reads(data: bytes, rnd: random.Random, max_read: int) -> list[bytes]:
    out = []
    pos = 0
    while pos < len(data):
        n = rnd.randint(1, max_read)
        out.append(data[pos:pos + n])
        pos += n
    return out


def test_tty_lines_strip_crlf_and_keep_inner_cr() -> None:
    wire = (b"2026-12-01T23:17:16.000000001Z a\rb\r\n"
            b"2026-12-01T23:17:16.000000002Z \r\n"
            b"2026-12-01T23:17:16.000000003Z plain lf\n"
            b"2026-12-01T23:17:16.000000004Z tail\r")
    got = assembled(LineAssembler("stdout", tty=True), [wire])
    assert got == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"a\rb", False),
        ("2026-12-01T23:17:16.000000002Z", BASE_NS + 2, b"", False),
        ("2026-12-01T23:17:16.000000003Z", BASE_NS + 3, b"plain lf", False),
        ("2026-12-01T23:17:16.000000004Z", BASE_NS + 4, b"tail\r", False),
    ]


def test_tty_byte_by_byte() -> None:
    wire, expected = tty_wire([b"one", b"x" * 40_000, b"three 3"], DAEMON_PIECE_BYTES)
    asm = LineAssembler("stdout", tty=True)
    got = assembled(asm, [wire[i:i + 1] for i in range(len(wire))])
    assert got == cut_expected(expected, 1 << 20)


def test_tty_long_line_pieces_are_joined() -> None:
    # dockerd 20.10 with a TTY: 40,000 x's arrive as 16 KiB pieces, each with its own prefix
    # directly after the previous piece (no newline in between).
    wire, expected = tty_wire([b"x" * 40_000, b"after"], DAEMON_PIECE_BYTES)
    assert wire.count(b"Z ") == 4
    got = assembled(LineAssembler("stdout", tty=True), [wire])
    assert got == cut_expected(expected, 1 << 20)
    assert got[0][2] == b"x" * 40_000


def test_tty_stream_without_prefix_is_an_error() -> None:
    with pytest.raises(ValueError):
        LineAssembler("stdout", tty=True).feed(b"x" * 100)


def test_tty_prefix_cut_at_the_streams_end_is_dropped() -> None:
    asm = LineAssembler("stdout", tty=True)
    assert asm.feed(b"2026-12-01T23:17:16.000000001Z a\r\n2026-12-01T23:1") == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"a", False)
    ]
    assert asm.flush() == []


def test_tty_text_at_a_cut_that_is_not_a_prefix_is_text() -> None:
    # A daemon that did not cut there: the text just goes on.
    asm = LineAssembler("stdout", tty=True, piece_bytes=4)
    got = assembled(asm, [b"2026-12-01T23:17:16.000000001Z abcdefgh ij\r\n"
                          b"2026-12-01T23:17:16.000000002Z k\r\n"])
    assert [x[:3] for x in got] == [
        ("2026-12-01T23:17:16.000000001Z", BASE_NS + 1, b"abcdefgh ij"),
        ("2026-12-01T23:17:16.000000002Z", BASE_NS + 2, b"k"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"-")), min_size=1, max_size=10
    ),
    piece=st.integers(1, 8),
    limit=st.integers(1, 40),
    crlf=st.booleans(),
    unterminated=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_tty_assembly_with_reads_cut_anywhere(
    lines: list[bytes], piece: int, limit: int, crlf: bool, unterminated: bool, seed: int
) -> None:
    ending = b"\r\n" if crlf else b"\n"
    if not crlf:
        # Without "\r\n" a text ending in '\r' cannot be told from a "\r\n" ending: none here.
        lines = [line.rstrip(b"\r") for line in lines]
    if unterminated and not lines[-1]:
        unterminated = False
    wire, expected = tty_wire(lines, piece, ending, unterminated)
    chunks = reads(wire, random.Random(seed), 50)
    got = assembled(LineAssembler("stdout", limit, tty=True, piece_bytes=piece), chunks)
    assert got == cut_expected(expected, limit)


# ---------------------------------------------------------------------------------- cursor


def test_advance() -> None:
    c1 = advance(None, "t10", 10)
    assert c1 == Cursor("t10", 10, 1)
    assert advance(c1, "t10", 10) == Cursor("t10", 10, 2)
    assert advance(advance(c1, "t10", 10), "t11", 11) == Cursor("t11", 11, 1)
    # a clock stepped back: the cursor stays at the latest instant, count unchanged
    assert advance(Cursor("t10", 10, 3), "t9", 9) == Cursor("t10", 10, 3)
    with pytest.raises(AttributeError):
        c1.count = 5  # type: ignore[misc]


def test_since_is_the_earliest_cursor_and_never_rounded() -> None:
    a = Cursor(stamp(BASE_NS + 123), BASE_NS + 123, 2)
    b = Cursor(stamp(BASE_NS + 7), BASE_NS + 7, 1)
    assert Resume({"stdout": a, "stderr": b}).since() == "1796167036.000000007"
    assert Resume({"stdout": a}).since() == "1796167036.000000123"
    assert Resume({"stdout": a, "stderr": None}).since() is None
    assert Resume({}).since() is None


def test_resume_drops_count_lines_at_the_cursor_then_keeps_everything() -> None:
    resume = Resume({"stdout": Cursor("t", 10, 2)})
    seq = [9, 10, 10, 10, 11, 8, 10]
    assert [resume.keep("stdout", ns) for ns in seq] == [
        False, False, False, True, True, True, True
    ]
    assert resume.gaps == set()
    # a stream without a cursor keeps everything
    assert all(resume.keep("stderr", ns) for ns in seq)


def test_two_streams_with_different_cursors() -> None:
    resume = Resume({"stdout": Cursor("t", 20, 1), "stderr": Cursor("t", 10, 3)})
    since_ns = 10
    assert resume.since() == since_param(since_ns)
    arrivals = [("stderr", 10), ("stdout", 15), ("stderr", 10), ("stdout", 20), ("stderr", 10),
                ("stderr", 10), ("stdout", 20), ("stderr", 12), ("stdout", 21)]
    kept = [(s, ns) for s, ns in arrivals if resume.keep(s, ns)]
    assert kept == [("stderr", 10), ("stdout", 20), ("stderr", 12), ("stdout", 21)]


def test_floor_cursor_keeps_from_the_instant() -> None:
    resume = Resume({"stdout": Cursor("t", 100, 0), "stderr": Cursor("t", 100, 0)})
    assert resume.since() == since_param(100)
    assert [resume.keep("stdout", ns) for ns in (99, 100, 100, 101)] == [False, True, True, True]
    assert resume.gaps == set()


def test_gap_is_reported_when_the_cursors_lines_are_gone() -> None:
    resume = Resume({"stdout": Cursor("t", 100, 2), "stderr": Cursor("t", 100, 1)})
    # stdout: only one of the two delivered lines at 100 came back, then a later one
    assert [resume.keep("stdout", ns) for ns in (100, 105)] == [False, True]
    # stderr: the line at the cursor came back: no gap
    assert [resume.keep("stderr", ns) for ns in (100, 101)] == [False, True]
    assert resume.gaps == {"stdout"}


Arrival = tuple[str, int]  # (stream, ns), in the order the daemon sends them


def delivered_cursors(lines: list[Arrival], k: int) -> dict[str, Cursor | None]:
    cursors: dict[str, Cursor | None] = {"stdout": None, "stderr": None}
    for stream, ns in lines[:k]:
        cursors[stream] = advance(cursors[stream], str(ns), ns)
    return cursors


def resumed(lines: list[Arrival], cursors: dict[str, Cursor | None]) -> list[int]:
    """Indices the resumed request delivers: the daemon's inclusive since, then Resume.keep."""
    resume = Resume(cursors)
    since = resume.since()
    since_ns = None if since is None else parse_since(since)
    return [
        i for i, (stream, ns) in enumerate(lines)
        if (since_ns is None or ns >= since_ns) and resume.keep(stream, ns)
    ]


def parse_since(since: str) -> int:
    seconds, nanos = since.split(".")
    assert len(nanos) == 9
    return int(seconds) * NS + int(nanos)


def monotonic_streams() -> st.SearchStrategy[list[Arrival]]:
    """Two streams, each with non-decreasing stamps (many equal), interleaved at random; the
    streams' stamps may cross (stdout's may run ahead of stderr's and back)."""
    def build(draw_steps: tuple[list[int], list[int], list[bool]]) -> list[Arrival]:
        out_steps, err_steps, order = draw_steps
        out_ns = err_ns = BASE_NS
        outs = []
        for step in out_steps:
            out_ns += step
            outs.append(("stdout", out_ns))
        errs = []
        for step in err_steps:
            err_ns += step
            errs.append(("stderr", err_ns))
        merged: list[Arrival] = []
        for pick_out in order:
            if pick_out and outs:
                merged.append(outs.pop(0))
            elif errs:
                merged.append(errs.pop(0))
        return merged + outs + errs

    steps = st.lists(st.sampled_from([0, 0, 0, 1, 2, 5]), max_size=25)
    return st.tuples(steps, steps, st.lists(st.booleans(), max_size=50)).map(build)


@settings(max_examples=300, deadline=None)
@given(lines=monotonic_streams())
def test_resume_after_every_prefix_delivers_exactly_the_rest(lines: list[Arrival]) -> None:
    for k in range(len(lines) + 1):
        assert resumed(lines, delivered_cursors(lines, k)) == list(range(k, len(lines))), k


def test_many_lines_sharing_one_nanosecond() -> None:
    outs: list[Arrival] = [("stdout", 5)] * 50 + [("stdout", 6)] * 3
    errs: list[Arrival] = [("stderr", 5)] * 20
    picks = ["stdout"] * len(outs) + ["stderr"] * len(errs)
    random.Random(1).shuffle(picks)  # a random interleaving; each stream keeps its order
    lines = [(outs if p == "stdout" else errs).pop(0) for p in picks]
    for k in range(len(lines) + 1):
        assert resumed(lines, delivered_cursors(lines, k)) == list(range(k, len(lines)))


@settings(max_examples=300, deadline=None)
@given(
    stamps=st.lists(
        st.tuples(st.sampled_from(["stdout", "stderr"]), st.integers(0, 6)), max_size=30
    )
)
def test_non_monotonic_stamps_never_duplicate_and_lose_only_what_is_documented(
    stamps: list[Arrival],
) -> None:
    """With a clock that steps back: no line is ever delivered twice; the lines lost are exactly
    the undelivered ones stamped before the request's since (the daemon filters them out) and
    the undelivered ones stamped before their stream's cursor that come before the first
    undelivered line at or after it (they look delivered)."""
    for k in range(len(stamps) + 1):
        cursors = delivered_cursors(stamps, k)
        got = resumed(stamps, cursors)
        assert all(i >= k for i in got), "a delivered line came again"
        since = Resume(cursors).since()
        since_ns = -1 if since is None else parse_since(since)
        # filtered out by the daemon: stamped before the since of the request
        lost = [i for i in range(k, len(stamps)) if stamps[i][1] < since_ns]
        for stream in ("stdout", "stderr"):
            cursor = cursors[stream]
            if cursor is None:
                continue
            for i in range(k, len(stamps)):
                s, ns = stamps[i]
                if s != stream:
                    continue
                if ns >= cursor.time_ns:
                    break
                if ns >= since_ns:
                    lost.append(i)
        assert sorted(got + lost) == list(range(k, len(stamps)))


def test_non_monotonic_example() -> None:
    lines: list[Arrival] = [("stdout", 20), ("stdout", 15), ("stdout", 20), ("stdout", 25)]
    # all of 20, 15, 20 delivered: the cursor is (20, 2); the 15 is not counted
    assert delivered_cursors(lines, 3)["stdout"] == Cursor("20", 20, 2)
    assert resumed(lines, delivered_cursors(lines, 3)) == [3]
    # only the first 20 delivered: the 15 that follows is lost (documented), the rest comes
    assert resumed(lines, delivered_cursors(lines, 1)) == [2, 3]


# ------------------------------------------------------------ assembly + cursor, end to end


@settings(max_examples=150, deadline=None)
@given(
    out_lines=st.lists(st.binary(min_size=0, max_size=20).map(lambda b: b.replace(b"\n", b".")),
                       max_size=8),
    err_lines=st.lists(st.binary(min_size=0, max_size=20).map(lambda b: b.replace(b"\n", b".")),
                       max_size=8),
    own_stamps=st.booleans(),
    ns_step=st.sampled_from([0, 4]),
    seed=st.integers(0, 2**32),
)
def test_resume_on_reassembled_frames(
    out_lines: list[bytes], err_lines: list[bytes], own_stamps: bool, ns_step: int, seed: int
) -> None:
    """Frames of two streams (long lines split), assembled with a small max_line_bytes, a prefix
    of the records delivered; the resumed request (the daemon filters FRAMES by since) is
    assembled again and filtered by Resume: exactly the undelivered records come out."""
    piece, limit = 6, 9
    streams = {}
    for name, lines, start in (("stdout", out_lines, BASE_NS), ("stderr", err_lines, BASE_NS + 1)):
        frames, _ = daemon_frames(lines, piece, own_stamps, ns_step=ns_step, start_ns=start)
        streams[name] = frames
    # interleave the two streams' frames at random, as one request would carry them
    rnd = random.Random(seed)
    order = [s for s in streams for _ in streams[s]]
    rnd.shuffle(order)
    positions = {"stdout": 0, "stderr": 0}
    wire: list[tuple[str, bytes]] = []
    for s in order:
        wire.append((s, streams[s][positions[s]]))
        positions[s] += 1

    def read(frames: list[tuple[str, bytes]]) -> list[tuple[str, Line]]:
        asms = {s: LineAssembler(s, limit) for s in streams}
        out = [(s, line) for s, payload in frames for line in asms[s].feed(payload)]
        return out + [(s, line) for s in streams for line in asms[s].flush()]

    full = read(wire)
    for k in range(len(full) + 1):
        cursors: dict[str, Cursor | None] = {"stdout": None, "stderr": None}
        for s, (time, ns, _, _) in full[:k]:
            cursors[s] = advance(cursors[s], time, ns)
        resume = Resume(cursors)
        since = resume.since()
        since_ns = -1 if since is None else parse_since(since)
        again = [(s, p) for s, p in wire if parse_timestamp(p.split(b" ", 1)[0]) >= since_ns]
        kept = [(s, line) for s, line in read(again) if resume.keep(s, line[1])]
        assert kept == full[k:], k
        assert resume.gaps == set()


def test_a_stream_that_never_delivered_resumes_near_the_other_not_from_the_start() -> None:
    """A container that writes to stdout only: its reconnect starts a second before stdout's
    cursor, not at the log's beginning; the floor keeps every later stderr line."""
    from ctrproto.ingest.follower import FLOOR_MARGIN_NS, with_floors

    out = Cursor("2026-12-01T23:17:16.000000005Z", BASE_NS + 5, 2)
    floored = with_floors({"stdout": out, "stderr": None})
    assert floored["stdout"] == out
    floor = floored["stderr"]
    assert floor is not None and floor.count == 0
    assert floor.time_ns == BASE_NS + 5 - FLOOR_MARGIN_NS
    resume = Resume(floored)
    assert resume.since() == since_param(BASE_NS + 5 - FLOOR_MARGIN_NS)
    assert resume.keep("stderr", BASE_NS + 4)  # stamped before stdout's cursor: still kept
    assert not resume.keep("stdout", BASE_NS + 4)
    assert with_floors({"stdout": None, "stderr": None}) == {"stdout": None, "stderr": None}
    assert with_floors({"stdout": out}) == {"stdout": out}  # a TTY: one stream
