"""The plain-head fast path and the request writer, held against h11 itself.

``ctrproto.protocol.wire`` may only ever agree with h11: a head it parses must give exactly what
h11 gives, anything h11 refuses must reach h11 (so the error is h11's), and the request bytes it
writes must be h11's bytes.  These properties are checked on generated heads and requests.
"""

from __future__ import annotations

from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrproto.errors import IncompleteResponse, ProtocolError
from ctrproto.protocol import http, wire
from ctrproto.protocol.http import ClientCycle, Event
from ctrproto.protocol.request import build_request, iter_header_bytes

PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def h11_head(head: bytes) -> Any:
    """What h11 makes of a response head (without the blank line): a ResponseHead, or the
    type of the error it raises."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/x", headers=[("Host", "localhost")]))
    conn.send(h11.EndOfMessage())
    try:
        conn.receive_data(head + b"\r\n\r\n")
        event = conn.next_event()
    except h11.RemoteProtocolError:
        return "refused"
    if isinstance(event, h11.Response):
        return http._head_from_h11(event)  # noqa: SLF001
    return type(event).__name__


names = st.sampled_from(
    ["Content-Type", "content-type", "Api-Version", "Server", "Date", "X-Odd", "Ostype",
     "Content-Length", "Transfer-Encoding", "Connection", "Docker-Experimental", "X!#$%&'*+.^_`|~"]
)
values = st.one_of(
    st.sampled_from(["application/json", "chunked", "Chunked", "12", "-5", "0", "close",
                     "Docker/20.10.24+dfsg1 (linux)", "", " padded ", "a\tb", "gzip, chunked",
                     "\xe9t\xe9", "1 2"]),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=12),
)
status_lines = st.one_of(
    st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.0 404 Not Found", b"HTTP/1.1 204 ",
                     b"HTTP/1.1 500", b"HTTP/1.1 101 Switching Protocols", b"HTTP/1.1 100 Continue",
                     b"HTTP/2 200 OK", b"HTTP/1.1 99 Odd", b"SSH-2.0-OpenSSH_9.2",
                     b"HTTP/1.1 304 Not Modified", b"HTTP/1.1 200 \xff\xfe"]),
    st.builds(lambda c, r: b"HTTP/1.1 %d " % c + r, st.integers(100, 999),
              st.binary(max_size=10)),
)


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    lines = [draw(status_lines)]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(names)
        value = draw(values)
        sep = draw(st.sampled_from([": ", ":", ":  ", ":\t"]))
        lines.append(name.encode() + sep.encode() + value.encode("latin-1"))
    return b"\r\n".join(lines)


@PROPERTY
@given(head=heads())
def test_a_plain_head_is_parsed_exactly_as_h11_parses_it(head: bytes) -> None:
    ours = wire.plain_response_head(head)
    if ours is not None:
        assert ours == h11_head(head)


@PROPERTY
@given(head=st.binary(max_size=200))
def test_arbitrary_bytes_are_never_accepted_where_h11_differs(head: bytes) -> None:
    if b"\r\n\r\n" in head:
        return
    ours = wire.plain_response_head(head)
    if ours is not None:
        assert ours == h11_head(head)


def test_the_daemons_usual_answer_takes_the_fast_path() -> None:
    head = (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
            b"Docker-Experimental: false\r\nOstype: linux\r\n"
            b"Server: Docker/20.10.24+dfsg1 (linux)\r\nDate: Sat, 28 Nov 2026 21:34:32 GMT\r\n"
            b"Transfer-Encoding: chunked")
    parsed = wire.plain_response_head(head)
    assert parsed is not None and parsed == h11_head(head)
    assert parsed.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 101 UPGRADED",            # informational: h11 handles the upgrade
        b"HTTP/1.1 200 OK\r\nContent-Length: -5",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip",
        b"HTTP/1.1 200 OK\r\n folded: line",
        b"HTTP/1.1 200 OK\r\nBad Name: x",
        b"HTTP/1.1 200 OK\r\nX: a\rb",
    ],
)
def test_anything_unusual_is_left_to_h11(head: bytes) -> None:
    assert wire.plain_response_head(head) is None


# ---------------------------------------------------------------------- the cycle, both ways


def run_cycle(raw: list[bytes], force_h11: bool, monkeypatch: pytest.MonkeyPatch,
              method: str = "GET", upgrade: bool = False) -> Any:
    with monkeypatch.context() as m:
        if force_h11:
            m.setattr(http, "plain_response_head", lambda head: None)
        c = ClientCycle(build_request(method, "/x", upgrade=upgrade))
        c.start()
        events: list[Event] = []
        try:
            for piece in raw:
                events.extend(c.receive(piece))
        except ProtocolError as exc:
            return type(exc), str(exc).split(";")[0], events
        return events, c.state


ANSWERS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.0 200 OK\r\n\r\nclose-delimited",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
    b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\0\0\0\0\0\0\x01x",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n\x01\0\0\0",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
    b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    b"SPDY/9 banana\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
]


@PROPERTY
@given(answer=st.sampled_from(ANSWERS), cuts=st.lists(st.integers(0, 120), max_size=6),
       eof=st.booleans(), upgrade=st.booleans())
def test_fast_path_and_h11_give_the_same_events(
    answer: bytes, cuts: list[int], eof: bool, upgrade: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = sorted({min(c, len(answer)) for c in cuts})
    bounds = [0, *points, len(answer)]
    raw = [answer[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    if eof:
        raw.append(b"")
    fast = run_cycle(raw, False, monkeypatch, upgrade=upgrade)
    slow = run_cycle(raw, True, monkeypatch, upgrade=upgrade)
    assert fast == slow


def test_eof_inside_the_head_is_an_incomplete_response() -> None:
    c = ClientCycle(build_request("GET", "/x"))
    c.start()
    assert c.receive(b"HTTP/1.1 200 OK\r\nContent-") == []
    with pytest.raises(IncompleteResponse, match="complete response head"):
        c.receive(b"")


def test_an_overlong_head_without_its_end_is_refused_at_the_limit() -> None:
    c = ClientCycle(build_request("GET", "/x"), max_head_size=1024)
    c.start()
    assert c.receive(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 900) == []
    with pytest.raises(ProtocolError, match="malformed response head"):
        c.receive(b"a" * 400)


# ---------------------------------------------------------------------- requests


def h11_request_bytes(request: Any) -> bytes:
    conn = h11.Connection(h11.CLIENT)
    out = conn.send(h11.Request(method=request.method, target=request.target,
                                headers=iter_header_bytes(request.headers))) or b""
    if request.body:
        out += conn.send(h11.Data(data=request.body)) or b""
    return out


@PROPERTY
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
    endpoint=st.sampled_from(["/_ping", "/containers/{}/json", "/exec/{}/start"]),
    ident=st.text(max_size=20),
    body=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)),
    extra=st.dictionaries(st.sampled_from(["X-Registry-Auth", "X-A", "Accept"]),
                          st.from_regex(r"[!-~]([ -~]{0,10}[!-~])?", fullmatch=True), max_size=2),
)
def test_requests_are_written_as_h11_writes_them(
    method: str, endpoint: str, ident: str, body: Any, extra: dict[str, str]
) -> None:
    from ctrproto.protocol.request import path

    if "{}" in endpoint:
        if not ident:
            return
        endpoint = path(endpoint, ident)
    request = build_request(method, endpoint, api_version="1.41", json_body=body,
                            headers=extra, params={"q": ident} if ident else None)
    assert ClientCycle(request).start() == h11_request_bytes(request)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"headers": {"X-Test": "a\r\nX-Injected: 1"}}, "illegal value for header 'X-Test'"),
        ({"headers": {"X-Test": "a\nb"}}, "illegal value"),
        ({"headers": {"X-Test": "a\0b"}}, "illegal value"),
        ({"headers": {"Bad Name": "x"}}, "illegal header name"),
        ({"headers": {"X-Test": "\u2603"}}, "cannot be encoded"),
        ({"headers": {"Content-Length": "7"}, "data": b"abc"}, "does not match"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_sent(kwargs: Any, words: str) -> None:
    c = ClientCycle(build_request("POST", "/x", **kwargs))
    with pytest.raises(ProtocolError, match=words):
        c.start()
    assert c.state.value == "failed"


@pytest.mark.parametrize("target", ["/a b", "/a\r\nX: 1", "/\u2603", ""])
def test_bad_targets_are_refused(target: str) -> None:
    from ctrproto.protocol.request import Request

    with pytest.raises(ProtocolError, match="cannot send"):
        ClientCycle(Request(method="GET", target=target)).start()
    with pytest.raises(ProtocolError, match="illegal method"):
        ClientCycle(Request(method="GE T", target="/x")).start()
