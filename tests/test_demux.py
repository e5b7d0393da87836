"""The multiplexed-stream demuxer, run against BOTH implementations in one process.

The compiled module is fetched explicitly (not through ``CTRPROTO_PURE_PYTHON``) and its absence
is a failure: an install that silently fell back to pure Python must not pass as fast.  Set
``CTRPROTO_ALLOW_PURE_ONLY=1`` to turn that failure into a skip on a machine without a compiler.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ctrproto
from ctrproto import errors
from ctrproto._sync.stream_shapes import frames_of
from ctrproto.protocol import demux as selector

ALLOW_PURE_ONLY = os.environ.get("CTRPROTO_ALLOW_PURE_ONLY", "") == "1"
IMPLEMENTATIONS = ["python", "cython"]

# The fixture hands out a module (stateless), so reusing it across examples is safe.
# CTRPROTO_DEMUX_EXAMPLES raises the example count for a longer search.
PROPERTY = settings(
    max_examples=int(os.environ.get("CTRPROTO_DEMUX_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _compiled() -> ModuleType:
    try:
        return selector.load(pure=False)
    except ImportError as exc:
        if ALLOW_PURE_ONLY:
            pytest.skip(f"compiled demuxer not built ({exc}); CTRPROTO_ALLOW_PURE_ONLY=1")
        pytest.fail(
            f"the compiled demuxer ctrproto.protocol._demux is not importable ({exc}): "
            "reinstall with `pip install -e .` (needs Cython and a C compiler), or set "
            "CTRPROTO_ALLOW_PURE_ONLY=1 to accept a pure-Python install"
        )


def _get(name: str) -> ModuleType:
    return selector.load(pure=True) if name == "python" else _compiled()


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest) -> ModuleType:
    return _get(request.param)


@pytest.fixture
def both() -> tuple[ModuleType, ModuleType]:
    return _get("python"), _get("cython")


# --------------------------------------------------------------------------- helpers


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def encode(frames: list[tuple[int, bytes]]) -> bytes:
    return b"".join(frame(s, p) for s, p in frames)


def chunk(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def coalesce(items: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Drop empty payloads and merge neighbours of one stream: the join=True shape."""
    out: list[tuple[int, bytes]] = []
    for stream, payload in items:
        if not payload:
            continue
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + payload)
        else:
            out.append((stream, payload))
    return out


def normalise(frames: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    return [(s or 1, p) for s, p in frames]


def per_stream(items: list[tuple[int, bytes]]) -> tuple[bytes, bytes]:
    return (
        b"".join(p for s, p in items if s == 1),
        b"".join(p for s, p in items if s == 2),
    )


def run(mod: ModuleType, chunks: list[bytes], join: bool, **kw: Any) -> dict[str, Any]:
    """Feed every chunk then close; record everything observable, errors included."""
    d = mod.Demuxer(join=join, **kw)
    calls: list[list[tuple[int, bytes]]] = []
    positions: list[tuple[int, int]] = []
    result: dict[str, Any] = {"calls": calls, "positions": positions, "error": None}
    try:
        for c in chunks:
            calls.append(d.feed(c))
            positions.append((d.offset, d.buffered))
        d.close()
    except errors.DockerException as exc:
        result["error"] = describe(exc)
        calls.append(exc.frames)  # type: ignore[attr-defined]
    positions.append((d.offset, d.buffered))
    return result


def describe(exc: BaseException) -> tuple[Any, ...]:
    return (type(exc), str(exc), getattr(exc, "partial", "n/a"))


def buffer_outcome(mod: ModuleType, data: bytes, **kw: Any) -> Any:
    try:
        return mod.demux_buffer(data, **kw)
    except errors.DockerException as exc:
        return describe(exc)


def flat(calls: list[list[tuple[int, bytes]]]) -> list[tuple[int, bytes]]:
    return [item for call in calls for item in call]


# --------------------------------------------------------------------------- strategies

payloads = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=1, max_size=5000),
)
frame_lists = st.lists(st.tuples(st.sampled_from([0, 1, 2]), payloads), max_size=25)
cut_lists = st.lists(st.integers(min_value=0, max_value=200_000), max_size=30)


