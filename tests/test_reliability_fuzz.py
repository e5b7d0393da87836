"""Hypothesis fuzzing of the sans-IO core and both demuxers, for any bytes cut into any reads.

What each property holds the code to:

* :class:`~ctrproto.protocol.http.ClientCycle` either turns the bytes into a consistent event
  sequence or raises a :class:`~ctrproto.errors.ProtocolError` (``IncompleteResponse`` included)
  and stays FAILED; never another exception, never still waiting once EOF was fed, and its memory
  bounded by its limits however long the input runs;
* a well-formed response gives the events it describes, the same cut anywhere as in one piece;
  cut short by EOF it is an ``IncompleteResponse`` (close-delimited bodies and hijacked streams
  just end earlier);
* chunked framing (:mod:`ctrproto.protocol.body`) raises only ``ProtocolError``, never hands out
  more than it was given, and its verdict does not depend on where the input was cut;
* the demuxers keep the error contract of :mod:`ctrproto.protocol.demux_py`: only ``FrameError``
  or ``StreamError``, and output and error (class and text) independent of the cuts and equal to
  ``demux_buffer``'s.

The helpers catch only the ``ProtocolError`` (or demuxer error) a property is about, and return
it for the property to judge; anything else propagates and fails the test.  A hang is caught by
the timeout.  For a longer coverage-guided run of the compiled demuxer, see ``fuzz/README.md``.
"""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Union

# Imported here although unused: the cycle imports h11 on its first odd head, and that import's
# few hundred KB must not count as what the cycle holds in the memory property.
import h11  # noqa: F401
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ctrproto.errors import FrameError, IncompleteResponse, ProtocolError, StreamError
from ctrproto.protocol import demux
from ctrproto.protocol.body import MAX_CHUNK_LINE, ChunkedBody
from ctrproto.protocol.http import (
    MAX_HEAD_SIZE,
    RAW_STREAM_TYPES,
    BodyData,
    ClientCycle,
    CycleState,
    Event,
    ResponseComplete,
    ResponseStarted,
    Upgraded,
)
from ctrproto.protocol.request import build_request
from ctrproto.protocol.wire import ResponseHead

pytestmark = pytest.mark.timeout(120)  # a hang in the core is a failure, not a stuck run

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
IMPLS: dict[str, ModuleType] = demux.implementations()
TERMINAL = (CycleState.COMPLETE, CycleState.UPGRADED)
DEMUX_ERRORS = (FrameError, StreamError)

HEADS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n",
    b"",
]

CHUNK_PARTS = st.one_of(
    st.builds(lambda n, d: b"%x\r\n%s\r\n" % (n, d), st.integers(0, 64), st.binary(max_size=64)),
    st.sampled_from([b"0\r\n\r\n", b"\r\n", b"\n", b"-1\r\n", b"ffffffffffffffffff\r\n", b";x\r\n",
                     b"0;ext=1\r\nTrailer: x\r\n\r\n", b"zz\r\n", b"1" * 5000]),
    # size lines around the length limit, which must not depend on where they are cut
    st.builds(lambda n, nl: b"1;" + b"e" * n + nl, st.integers(MAX_CHUNK_LINE - 6, MAX_CHUNK_LINE),
              st.sampled_from([b"\r\n", b"\n"])),
    st.binary(max_size=16),
)

FRAME_PARTS = st.one_of(
    st.builds(lambda s, d: struct.pack(">BxxxI", s, len(d)) + d, st.integers(0, 3),
              st.binary(max_size=64)),
    st.builds(lambda h: h, st.binary(min_size=8, max_size=8)),
    st.binary(max_size=16),
)

