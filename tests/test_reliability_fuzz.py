"""Hypothesis fuzzing of the sans-IO core and both demuxers: whatever the bytes, only ctrproto
errors come out (never IndexError, ValueError, UnicodeError ...), and memory stays bounded.

For a longer coverage-guided run of the compiled demuxer, see ``fuzz/README.md``.
"""

from __future__ import annotations

import contextlib
import struct
import tracemalloc
from collections.abc import Iterable
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrproto.errors import DockerException
from ctrproto.protocol import demux
from ctrproto.protocol.body import ChunkedBody
from ctrproto.protocol.http import ClientCycle
from ctrproto.protocol.request import build_request

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
IMPLS: dict[str, ModuleType] = demux.implementations()

HEADS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    b"",
]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return [p for p in pieces if p]


def run_cycle(pieces: Iterable[bytes], upgrade: bool = False, eof: bool = True) -> None:
    request = build_request("GET", "/x", host="docker", upgrade=upgrade)
    cycle = ClientCycle(request)
    cycle.start()
    try:
        for piece in pieces:
            for event in cycle.receive(piece):
                del event
            if cycle.state.value in ("complete", "upgraded"):
                return
        if eof:
            cycle.receive(b"")
    except DockerException:
        pass


@FUZZ
@given(
    head=st.sampled_from(HEADS),
    tail=st.binary(max_size=2048),
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=8),
    upgrade=st.booleans(),
    eof=st.booleans(),
)
def test_cycle_accepts_any_bytes_after_a_head(
    head: bytes, tail: bytes, cuts: list[int], upgrade: bool, eof: bool
) -> None:
    run_cycle(split(head + tail, cuts), upgrade, eof)


HEAD_WORDS = st.sampled_from(
    [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b" ", b"200", b"-1", b"99999999999999999999", b"OK",
     b"\r\n", b"\n", b":", b"Content-Length", b"Transfer-Encoding", b"chunked", b"gzip, chunked",
     b"Connection", b"close", b"\x00", b"\xff", b"Upgrade", b"1" * 70, b"\t"]
)


@FUZZ
@given(
    words=st.lists(HEAD_WORDS | st.binary(max_size=12), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
)
def test_cycle_accepts_any_head(words: list[bytes], cuts: list[int]) -> None:
    data = b"".join(words) + b"\r\n\r\n"
    run_cycle(split(data, cuts))


CHUNK_PARTS = st.one_of(
    st.builds(lambda n, d: b"%x\r\n%s\r\n" % (n, d), st.integers(0, 64), st.binary(max_size=64)),
    st.sampled_from([b"0\r\n\r\n", b"\r\n", b"\n", b"-1\r\n", b"ffffffffffffffffff\r\n", b";x\r\n",
                     b"0;ext=1\r\nTrailer: x\r\n\r\n", b"zz\r\n", b"1" * 5000]),
    st.binary(max_size=16),
)


@FUZZ
@given(parts=st.lists(CHUNK_PARTS, max_size=20),
       cuts=st.lists(st.integers(min_value=0, max_value=8000), max_size=8))
def test_chunked_decoder_accepts_any_bytes(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    decoder = ChunkedBody()
    out = 0
    try:
        for piece in split(data, cuts):
            pieces, rest = decoder.feed(piece)
            out += sum(len(p) for p in pieces)
            if rest is not None:
                break
        decoder.eof()
    except DockerException:
        pass
    assert out <= len(data)
    assert len(decoder._line) <= 4096 + 2  # the only buffer grows no further  # noqa: SLF001


FRAME_PARTS = st.one_of(
    st.builds(lambda s, d: struct.pack(">BxxxI", s, len(d)) + d, st.integers(0, 3),
              st.binary(max_size=64)),
    st.builds(lambda h: h, st.binary(min_size=8, max_size=8)),
    st.binary(max_size=16),
)


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
        demuxer = module.Demuxer(join=join, **kwargs)
        got = 0
        try:
            for piece in split(data, cuts):
                got += sum(len(p) for _, p in demuxer.feed(piece))
            demuxer.close()
        except DockerException:
            pass
        assert got <= len(data)
        with contextlib.suppress(DockerException):
            module.demux_buffer(data)

    check()


@pytest.mark.parametrize("impl", sorted(IMPLS))
def test_demuxer_memory_is_bounded_by_the_frame_limit(impl: str) -> None:
    # A header announcing 4 GiB is refused before a byte of it is buffered.
    module = IMPLS[impl]
    tracemalloc.start()
    try:
        demuxer = module.Demuxer(max_frame_size=1 << 20)
        with pytest.raises(DockerException, match="more than the maximum"):
            demuxer.feed(b"\x01\0\0\0\xff\xff\xff\xff" + b"a" * 1000)
        # Within the limit, a frame is buffered only as it arrives.
        demuxer = module.Demuxer(max_frame_size=1 << 20)
        demuxer.feed(struct.pack(">BxxxI", 1, 1 << 20) + b"a" * 1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (1 << 20) + 256 * 1024
