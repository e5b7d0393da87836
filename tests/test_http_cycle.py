"""The sans-IO HTTP cycle, fed bytes directly (no daemon, no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrproto.errors import IncompleteResponse, ProtocolError
from ctrproto.protocol.http import (
    BodyData,
    ClientCycle,
    CycleState,
    Event,
    ResponseComplete,
    ResponseStarted,
    Upgraded,
)
from ctrproto.protocol.request import build_request


def cycle(method: str = "GET", upgrade: bool = False) -> ClientCycle:
    c = ClientCycle(build_request(method, "/x", upgrade=upgrade))
    c.start()
    return c


def feed_all(c: ClientCycle, pieces: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for piece in pieces:
        events.extend(c.receive(piece))
    return events


def body_of(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyData))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return [p for p in pieces if p]


def chunked(payloads: list[bytes]) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in payloads if p)
    return out + b"0\r\n\r\n"


CL_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"


def test_content_length_in_one_piece() -> None:
    events = feed_all(cycle(), [CL_RESPONSE])
    assert isinstance(events[0], ResponseStarted)
    assert events[0].head.status_code == 200
    assert events[0].head.headers["content-type"] == "text/plain"
    assert body_of(events) == b"hello"
    assert events[-1] == ResponseComplete(reusable=True)


@given(st.lists(st.integers(0, len(CL_RESPONSE)), max_size=6))
def test_content_length_split_anywhere(cuts: list[int]) -> None:
    c = cycle()
    events = feed_all(c, split(CL_RESPONSE, cuts))
    assert body_of(events) == b"hello"
    assert events[-1] == ResponseComplete(reusable=True)
    assert c.state is CycleState.COMPLETE


@given(
    st.lists(st.binary(min_size=0, max_size=300), max_size=12),
    st.lists(st.integers(0, 5000), max_size=10),
    st.sampled_from(["", ";ext=1"]),
)
def test_chunked_split_anywhere(payloads: list[bytes], cuts: list[int], ext: str) -> None:
    body = chunked(payloads)
    if ext:
        body = body.replace(b"\r\n", ext.encode() + b"\r\n", 1) if payloads else body
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    c = cycle()
    events = feed_all(c, split(raw, cuts))
    assert body_of(events) == b"".join(payloads)
    assert events[-1] == ResponseComplete(reusable=True)


def test_chunked_trailers_are_consumed() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    events = feed_all(cycle(), [raw])
    assert body_of(events) == b"abc"
    assert events[-1] == ResponseComplete(reusable=True)


def test_close_delimited_body_ends_at_eof_and_is_not_reusable() -> None:
    c = cycle()
    events = feed_all(c, [b"HTTP/1.1 200 OK\r\n\r\nabc", b"def", b""])
    assert body_of(events) == b"abcdef"
    assert events[-1] == ResponseComplete(reusable=False)


def test_connection_close_header_makes_it_single_use() -> None:
    raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    assert feed_all(cycle(), [raw])[-1] == ResponseComplete(reusable=False)


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    raw = b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status
    events = feed_all(cycle(), [raw])
    assert events[-1] == ResponseComplete(reusable=True)


@pytest.mark.parametrize(
    ("method", "raw"),
    [
        ("GET", b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"),
        ("GET", b"HTTP/1.0 304 Not Modified\r\n\r\n"),
        ("GET", b"HTTP/0.9 204 No Content\r\n\r\n"),  # a version only h11 reads; before 1.1
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"),
    ],
)
def test_connection_rule_holds_for_empty_bodies(method: str, raw: bytes) -> None:
    # No body does not mean keep-alive: the daemon still closes after a "Connection: close"
    # or an HTTP/1.0 answer.
    assert feed_all(cycle(method), [raw])[-1] == ResponseComplete(reusable=False)


def test_head_request_has_no_body() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Docker-Container-Path-Stat: e30=\r\n\r\n"
    events = feed_all(cycle("HEAD"), [raw])
    assert events[-1] == ResponseComplete(reusable=True)
    assert body_of(events) == b""


def test_upgrade_101_hands_over_trailing_bytes() -> None:
    head = (
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    frames = b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    c = cycle("POST", upgrade=True)
    events = feed_all(c, [head[:10], head[10:] + frames])
    assert len(events) == 1 and isinstance(events[0], Upgraded)
    assert events[0].trailing == frames
    assert events[0].head.status_code == 101
    assert c.state is CycleState.UPGRADED


def test_upgrade_accepts_plain_200_raw_stream() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
    events = feed_all(cycle("POST", upgrade=True), [head + b"raw"])
    assert isinstance(events[0], Upgraded) and events[0].trailing == b"raw"


def test_error_answer_to_upgrade_is_a_normal_response() -> None:
    raw = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"
    events = feed_all(cycle("POST", upgrade=True), [raw])
    assert isinstance(events[0], ResponseStarted) and events[0].head.status_code == 404


def test_eof_before_head() -> None:
    c = cycle()
    with pytest.raises(IncompleteResponse, match="before a complete response head"):
        feed_all(c, [b"HTTP/1.1 200 O", b""])
    assert c.state is CycleState.FAILED


def test_eof_mid_length_body_says_how_much() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    c = cycle()
    events = feed_all(c, [raw])
    assert body_of(events) == b"abc"  # what arrived is delivered before the error
    with pytest.raises(IncompleteResponse, match="after 3 of 10 body bytes"):
        c.receive(b"")


def test_eof_mid_chunk_says_where() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n12345"
    c = cycle()
    assert body_of(feed_all(c, [raw])) == b"12345"
    with pytest.raises(IncompleteResponse, match="inside chunk 1 with 5 bytes missing"):
        c.receive(b"")


@pytest.mark.parametrize(
    "size_line",
    [b"zz\r\n", b"-5\r\n", b"\r\n", b"1" * 17 + b"\r\n", b"0x10\r\n"],
)
def test_invalid_chunk_size(size_line: bytes) -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line
    with pytest.raises(ProtocolError, match="chunk size"):
        feed_all(cycle(), [raw])


def test_overlong_chunk_size_line() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 5000
    with pytest.raises(ProtocolError, match="longer than"):
        feed_all(cycle(), [raw])


def test_missing_crlf_after_chunk() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY\r\n"
    with pytest.raises(ProtocolError, match="instead of CRLF"):
        feed_all(cycle(), [raw])


@pytest.mark.parametrize(
    "value", [b"-1", b"abc", b"99999999999999999999999", b"99999999999999999999"]
)
def test_bad_content_length(value: bytes) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n"
    c = cycle()
    with pytest.raises(ProtocolError):
        feed_all(c, [raw])
    # A head whose framing is refused fails the cycle: what follows is not a new response.
    assert c.state is CycleState.FAILED
    with pytest.raises(ProtocolError):
        c.receive(b"HTTP/1.1 204 No Content\r\n\r\n")


@pytest.mark.parametrize("blank", [b"\n\n", b"\r\n\n", b"\n\r\n"])
def test_bare_lf_blank_line_ends_the_head(blank: bytes) -> None:
    # h11 takes a bare LF for CRLF; the cycle must see such a head is complete, not wait on.
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2" + blank + b"ok"
    events = feed_all(cycle(), [raw])
    assert body_of(events) == b"ok"
    assert events[-1] == ResponseComplete(reusable=True)


def test_garbage_status_line() -> None:
    with pytest.raises(ProtocolError, match="malformed response head"):
        feed_all(cycle(), [b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])


def test_absurd_header_size_is_bounded() -> None:
    c = ClientCycle(build_request("GET", "/x"), max_head_size=1024)
    c.start()
    with pytest.raises(ProtocolError):
        feed_all(c, [b"HTTP/1.1 200 OK\r\nX: " + b"a" * 4096])


def test_bytes_after_body_make_connection_unusable_but_keep_body() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"
    events = feed_all(cycle(), [raw])
    assert body_of(events) == b"ok"
    assert events[-1] == ResponseComplete(reusable=False)


def test_100_continue_is_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    events = feed_all(cycle("POST"), [raw])
    assert body_of(events) == b"x"