#: What may follow a head: noise, or pieces of chunked framing or of a multiplexed stream.
TAILS = st.one_of(
    st.binary(max_size=2048),
    st.lists(CHUNK_PARTS, max_size=12).map(b"".join),
    st.lists(FRAME_PARTS, max_size=12).map(b"".join),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return [p for p in pieces if p]


# --------------------------------------------------------------------------- the HTTP cycle


@dataclass
class Outcome:
    """What a cycle made of the input: its events, the ProtocolError that ended it (if any), and
    the bytes left unfed because the cycle had completed or upgraded before they came."""

    events: list[Event] = field(default_factory=list)
    error: ProtocolError | None = None
    unfed: bytes = b""


def new_cycle(
    method: str = "GET", upgrade: bool = False, max_head_size: int = MAX_HEAD_SIZE
) -> ClientCycle:
    cycle = ClientCycle(build_request(method, "/x", host="docker", upgrade=upgrade), max_head_size)
    cycle.start()
    return cycle


def drive(cycle: ClientCycle, pieces: Sequence[bytes], eof: bool) -> Outcome:
    """Feed ``pieces`` as a driver does, stopping once the response is over (complete or
    hijacked).  Only ProtocolError is caught, to be judged by the caller."""
    outcome = Outcome()
    try:
        for i, piece in enumerate(pieces):
            if cycle.state in TERMINAL:
                outcome.unfed = b"".join(pieces[i:])
                return outcome
            outcome.events.extend(cycle.receive(piece))
        if eof and cycle.state not in TERMINAL:
            outcome.events.extend(cycle.receive(b""))
    except ProtocolError as exc:
        outcome.error = exc
    return outcome


def framing(method: str, head: ResponseHead) -> str:
    """How RFC 9112 section 6.3 frames this body: "empty", "length", "chunked" or "close"."""
    if method == "HEAD" or head.status_code in (204, 304):
        return "empty"
    coding = head.headers.get("transfer-encoding")
    if coding is not None:
        return "chunked" if coding.split(",")[-1].strip().lower() == "chunked" else "close"
    return "length" if "content-length" in head.headers else "close"


def check_consistent(cycle: ClientCycle, outcome: Outcome, fed: bytes, eof: bool) -> None:
    """The events form ``ResponseStarted BodyData* [ResponseComplete]`` or ``Upgraded``, agree
    with the cycle's state and the head's framing; an error leaves the cycle FAILED for good."""
    events = outcome.events
    if outcome.error is not None:
        assert cycle.state is CycleState.FAILED, (outcome.error, cycle.state)
        # Failed means failed: later bytes are not read as a fresh response, nor EOF as its end.
        for more in (b"HTTP/1.1 204 No Content\r\n\r\n", b""):
            with pytest.raises(ProtocolError):
                cycle.receive(more)
    elif eof:
        assert cycle.state in TERMINAL, f"still {cycle.state.value} after EOF"
    if not events:
        if outcome.error is None:
            assert cycle.state is CycleState.AWAITING_HEAD and cycle.head is None
        return
    first = events[0]
    if isinstance(first, Upgraded):
        assert len(events) == 1 and cycle.state is CycleState.UPGRADED and outcome.error is None
        assert first.head is cycle.head
        assert cycle.request.upgrade or first.head.status_code == 101
        assert first.head.status_code == 101 or first.head.content_type in RAW_STREAM_TYPES
        # Every byte after the head goes to the stream reader: what the cycle had read, then
        # what came after; what precedes them is the head, up to its blank line.
        stream = first.trailing + outcome.unfed
        assert type(first.trailing) is bytes and fed.endswith(stream)
        assert fed[: len(fed) - len(stream)].endswith((b"\n\n", b"\n\r\n"))
        with pytest.raises(ProtocolError):
            cycle.receive(b"more")
        return
    assert isinstance(first, ResponseStarted) and first.head is cycle.head
    head = first.head
    assert 200 <= head.status_code <= 999  # informational answers are never reported
    body = bytearray()
    complete: ResponseComplete | None = None
    for event in events[1:]:
        assert complete is None, "an event after ResponseComplete"
        if isinstance(event, BodyData):
            assert type(event.data) is bytes and event.data  # a copy, never an empty piece
            body += event.data
        else:
            assert isinstance(event, ResponseComplete), event
            complete = event
    assert len(body) <= len(fed)
    kind = framing(cycle.request.method, head)
    length = 0 if kind == "empty" else None
    if kind == "length":
        length = int(head.headers["content-length"].split(",")[0])
    if complete is None:
        expected = CycleState.RECEIVING_BODY if outcome.error is None else CycleState.FAILED
        assert cycle.state is expected
        assert length is None or len(body) < length
        return
    assert cycle.state is CycleState.COMPLETE
    assert length is None or len(body) == length
    if complete.reusable:
        assert kind != "close" and head.http_version >= "1.1"
        assert "close" not in head.headers.get("connection", "").lower()
    # Bytes after a complete response are refused, never read as the next response.
    if outcome.unfed:
        with pytest.raises(ProtocolError):
            cycle.receive(outcome.unfed)
        assert cycle.state is CycleState.COMPLETE
    assert cycle.receive(b"") == []


Normal = list[Union[ResponseStarted, bytes, ResponseComplete, Upgraded, type]]


def normalized(outcome: Outcome) -> Normal:
    """The outcome with the cuts taken out: body pieces joined, the bytes after a hijack head
    joined to the ``trailing`` ones, an error reduced to its class."""
    out: Normal = []
    for event in outcome.events:
        if isinstance(event, BodyData):
            if out and isinstance(out[-1], bytes):
                out[-1] += event.data
            else:
                out.append(event.data)
        elif isinstance(event, Upgraded):
            out.append(Upgraded(event.head, event.trailing + outcome.unfed))
        else:
            out.append(event)
    if outcome.error is not None:
        out.append(type(outcome.error))
    return out


@FUZZ
@given(
    head=st.sampled_from(HEADS),
    tail=TAILS,
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=8),
    upgrade=st.booleans(),
    eof=st.booleans(),
)
def test_cycle_accepts_any_bytes_after_a_head(
    head: bytes, tail: bytes, cuts: list[int], upgrade: bool, eof: bool
) -> None:
    data = head + tail
    cycle = new_cycle(upgrade=upgrade)
    check_consistent(cycle, drive(cycle, split(data, cuts), eof), data, eof)


