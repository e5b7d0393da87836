"""Chunked framing: the compiled fast path and the pure state machine must agree exactly.

The compiled ``scan`` only frames well-formed runs and hands everything else back to the Python
machine, so for any input - valid, cut anywhere, or corrupted - both give the same payload, the
same leftover and the same error message.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.errors import DockerException
from ctrproto.protocol import body
from ctrproto.protocol.body import ChunkedBody


def compiled_scan() -> object:
    if body.SCAN is None:
        if os.environ.get("CTRPROTO_ALLOW_PURE_ONLY"):
            pytest.skip("compiled chunked framing not built (CTRPROTO_ALLOW_PURE_ONLY set)")
        pytest.fail("the compiled chunked framing is not built: install with `scripts/setup`")
    return body.SCAN


def run(
    data: bytes, cuts: list[int], scan: object, reused_buffer: bool = False
) -> tuple[object, ...]:
    """Feed ``data`` split at ``cuts``; the outcome as comparable data (payload or error).

    ``reused_buffer`` feeds views of one buffer that is overwritten after each feed, as the
    driver's reads are: anything the decoder kept a reference to instead of a copy would change.
    """
    decoder = ChunkedBody()
    decoder._scan = scan  # type: ignore[assignment]
    points = sorted({min(max(c, 0), len(data)) for c in cuts}) + [len(data)]
    payload: list[bytes] = []
    last = 0
    try:
        buffer = bytearray(len(data))
        for point in points:
            piece: bytes | memoryview = data[last:point]
            if reused_buffer:
                buffer[: len(piece)] = piece
                piece = memoryview(buffer)[: len(piece)]
            pieces, rest = decoder.feed(piece)
            if reused_buffer:
                buffer[:] = b"\xee" * len(buffer)
                rest = bytes(rest) if rest is not None else None
            assert len(pieces) <= 1  # one joined piece per feed at most
            payload.extend(pieces)
            last = point
            if rest is not None:
                return ("done", b"".join(payload), rest + data[last:])
        decoder.eof()
    except DockerException as exc:
        return ("error", type(exc).__name__, str(exc), b"".join(payload))
    return ("open", b"".join(payload))


def encode(chunks: list[bytes], ext: bool) -> bytes:
    extension = b";name=value" if ext else b""
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), extension, c) for c in chunks if c)
    return out + b"0\r\n\r\n"


chunk_lists = st.lists(st.binary(min_size=1, max_size=600), max_size=20)
cut_lists = st.lists(st.integers(0, 15000), max_size=8)


@settings(max_examples=300)
@given(chunk_lists, cut_lists, st.booleans(), st.binary(max_size=20))
def test_valid_bodies_agree(chunks: list[bytes], cuts: list[int], ext: bool, after: bytes) -> None:
    data = encode(chunks, ext) + after
    fast = run(data, cuts, compiled_scan())
    pure = run(data, cuts, None)
    assert fast == pure
    assert run(data, cuts, compiled_scan(), reused_buffer=True) == fast
    assert run(data, cuts, None, reused_buffer=True) == fast
    assert fast[0] == "done" and fast[1] == b"".join(chunks) and fast[2] == after


@settings(max_examples=400)
@given(chunk_lists, cut_lists, st.integers(0, 10**6), st.binary(min_size=1, max_size=3))
def test_corrupted_bodies_agree(
    chunks: list[bytes], cuts: list[int], where: int, junk: bytes
) -> None:
    data = bytearray(encode(chunks, False))
    at = where % len(data)
    data[at : at + len(junk)] = junk
    expected = run(bytes(data), cuts, None)
    assert run(bytes(data), cuts, compiled_scan()) == expected
    assert run(bytes(data), cuts, compiled_scan(), reused_buffer=True) == expected


@given(st.binary(max_size=300), cut_lists)
def test_arbitrary_bytes_agree(data: bytes, cuts: list[int]) -> None:
    assert run(data, cuts, compiled_scan()) == run(data, cuts, None)


@pytest.mark.parametrize(
    "data",
    [
        b"5\r\nhello\r\n0\r\n\r\n",
        b"5 \r\nhello\r\n0\r\n\r\n",  # whitespace after the size: the Python side accepts it
        b"5\nhello\n0\n\n",  # bare LFs
        b"A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"5\r\nhelloXY",  # garbage instead of CRLF
        b"1" * 17 + b"\r\n",  # too many digits
        b"zz\r\n",
        b"5\r\nhel",  # cut inside a chunk
    ],
)
def test_edge_cases_agree(data: bytes) -> None:
    for cuts in ([], [1], [2, 3], list(range(len(data)))):
        assert run(data, cuts, compiled_scan()) == run(data, cuts, None)


def test_many_small_chunks_come_out_as_one_piece() -> None:
    lines = [b"x" * 99 + b"\n"] * 1000
    decoder = ChunkedBody()
    pieces, rest = decoder.feed(encode(lines, False))
    assert pieces == [b"".join(lines)] and rest == b""


@pytest.mark.parametrize("scan", ["compiled", "pure"])
@pytest.mark.parametrize("over", [0, 1])
def test_line_limit_does_not_depend_on_the_cut(scan: str, over: int) -> None:
    # A size line of MAX_CHUNK_LINE bytes plus CRLF is accepted, one byte more refused, wherever
    # the reads split it (it once depended on whether the CR and LF came in one read).
    line = b"1;" + b"e" * (body.MAX_CHUNK_LINE - 2 + over) + b"\r\n"
    data = line + b"x\r\n0\r\n\r\n"
    impl = compiled_scan() if scan == "compiled" else None
    expected = ("error", "ProtocolError") if over else ("done", b"x", b"")
    for cut in range(len(line) - 4, len(line) + 1):
        assert run(data, [cut], impl)[:2] == expected[:2]