@st.composite
def framed_and_cut(draw: st.DrawFn) -> tuple[list[tuple[int, bytes]], bytes, list[bytes]]:
    frames = draw(frame_lists)
    data = encode(frames)
    cuts = draw(st.lists(st.integers(min_value=0, max_value=max(len(data), 1)), max_size=30))
    return frames, data, chunk(data, cuts)


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(case=framed_and_cut())
def test_join_false_returns_exactly_the_frames(impl: ModuleType, case: Any) -> None:
    frames, data, chunks = case
    r = run(impl, chunks, join=False)
    assert r["error"] is None
    assert flat(r["calls"]) == normalise(frames)
    assert r["positions"][-1] == (len(data), 0)


@PROPERTY
@given(case=framed_and_cut())
def test_join_true_keeps_streams_and_order(impl: ModuleType, case: Any) -> None:
    frames, data, chunks = case
    r = run(impl, chunks, join=True)
    assert r["error"] is None
    got = flat(r["calls"])
    assert all(payload for _, payload in got), "join=True must drop empty payloads"
    for call in r["calls"]:
        streams = [s for s, _ in call]
        assert all(a != b for a, b in zip(streams, streams[1:], strict=False)), (
            "a call left a run unjoined"
        )
    assert coalesce(got) == coalesce(normalise(frames))
    assert per_stream(got) == per_stream(normalise(frames))


@PROPERTY
@given(frames=frame_lists)
def test_join_true_whole_buffer_is_fully_coalesced(impl: ModuleType, frames: Any) -> None:
    d = impl.Demuxer()
    assert d.feed(encode(frames)) == coalesce(normalise(frames))


@PROPERTY
@given(frames=frame_lists)
def test_demux_buffer_concatenates_per_stream(impl: ModuleType, frames: Any) -> None:
    data = encode(frames)
    expected = per_stream(normalise(frames))
    assert impl.demux_buffer(data) == expected
    assert impl.demux_buffer(bytearray(data)) == expected
    assert impl.demux_buffer(memoryview(data)) == expected


@PROPERTY
@given(case=framed_and_cut(), join=st.booleans())
def test_implementations_agree_on_valid_streams(both: Any, case: Any, join: bool) -> None:
    py, cy = both
    _, data, chunks = case
    assert run(py, chunks, join) == run(cy, chunks, join)
    assert buffer_outcome(py, data) == buffer_outcome(cy, data)


@PROPERTY
@given(
    data=st.binary(max_size=400),
    cuts=cut_lists,
    join=st.booleans(),
    limit=st.sampled_from([0, 5, 300, selector.DEFAULT_MAX_FRAME_SIZE]),
)
def test_implementations_agree_on_arbitrary_bytes(
    both: Any, data: bytes, cuts: list[int], join: bool, limit: int
) -> None:
    py, cy = both
    chunks = chunk(data, cuts)
    assert run(py, chunks, join, max_frame_size=limit) == run(
        cy, chunks, join, max_frame_size=limit
    )
    assert buffer_outcome(py, data, max_frame_size=limit) == buffer_outcome(
        cy, data, max_frame_size=limit
    )