HEAD_WORDS = st.sampled_from(
    [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b" ", b"200", b"-1", b"99999999999999999999", b"OK",
     b"\r\n", b"\n", b":", b"Content-Length", b"Transfer-Encoding", b"chunked", b"gzip, chunked",
     b"Connection", b"close", b"\x00", b"\xff", b"Upgrade", b"1" * 70, b"\t", b"101", b"100",
     b"Content-Type: application/vnd.docker.raw-stream", b": 5\r\n", b"\r\n\r\n", b"0"]
)


@FUZZ
@given(
    start=st.sampled_from(
        [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 404 \r\n", b"HTTP/1.1 101 X\r\n"]
    ),
    words=st.lists(HEAD_WORDS | st.binary(max_size=12), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    upgrade=st.booleans(),
    eof=st.booleans(),
)
@example(  # a Content-Length too long to be one: refused, and the cycle must stay failed
    start=b"HTTP/1.1 200 OK\r\n", words=[b"Content-Length: ", b"99999999999999999999"],
    cuts=[], method="GET", upgrade=False, eof=False,
)
def test_cycle_accepts_any_head(
    start: bytes, words: list[bytes], cuts: list[int], method: str, upgrade: bool, eof: bool
) -> None:
    data = start + b"".join(words) + b"\r\n\r\n"
    cycle = new_cycle(method, upgrade)
    check_consistent(cycle, drive(cycle, split(data, cuts), eof), data, eof)


@dataclass(frozen=True)
class Response:
    """A well-formed response and what the cycle must make of it."""

    method: str
    upgrade: bool
    data: bytes
    #: Where the final head ends: the body (or the hijacked stream) starts there.
    head_end: int
    kind: str  # "length", "chunked", "empty", "close" or "upgrade"
    status: int
    reason: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    reusable: bool


TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1,
                max_size=12)


def chunked_body(draw: st.DrawFn, body: bytes) -> bytes:
    """``body`` as chunks, with what RFC 9112 allows around them: extensions, upper-case and
    zero-padded sizes, bare LFs (which the decoder tolerates) and trailer fields."""
    nl = draw(st.sampled_from([b"\r\n", b"\n"]))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(len(body) - 1, 1)), max_size=6))))
    bounds = [0, *[c for c in cuts if c < len(body)], len(body)]
    out = b""
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a == b:
            continue
        size = draw(st.sampled_from([b"%x", b"%X", b"00%x"])) % (b - a)
        ext = draw(st.sampled_from([b"", b";name=value", b";a", b';q="x y"']))
        out += size + ext + nl + body[a:b] + nl
    values = draw(st.lists(TOKEN, max_size=2))
    trailers = b"".join(b"X-T%d: %s%s" % (i, v.encode(), nl) for i, v in enumerate(values))
    return out + b"0" + draw(st.sampled_from([b"", b";end"])) + nl + trailers + nl


