"""``Collector``: whole-output demultiplexing, held against the streaming ``Demuxer``.

The collector backs every non-stream result (``logs()``, ``exec_run()``, ``attach()``), so its
contract is stated in terms of the demuxer the stream results use: for any bytes, cut into any
reads, it returns what the demuxer's frames join to, and raises exactly the demuxer's error.
Both implementations are checked, and checked against each other.
"""

from __future__ import annotations

import tracemalloc
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_demux import (
    PROPERTY,
    chunk,
    corrupted_streams,
    cut_lists,
    describe,
    encode,
    frame,
    framed_and_cut,
    run,
    selector,
)

from ctrproto import errors

LIMITS = st.sampled_from([0, 5, 300, selector.DEFAULT_MAX_FRAME_SIZE])


def collect(mod: ModuleType, chunks: list[bytes], merge: bool, **kw: Any) -> Any:
    """The collector's result for ``chunks``, or the description of the error it raised."""
    collector = mod.Collector(merge=merge, **kw)
    try:
        for piece in chunks:
            collector.feed(piece)
        return collector.close()
    except errors.DockerException as exc:
        assert exc.frames == []  # type: ignore[attr-defined]
        return describe(exc)


def expected(mod: ModuleType, chunks: list[bytes], merge: bool, **kw: Any) -> Any:
    """What the streaming demuxer says about the same reads, in the collector's shape."""
    outcome = run(mod, chunks, join=True, **kw)
    if outcome["error"] is not None:
        return outcome["error"]
    items = [item for call in outcome["calls"] for item in call]
    if merge:
        return b"".join(p for _, p in items), b""
    return (
        b"".join(p for s, p in items if s != 2),
        b"".join(p for s, p in items if s == 2),
    )


@pytest.fixture(params=["python", "cython"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    from test_demux import _get

    return _get(request.param)


@PROPERTY
@given(case=framed_and_cut(), merge=st.booleans())
def test_valid_streams_match_the_demuxer(impl: ModuleType, case: Any, merge: bool) -> None:
    frames, _, chunks = case
    result = collect(impl, chunks, merge)
    assert result == expected(impl, chunks, merge)
    assert sum(map(len, result)) == sum(len(p) for _, p in frames)


@PROPERTY
@given(data=st.binary(max_size=400), cuts=cut_lists, merge=st.booleans(), limit=LIMITS)
def test_arbitrary_bytes_give_the_demuxers_outcome(
    impl: ModuleType, data: bytes, cuts: list[int], merge: bool, limit: int
) -> None:
    chunks = chunk(data, cuts)
    assert collect(impl, chunks, merge, max_frame_size=limit) == expected(
        impl, chunks, merge, max_frame_size=limit
    )


@PROPERTY
@given(case=corrupted_streams(), merge=st.booleans())
def test_implementations_agree_on_corrupted_streams(case: Any, merge: bool) -> None:
    from test_demux import _get

    _, chunks = case
    assert collect(_get("python"), chunks, merge) == collect(_get("cython"), chunks, merge)


@PROPERTY
@given(data=st.binary(max_size=3000), cuts=cut_lists)
def test_unframed_output_is_passed_through(impl: ModuleType, data: bytes, cuts: Any) -> None:
    assert collect(impl, chunk(data, cuts), merge=False, framed=False) == (data, b"")


def test_outputs_grow_past_the_first_allocation(impl: ModuleType) -> None:
    """Many reads into one reused buffer: outputs double several times and stay exact."""
    out = [bytes([i % 251]) * (1000 + i) for i in range(300)]
    data = b"".join(frame(1 + i % 2, p) for i, p in enumerate(out))
    reader = bytearray(4096)
    view = memoryview(reader)
    collector = impl.Collector()
    for start in range(0, len(data), 4096):
        piece = data[start : start + 4096]
        reader[: len(piece)] = piece
        collector.feed(view[: len(piece)])
    stdout, stderr = collector.close()
    assert stdout == b"".join(out[0::2])
    assert stderr == b"".join(out[1::2])


def test_an_in_band_error_raises_and_poisons(impl: ModuleType) -> None:
    collector = impl.Collector()
    collector.feed(frame(1, b"out") + frame(3, b"no such exec")[:10])
    with pytest.raises(errors.StreamError, match="^no such exec$"):
        collector.feed(frame(3, b"no such exec")[10:])
    with pytest.raises(errors.StreamError, match="^no such exec$"):
        collector.close()


def test_truncated_frame_keeps_what_arrived_of_it(impl: ModuleType) -> None:
    collector = impl.Collector()
    collector.feed(frame(1, b"whole") + frame(2, b"cut off here")[:12])
    with pytest.raises(errors.TruncatedFrameError) as info:
        collector.close()
    assert info.value.partial == (2, b"cut ")
    assert "stream offset 13" in str(info.value)


def test_use_after_close_is_refused(impl: ModuleType) -> None:
    collector = impl.Collector()
    collector.feed(frame(1, b"x"))
    assert collector.close() == (b"x", b"")
    with pytest.raises(ValueError, match="closed"):
        collector.feed(b"")
    with pytest.raises(ValueError, match="closed"):
        collector.close()


def test_bad_frame_limit_is_refused_like_the_demuxer(impl: ModuleType) -> None:
    with pytest.raises(errors.InvalidArgument):
        impl.Demuxer(max_frame_size=-1)
    with pytest.raises(errors.InvalidArgument):
        impl.Collector(max_frame_size=-1)
    with pytest.raises(errors.InvalidArgument):
        impl.Collector(framed=False, max_frame_size=-1)


@pytest.mark.parametrize("merge", [False, True])
def test_a_frame_cut_across_reads_is_gathered_in_its_output(merge: bool) -> None:
    """Compiled: a frame cut by read boundaries is copied straight into its output as it
    arrives, not into a buffer of its own first, so memory peaks at about the output's size."""
    from test_demux import _get

    payload = bytes(range(256)) * 16384  # 4 MiB, arriving in 64 KiB reads
    data = frame(2, payload) + frame(1 if merge else 2, b"")
    collector = _get("cython").Collector(merge=merge)
    view = memoryview(data)
    tracemalloc.start()
    try:
        for start in range(0, len(data), 65536):
            collector.feed(view[start : start + 65536])
        result = collector.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result == ((payload, b"") if merge else (b"", payload))
    assert peak < len(payload) * 1.25


def test_demux_buffer_on_large_input() -> None:
    """A large input, both streams, as bytes and as a bytearray; cut short it raises."""
    from test_demux import _get

    pieces = [(1 + (i // 3) % 2, bytes([i % 256]) * (50 + (i * 37) % 3000)) for i in range(2000)]
    data = encode(pieces)
    assert len(data) > 1 << 20
    expected_out = b"".join(p for s, p in pieces if s == 1)
    expected_err = b"".join(p for s, p in pieces if s == 2)
    for name in ("python", "cython"):
        assert _get(name).demux_buffer(data) == (expected_out, expected_err)
        assert _get(name).demux_buffer(bytearray(data)) == (expected_out, expected_err)
        with pytest.raises(errors.TruncatedFrameError):
            _get(name).demux_buffer(data[:-1])