@st.composite
def corrupted_streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A short stream (stream 3 included, so in-band errors occur too) with one byte
    overwritten, and the same bytes cut into reads."""
    frames = draw(st.lists(st.tuples(st.sampled_from([0, 1, 2, 1, 2, 3]), st.binary(max_size=30)),
                           min_size=1, max_size=8))
    data = bytearray(encode(frames))
    data[draw(st.integers(min_value=0)) % len(data)] = draw(st.integers(0, 255))
    return bytes(data), chunk(bytes(data), draw(cut_lists))


@PROPERTY
@given(case=corrupted_streams(), join=st.booleans())
def test_implementations_agree_on_corrupted_streams(both: Any, case: Any, join: bool) -> None:
    py, cy = both
    corrupted, chunks = case
    outcome = run(py, chunks, join)
    assert outcome == run(cy, chunks, join)
    assert buffer_outcome(py, corrupted) == buffer_outcome(cy, corrupted)


@PROPERTY
@given(data=st.binary(max_size=300), cuts=cut_lists)
def test_chunking_changes_neither_output_nor_error(
    impl: ModuleType, data: bytes, cuts: Any
) -> None:
    """Whatever the reads look like, the bytes delivered (before any error) and the error are
    the same as for one read of everything; and demux_buffer reports that same error."""
    whole = run(impl, [data] if data else [], join=True)
    pieces = run(impl, chunk(data, cuts), join=True)
    assert pieces["error"] == whole["error"]
    assert per_stream(flat(pieces["calls"])) == per_stream(flat(whole["calls"]))
    if whole["error"] is None:
        assert buffer_outcome(impl, data) == per_stream(flat(whole["calls"]))
    else:
        assert buffer_outcome(impl, data) == whole["error"]


# --------------------------------------------------------------------------- explicit cases


def test_public_api(impl: ModuleType) -> None:
    assert impl.STDOUT == 1
    assert impl.STDERR == 2
    assert impl.DEFAULT_MAX_FRAME_SIZE == 64 * 1024 * 1024
    d = impl.Demuxer()
    assert (d.offset, d.buffered) == (0, 0)
    with pytest.raises(AttributeError):
        d.offset = 5
    with pytest.raises(AttributeError):
        d.buffered = 5


def test_stream_3_raises_stream_error_with_the_message(impl: ModuleType) -> None:
    d = impl.Demuxer()
    data = frame(1, b"out") + frame(3, "boom \u2603".encode()) + frame(1, b"never")
    with pytest.raises(errors.StreamError) as info:
        d.feed(data)
    assert str(info.value) == "boom \u2603"
    assert info.value.frames == [(1, b"out")]  # type: ignore[attr-defined]
    with pytest.raises(errors.StreamError, match="^x\ufffdy$"):
        impl.demux_buffer(frame(2, b"e") + frame(3, b"x\xffy"))


def test_stream_3_split_across_feeds(impl: ModuleType) -> None:
    d = impl.Demuxer()
    data = frame(2, b"err") + frame(3, b"daemon said no")
    assert d.feed(data[:15]) == [(2, b"err")]
    with pytest.raises(errors.StreamError, match="^daemon said no$") as info:
        d.feed(data[15:])
    assert info.value.frames == []  # type: ignore[attr-defined]
    assert d.offset == 11  # the stream-3 frame's header


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"\x07\x00\x00\x00\x00\x00\x00\x01", "stream id 7 is not 0, 1, 2 or 3"),
        (b"\x01\x00\x01\x00\x00\x00\x00\x01", "bytes 1-3 must be zero"),
        (b"\x01\x00\x00\x80\x00\x00\x00\x01", "bytes 1-3 must be zero"),
    ],
)
def test_malformed_header_names_offset_and_bytes(
    impl: ModuleType, header: bytes, reason: str
) -> None:
    data = frame(1, b"hello") + header + b"x"
    expected = f"malformed frame header at stream offset 13: {header.hex(' ')} ({reason})"
    d = impl.Demuxer(join=False)
    with pytest.raises(errors.MalformedFrameError) as info:
        d.feed(data)
    assert str(info.value) == expected
    assert info.value.frames == [(1, b"hello")]  # type: ignore[attr-defined]
    with pytest.raises(errors.MalformedFrameError) as info:
        impl.demux_buffer(data)
    assert str(info.value) == expected
    # Also when the bad header arrives in pieces after other data.
    d = impl.Demuxer()
    assert d.feed(data[:15]) == [(1, b"hello")]
    with pytest.raises(errors.MalformedFrameError) as info:
        d.feed(data[15:])
    assert str(info.value) == expected


def test_frame_too_large(impl: ModuleType) -> None:
    d = impl.Demuxer(max_frame_size=10)
    assert d.feed(frame(1, b"0123456789")) == [(1, b"0123456789")]
    with pytest.raises(errors.FrameTooLargeError) as info:
        d.feed(frame(2, b"0123456789A")[:8])  # raised on the header, before any payload
    assert str(info.value) == (
        "frame at stream offset 18 announces 11 bytes of payload, more than the maximum of 10 bytes"
    )
    with pytest.raises(errors.FrameTooLargeError, match="announces 4294967295 bytes"):
        impl.demux_buffer(b"\x01\x00\x00\x00\xff\xff\xff\xff")
    # The default allows 64 MiB and no more.
    impl.Demuxer().feed(struct.pack(">BxxxI", 1, 64 * 1024 * 1024))
    with pytest.raises(errors.FrameTooLargeError):
        impl.Demuxer().feed(struct.pack(">BxxxI", 1, 64 * 1024 * 1024 + 1))
    # A maximum above the uint32 range means no limit.
    assert impl.Demuxer(max_frame_size=2**40).feed(b"\x01\x00\x00\x00\xff\xff\xff\xff") == []


def test_max_frame_size_zero_allows_only_empty_frames(impl: ModuleType) -> None:
    d = impl.Demuxer(max_frame_size=0, join=False)
    assert d.feed(frame(1, b"") + frame(2, b"")) == [(1, b""), (2, b"")]
    with pytest.raises(errors.FrameTooLargeError):
        d.feed(frame(1, b"x"))


def test_invalid_arguments(impl: ModuleType) -> None:
    with pytest.raises(errors.InvalidArgument):
        impl.Demuxer(max_frame_size=-1)
    with pytest.raises(ValueError):
        impl.demux_buffer(b"", max_frame_size=-1)
    with pytest.raises(TypeError):
        impl.Demuxer(max_frame_size=1.5)
    with pytest.raises(TypeError):
        impl.Demuxer().feed("text")
    with pytest.raises(TypeError):
        impl.Demuxer().feed(memoryview(frame(1, b"abcd"))[::2])


def test_truncated_inside_header(impl: ModuleType) -> None:
    d = impl.Demuxer()
    assert d.feed(frame(1, b"ok") + b"\x02\x00\x00") == [(1, b"ok")]
    assert (d.offset, d.buffered) == (10, 3)
    with pytest.raises(errors.TruncatedFrameError) as info:
        d.close()
    assert str(info.value) == (
        "stream ended inside the frame header at stream offset 10: "
        "expected 8 header bytes, received 3"
    )
    assert info.value.partial is None  # type: ignore[attr-defined]
    with pytest.raises(errors.TruncatedFrameError) as info2:
        impl.demux_buffer(frame(1, b"ok") + b"\x02\x00\x00")
    assert str(info2.value) == str(info.value)
    assert info2.value.partial is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("join", [True, False])
def test_truncated_inside_payload_keeps_the_partial_payload(impl: ModuleType, join: bool) -> None:
    data = frame(1, b"ok") + frame(2, b"0123456789")
    d = impl.Demuxer(join=join)
    assert d.feed(data[:14]) == [(1, b"ok")]
    assert d.feed(data[14:25]) == []
    assert (d.offset, d.buffered) == (10, 15)
    with pytest.raises(errors.TruncatedFrameError) as info:
        d.close()
    message = (
        "stream ended inside the payload of the frame at stream offset 10: "
        "expected 10 payload bytes, received 7"
    )
    assert str(info.value) == message
    assert info.value.partial == (2, b"0123456")  # type: ignore[attr-defined]
    with pytest.raises(errors.TruncatedFrameError) as info2:
        impl.demux_buffer(data[:25])
    assert str(info2.value) == message
    assert info2.value.partial == (2, b"0123456")  # type: ignore[attr-defined]


def test_truncated_right_after_header_and_in_error_frame(impl: ModuleType) -> None:
    d = impl.Demuxer()
    d.feed(frame(0, b"abc")[:8])
    with pytest.raises(errors.TruncatedFrameError) as info:
        d.close()
    assert info.value.partial == (1, b"")  # type: ignore[attr-defined]
    d = impl.Demuxer()
    d.feed(frame(3, b"half an error")[:12])
    with pytest.raises(errors.TruncatedFrameError) as info:
        d.close()
    assert info.value.partial == (3, b"half")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "close", "cls"),
    [
        (frame(3, b"bad"), False, errors.StreamError),
        (b"\x09" + bytes(7), False, errors.MalformedFrameError),
        (frame(1, b"x" * 20), False, errors.FrameTooLargeError),
        (frame(1, b"abc")[:9], True, errors.TruncatedFrameError),
    ],
)
def test_poisoned_after_an_error(impl: ModuleType, data: bytes, close: bool, cls: type) -> None:
    d = impl.Demuxer(max_frame_size=10)
    with pytest.raises(cls) as first:
        d.feed(data)
        if close:
            d.close()
    for attempt in (lambda: d.feed(frame(1, b"fine")), d.close, lambda: d.feed(b"")):
        with pytest.raises(cls) as again:
            attempt()
        assert type(again.value) is cls
        assert str(again.value) == str(first.value)
        assert again.value is not first.value
        assert again.value.frames == []  # type: ignore[attr-defined]
        assert getattr(again.value, "partial", None) == getattr(first.value, "partial", None)
    assert d.buffered == 0


def test_offset_and_buffered(impl: ModuleType) -> None:
    d = impl.Demuxer()
    a, b = frame(1, b"hello"), frame(2, b"world!")
    assert (d.offset, d.buffered) == (0, 0)
    d.feed(a[:3])
    assert (d.offset, d.buffered) == (0, 3)
    d.feed(a[3:10])
    assert (d.offset, d.buffered) == (0, 10)
    assert d.feed(a[10:] + b[:9]) == [(1, b"hello")]
    assert (d.offset, d.buffered) == (13, 9)
    assert d.feed(b[9:]) == [(2, b"world!")]
    assert (d.offset, d.buffered) == (27, 0)
    d.close()
    d.close()  # on a frame boundary closing is a no-op, and repeatable
    assert d.feed(a) == [(1, b"hello")]
    assert d.offset == 40


@pytest.mark.parametrize("join", [True, False])
def test_one_byte_at_a_time(impl: ModuleType, join: bool) -> None:
    frames = [(1, b"a" * 100), (2, b""), (0, b"bb"), (2, b"err\n"), (1, b""), (1, b"z")]
    data = encode(frames)
    d = impl.Demuxer(join=join)
    out = []
    for i in range(len(data)):
        out.extend(d.feed(data[i : i + 1]))
        assert d.offset + d.buffered == i + 1
    d.close()
    # One frame completes per call at most, so join=True has nothing to merge, only to drop.
    expected = normalise(frames)
    assert out == ([f for f in expected if f[1]] if join else expected)


def test_join_merges_across_the_straddling_frame(impl: ModuleType) -> None:
    data = frame(1, b"abc") + frame(2, b"") + frame(1, b"def") + frame(1, b"g") + frame(2, b"h")
    d = impl.Demuxer()
    assert d.feed(data[:9]) == []
    assert d.feed(data[9:]) == [(1, b"abcdefg"), (2, b"h")]
    d = impl.Demuxer(join=False)
    assert d.feed(data[:9]) == []
    assert d.feed(data[9:]) == [(1, b"abc"), (2, b""), (1, b"def"), (1, b"g"), (2, b"h")]


def test_input_types(impl: ModuleType) -> None:
    data = frame(1, b"abcd") + frame(2, b"efgh")
    expected = [(1, b"abcd"), (2, b"efgh")]
    for value in (data, bytearray(data), memoryview(data), memoryview(bytearray(data))):
        assert impl.Demuxer().feed(value) == expected
    as_ints = memoryview(bytearray(data)).cast("I")  # any C-contiguous format: its raw bytes
    assert impl.Demuxer().feed(as_ints) == expected
    assert impl.demux_buffer(as_ints) == (b"abcd", b"efgh")
    # Output does not alias the caller's buffer, which may be reused for the next read.
    buf = bytearray(data)
    got = impl.Demuxer().feed(buf)
    buf[:] = bytes(len(buf))
    assert got == expected


def test_empty_input(impl: ModuleType) -> None:
    d = impl.Demuxer()
    assert d.feed(b"") == []
    d.close()
    assert impl.demux_buffer(b"") == (b"", b"")


def test_large_frames_straddling_many_feeds(impl: ModuleType) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB
    data = frame(1, big) + frame(2, b"tail") + frame(1, big[:1000])
    d = impl.Demuxer()
    out = []
    for i in range(0, len(data), 65536):
        out.extend(d.feed(data[i : i + 65536]))
    d.close()
    assert coalesce(out) == [(1, big), (2, b"tail"), (1, big[:1000])]
    assert impl.demux_buffer(data) == (big + big[:1000], b"tail")


@pytest.mark.parametrize("join", [True, False])
def test_header_cut_then_whole_payload_then_more_frames(impl: ModuleType, join: bool) -> None:
    """A header split by a read, its payload and further frames whole in the next read: the
    cut frame is finished first, then the read goes on in place."""
    data = frame(1, b"ab") + frame(1, b"cd") + frame(2, b"ef") + frame(2, b"")
    d = impl.Demuxer(join=join)
    assert d.feed(data[:5]) == []
    assert (d.offset, d.buffered) == (0, 5)
    got = d.feed(data[5:])
    split = [(1, b"ab"), (1, b"cd"), (2, b"ef"), (2, b"")]
    assert got == ([(1, b"abcd"), (2, b"ef")] if join else split)
    assert (d.offset, d.buffered) == (len(data), 0)


def test_error_after_a_cut_frame_keeps_it_in_frames(impl: ModuleType) -> None:
    """The frame finished at the start of a read is among the frames an error there carries."""
    data = frame(2, b"first") + frame(2, b"second") + b"\x05" + bytes(7)
    d = impl.Demuxer()
    assert d.feed(data[:10]) == []
    with pytest.raises(errors.MalformedFrameError, match="at stream offset 27:") as info:
        d.feed(data[10:])
    assert info.value.frames == [(2, b"firstsecond")]  # type: ignore[attr-defined]
    assert (d.offset, d.buffered) == (27, 0)


# --------------------------------------------------------------------------- the selector


def test_selector_exports_the_active_implementation() -> None:
    active = selector.load(pure=selector.IMPLEMENTATION == "python")
    assert selector.Demuxer is active.Demuxer
    assert selector.demux_buffer is active.demux_buffer
    assert (selector.STDOUT, selector.STDERR) == (1, 2)
    assert selector.DEFAULT_MAX_FRAME_SIZE == 64 * 1024 * 1024
    assert set(selector.implementations()) <= {"python", "cython"}
    assert selector.implementations()["python"] is selector.load(pure=True)


def test_feed_frames_hands_back_the_frames_before_an_error(impl: ModuleType) -> None:
    d = impl.Demuxer()
    both = frame(1, b"a") + frame(2, b"b")
    assert selector.feed_frames(d, both) == ([(1, b"a"), (2, b"b")], None)
    frames, error = selector.feed_frames(d, frame(1, b"c") + frame(3, b"no such exec"))
    assert frames == [(1, b"c")]
    assert isinstance(error, errors.StreamError) and str(error) == "no such exec"
    assert error.frames == []  # type: ignore[attr-defined]
    # Poisoned: the same error again, with nothing before it.
    frames, again = selector.feed_frames(d, frame(1, b"late"))
    assert frames == [] and type(again) is errors.StreamError and str(again) == str(error)


@pytest.mark.parametrize("join", [True, False])
def test_frames_of_yields_the_frames_in_order(
    impl: ModuleType, join: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selector, "Demuxer", impl.Demuxer)
    frames = [(1, b"one"), (2, b"two"), (2, b""), (0, b"three")]
    data = encode(frames)
    pieces = [b"", data[:5], memoryview(b""), bytearray(data[5:20]), memoryview(data)[20:]]
    got = list(frames_of(iter(pieces), join=join))
    assert got == ([(1, b"one"), (2, b"two"), (1, b"three")] if join else normalise(frames))


def test_frames_of_raises_after_the_frames_before_the_error(
    impl: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selector, "Demuxer", impl.Demuxer)
    frames = frames_of([frame(1, b"ok"), frame(2, b"err") + frame(3, b"no")])
    assert next(frames) == (1, b"ok")
    assert next(frames) == (2, b"err")
    with pytest.raises(errors.StreamError, match="^no$") as info:
        next(frames)
    assert info.value.frames == []  # type: ignore[attr-defined]
    # The end of the pieces is the end of the stream: a frame cut there is an error.
    cut = frames_of([frame(1, b"whole"), frame(2, b"cut")[:-1]])
    assert next(cut) == (1, b"whole")
    with pytest.raises(errors.TruncatedFrameError) as truncated:
        next(cut)
    assert truncated.value.partial == (2, b"cu")  # type: ignore[attr-defined]


def _implementation_in_subprocess(value: str | None) -> str:
    env = dict(os.environ)
    env.pop("CTRPROTO_PURE_PYTHON", None)
    if value is not None:
        env["CTRPROTO_PURE_PYTHON"] = value
    # Import the same ctrproto as this process, wherever it was installed from.
    root = str(Path(ctrproto.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    code = "from ctrproto.protocol import demux; print(demux.IMPLEMENTATION)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "cython"), ("", "cython"), ("0", "cython"), ("1", "python"), ("yes", "python")],
)
def test_implementation_chosen_by_environment(value: str | None, expected: str) -> None:
    got = _implementation_in_subprocess(value)
    if expected == "cython" and got == "python":
        _compiled()  # fails (or skips under CTRPROTO_ALLOW_PURE_ONLY=1) with the reason
    assert got == expected