@st.composite
def responses(draw: st.DrawFn) -> Response:
    kind = draw(st.sampled_from(["length", "chunked", "empty", "close", "upgrade"]))
    # HTTP/1.0 has neither chunked bodies nor 1xx answers.
    version = "1.1" if kind == "chunked" else draw(st.sampled_from(["1.1", "1.0"]))
    if kind == "upgrade" and draw(st.booleans()):
        version = "1.1"
        status, reason = 101, draw(st.sampled_from(["UPGRADED", "Switching Protocols"]))
        headers = [("Connection", "Upgrade"), ("Upgrade", "tcp")]
    else:
        status = draw(st.sampled_from([204, 304] if kind == "empty" else [200, 201, 404, 500]))
        reason = draw(st.sampled_from(["OK", "Not Found", "", "Whatever it is"]))
        headers = []
        if kind == "upgrade":  # an older daemon's hijack: 200 with a raw-stream type
            status = 200
            headers.append(("Content-Type", draw(st.sampled_from(RAW_STREAM_TYPES))))
    method = "GET"
    body = draw(st.binary(max_size=300))
    if kind == "empty":
        body = b""
        if draw(st.booleans()):  # a HEAD answer announces a length it does not send
            method, status = "HEAD", 200
            headers.append(("Content-Length", str(draw(st.integers(0, 10**6)))))
    elif kind == "length":
        method = draw(st.sampled_from(["GET", "POST"]))
        headers.append(("Content-Length", str(len(body))))
    elif kind == "chunked":
        headers.append(("Transfer-Encoding", draw(st.sampled_from(["chunked", "Chunked"]))))
    close = kind != "upgrade" and draw(st.booleans())
    if close:
        headers.append(("Connection", "close"))
    for i, value in enumerate(draw(st.lists(TOKEN, max_size=4))):
        headers.append((draw(st.sampled_from(["X-Fuzz-%d", "x-fuzz-%d", "X-FUZZ-%d"])) % i, value))
    headers = draw(st.permutations(headers))
    # Bare LFs (all, or some lines) send a head to h11 instead of the plain parser, as does a
    # 100 Continue before it.
    endings = [b"\r\n"] if version == "1.0" else draw(
        st.sampled_from([[b"\r\n"], [b"\n"], [b"\r\n", b"\n"]])
    )

    def nl() -> bytes:
        return draw(st.sampled_from(endings))

    head = b"HTTP/%s %d %s" % (version.encode(), status, reason.encode())
    head += b"".join(nl() + b"%s: %s" % (k.encode(), v.encode()) for k, v in headers) + nl() + nl()
    if version == "1.1" and status != 101 and draw(st.booleans()):
        head = b"HTTP/1.1 100 Continue" + nl() + nl() + head
    payload = chunked_body(draw, body) if kind == "chunked" else body
    return Response(
        method=method,
        upgrade=kind == "upgrade",
        data=head + payload,
        head_end=len(head),
        kind=kind,
        status=status,
        reason=reason,
        version=version,
        headers=tuple((k.lower(), v) for k, v in headers if k.lower().startswith("x-fuzz")),
        body=body,
        reusable=version == "1.1" and not close and kind in ("length", "chunked", "empty"),
    )


def check_head(head: ResponseHead, response: Response) -> None:
    assert (head.status_code, head.reason, head.http_version) == (
        response.status, response.reason, response.version
    )
    for name, value in response.headers:
        assert head.headers[name] == value


def position(response: Response, where: int, in_body: bool) -> int:
    """An offset into ``response.data``: in its body (or stream) if asked and it has one, for
    heads are most of the bytes of the small responses hypothesis prefers."""
    size = len(response.data)
    if in_body and size > response.head_end:
        return response.head_end + where % (size - response.head_end)
    return where % size


def run_whole_and_cut(response: Response, data: bytes, cuts: list[int], eof: bool) -> Normal:
    """The outcome of ``data`` in one piece, checked to be the same as ``data`` cut at
    ``cuts`` and to be consistent."""
    whole = new_cycle(response.method, response.upgrade)
    expected = normalized(drive(whole, [data] if data else [], eof))
    cycle = new_cycle(response.method, response.upgrade)
    outcome = drive(cycle, split(data, cuts), eof)
    check_consistent(cycle, outcome, data, eof)
    assert normalized(outcome) == expected
    return expected


@FUZZ
@given(response=responses(), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_well_formed_responses_give_the_same_events_cut_anywhere(
    response: Response, cuts: list[int]
) -> None:
    events = run_whole_and_cut(response, response.data, cuts, eof=True)
    # Nothing waits for the EOF but a close-delimited body's end.
    without_eof = events[:-1] if response.kind == "close" else events
    assert run_whole_and_cut(response, response.data, cuts, eof=False) == without_eof
    if response.kind == "upgrade":
        [upgraded] = events
        assert isinstance(upgraded, Upgraded)
        check_head(upgraded.head, response)
        assert upgraded.trailing == response.data[response.head_end :]
        return
    started, *body, complete = events
    assert isinstance(started, ResponseStarted), events
    check_head(started.head, response)
    assert body == ([response.body] if response.body else [])
    assert complete == ResponseComplete(reusable=response.reusable)


@FUZZ
@given(response=responses(), keep=st.integers(0, 10**6), in_body=st.booleans(),
       cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_responses_cut_short_are_incomplete(
    response: Response, keep: int, in_body: bool, cuts: list[int]
) -> None:
    data = response.data[: position(response, keep, in_body)]
    events = run_whole_and_cut(response, data, cuts, eof=True)
    if len(data) < response.head_end:
        assert events == [IncompleteResponse]
        return
    received = data[response.head_end :]
    if response.kind == "upgrade":
        [upgraded] = events
        assert isinstance(upgraded, Upgraded) and upgraded.trailing == received
        return
    started, *body, last = events
    assert isinstance(started, ResponseStarted)
    check_head(started.head, response)
    if response.kind == "close":
        assert body == ([received] if received else [])
        assert last == ResponseComplete(reusable=False)
    else:
        assert last is IncompleteResponse
        assert body == [] or (
            len(body) == 1 and isinstance(body[0], bytes) and response.body.startswith(body[0])
        )
        if response.kind == "length":
            assert body == ([received] if received else [])


@FUZZ
@given(response=responses(), where=st.integers(0, 10**6), in_body=st.booleans(),
       junk=st.binary(min_size=1, max_size=4), insert=st.booleans(),
       cuts=st.lists(st.integers(0, 2000), max_size=10), eof=st.booleans())
def test_corrupted_responses_fail_cleanly(
    response: Response, where: int, in_body: bool, junk: bytes, insert: bool, cuts: list[int],
    eof: bool,
) -> None:
    data = bytearray(response.data)
    at = position(response, where, in_body)
    data[at : at if insert else at + len(junk)] = junk
    cycle = new_cycle(response.method, response.upgrade)
    check_consistent(cycle, drive(cycle, split(bytes(data), cuts), eof), bytes(data), eof)


ENDLESS_HEADS = [
    b"",  # a head that never ends
    b"HTTP/1.1 200 OK\r\nX-Long: ",  # a header line that never ends
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",  # a chunk-size line, likewise
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",  # a trailer, likewise
    b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",  # a body that streams on
    b"HTTP/1.0 200 OK\r\n\r\n",
]


@settings(FUZZ, max_examples=40)
@given(
    head=st.sampled_from(ENDLESS_HEADS),
    pattern=st.sampled_from([b"a", b"0", b"\r", b"ab\r\n"]) | st.binary(min_size=1, max_size=64),
    read_size=st.sampled_from([512, 4096, 16384]),
    max_head_size=st.sampled_from([1024, 8192]),
)
def test_cycle_memory_is_bounded_on_endless_input(
    head: bytes, pattern: bytes, read_size: int, max_head_size: int
) -> None:
    # Whatever never ends is refused once a limit is crossed, or streamed through: the cycle
    # holds at most its head limit, one chunk-size line and a few reads, not what it was fed.
    piece = (pattern * (read_size // len(pattern) + 1))[:read_size]
    bound = max_head_size + MAX_CHUNK_LINE + 4 * read_size + 64 * 1024
    cycle = new_cycle(max_head_size=max_head_size)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fed = len(head)
        outcome = drive(cycle, [head] if head else [], eof=False)
        while outcome.error is None and cycle.state not in TERMINAL and fed < 16 * bound:
            outcome = drive(cycle, [piece], eof=False)
            fed += read_size
            if cycle.state is CycleState.AWAITING_HEAD:
                assert fed <= max_head_size + read_size, "a head awaited past its limit"
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < bound, f"{peak} bytes held after {fed} fed"
    if outcome.error is not None:
        assert cycle.state is CycleState.FAILED


# --------------------------------------------------------------------------- chunked framing


LONG_LINE = b"1;" + b"e" * (MAX_CHUNK_LINE - 2) + b"\r\n" + b"x\r\n0\r\n\r\n"


def decode(pieces: Sequence[bytes]) -> tuple[object, ...]:
    """``("done", payload, what followed the body)`` or ``("error", class)``, EOF included."""
    decoder = ChunkedBody()
    payload: list[bytes] = []
    fed = b""
    try:
        for i, piece in enumerate(pieces):
            got, rest = decoder.feed(piece)
            fed += piece
            assert all(type(p) is bytes and p for p in got)
            payload.extend(got)
            assert sum(map(len, payload)) <= len(fed)
            if rest is not None:
                assert decoder.done and fed.endswith(rest)
                return ("done", b"".join(payload), rest + b"".join(pieces[i + 1 :]))
            assert not decoder.done
        decoder.eof()
    except ProtocolError as exc:
        return ("error", type(exc))
    raise AssertionError("eof() accepted a chunked body that had not ended")


@FUZZ
@given(parts=st.lists(CHUNK_PARTS, max_size=20),
       cuts=st.lists(st.integers(min_value=0, max_value=9000), max_size=8))
@example(parts=[LONG_LINE], cuts=[LONG_LINE.index(b"\n")])  # cut between CR and LF
@example(parts=[LONG_LINE], cuts=[LONG_LINE.index(b"\r")])  # cut before the CR
def test_chunked_decoder_accepts_any_bytes(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    assert decode(split(data, cuts)) == decode([data] if data else [])


# --------------------------------------------------------------------------- demuxers


Frames = list[tuple[int, bytes]]


def runs(frames: Frames) -> Frames:
    """Frames with the cuts (and ``join``) taken out: consecutive payloads of a stream joined."""
    out: Frames = []
    for stream, payload in frames:
        if not payload:
            continue
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + payload)
        else:
            out.append((stream, bytes(payload)))
    return out


def demux_outcome(
    module: ModuleType, pieces: Sequence[bytes], join: bool, kwargs: dict[str, int]
) -> tuple[Frames, tuple[type, str] | None]:
    """The payloads delivered (before any error too) and the error, as class and message."""
    demuxer = module.Demuxer(join=join, **kwargs)
    frames: Frames = []
    try:
        for piece in pieces:
            frames.extend(demuxer.feed(piece))
        demuxer.close()
    except DEMUX_ERRORS as exc:
        frames.extend(exc.frames)
        return runs(frames), (type(exc), str(exc))
    return runs(frames), None


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_demuxers_accept_any_bytes(impl: str) -> None:
    module = IMPLS[impl]

    @FUZZ
    @given(parts=st.lists(FRAME_PARTS, max_size=20),
           cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
           join=st.booleans(), max_size=st.sampled_from([0, 16, 1 << 20, None]))
    def check(parts: list[bytes], cuts: list[int], join: bool, max_size: int | None) -> None:
        data = b"".join(parts)
        kwargs = {} if max_size is None else {"max_frame_size": max_size}
        frames, error = demux_outcome(module, split(data, cuts), join, kwargs)
        assert sum(len(p) for _, p in frames) <= len(data)
        assert (frames, error) == demux_outcome(module, [data], True, kwargs)
        try:
            result = module.demux_buffer(data, **kwargs)
        except DEMUX_ERRORS as exc:
            assert error == (type(exc), str(exc))
        else:
            assert error is None
            assert result == tuple(
                b"".join(p for s, p in frames if s == stream) for stream in (1, 2)
            )

    check()


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_demuxer_memory_is_bounded_by_the_frame_limit(impl: str) -> None:
    # A header announcing 4 GiB is refused before a byte of it is buffered.
    module = IMPLS[impl]
    tracemalloc.start()
    try:
        demuxer = module.Demuxer(max_frame_size=1 << 20)
        with pytest.raises(FrameError, match="more than the maximum"):
            demuxer.feed(b"\x01\0\0\0\xff\xff\xff\xff" + b"a" * 1000)
        # Within the limit, a frame is buffered only as it arrives.
        demuxer = module.Demuxer(max_frame_size=1 << 20)
        demuxer.feed(struct.pack(">BxxxI", 1, 1 << 20) + b"a" * 1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (1 << 20) + 256 * 1024
