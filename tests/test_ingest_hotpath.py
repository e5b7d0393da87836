"""The ingester's per-line loops: the compiled ``_hotpath`` and its pure-Python twin agree on
every input (results, stopping points, the cache of the current second), and the assembler and
the encoder give the same output whichever one serves them."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.ingest import assembly, hotpath, hotpath_py, records
from ctrproto.ingest.assembly import LineAssembler
from ctrproto.ingest.records import Lines, encode, encode_batch, epoch_ns_of_second

BASE = b"2026-12-01T23:17:16"


def compiled() -> ModuleType:
    found = hotpath.implementations().get("cython")
    if found is None:
        if os.environ.get("CTRPROTO_ALLOW_PURE_ONLY"):
            pytest.skip("compiled ingest hot path not built (CTRPROTO_ALLOW_PURE_ONLY set)")
        pytest.fail("the compiled ingest hot path is not built: install with `scripts/setup`")
    return found


def test_the_compiled_loops_serve_by_default() -> None:
    compiled()
    assert hotpath.IMPLEMENTATION == "cython"
    assert assembly.stamped_lines is compiled().stamped_lines


# Frames: mostly the daemon's form, with every way of not being it mixed in.
def _frame(kind: int, text: bytes, ns: int, second: int) -> Any:
    stamp = BASE[:17] + b"%02d" % second + b".%09dZ" % ns
    if kind == 0:
        return stamp + b" " + text + b"\n"
    if kind == 1:  # no newline: a split line's piece
        return stamp + b" " + text
    if kind == 2:  # fewer fraction digits
        return BASE + b".5Z " + text + b"\n"
    if kind == 3:  # a bad second (61): the general path must report it
        return BASE[:17] + b"61.000000001Z " + text + b"\n"
    if kind == 4:  # not digits in the fraction
        return stamp[:25] + b"x" + stamp[26:] + b" " + text + b"\n"
    if kind == 5:  # two lines in one frame
        return stamp + b" " + text + b"\nmore\n"
    if kind == 6:  # not bytes
        return bytearray(stamp + b" " + text + b"\n")
    return b"short\n"


frames = st.lists(
    st.builds(
        _frame,
        st.integers(0, 7) | st.just(0),
        st.binary(max_size=24).map(lambda b: b.replace(b"\n", b" ")),
        st.integers(0, 999_999_999),
        st.integers(0, 59),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(payloads=frames, start=st.integers(0, 3), max_text=st.integers(0, 30),
       cached=st.booleans())
def test_stamped_lines_twins_agree(
    payloads: list[Any], start: int, max_text: int, cached: bool
) -> None:
    second = BASE if cached else b""
    second_ns = epoch_ns_of_second(BASE) if cached else 0
    args = (payloads, min(start, len(payloads)), max_text, second, second_ns, epoch_ns_of_second)
    want = hotpath_py.stamped_lines(*args)
    assert compiled().stamped_lines(*args) == want
    lines, stop, _, _ = want
    assert stop == args[1] + len(lines)


def test_stamped_lines_stops_where_the_general_path_must_speak() -> None:
    good = BASE + b".000000001Z a\n"
    bad = BASE[:17] + b"61.000000001Z b\n"
    for impl in (hotpath_py, compiled()):
        lines, stop, second, ns = impl.stamped_lines(
            [good, good, bad, good], 0, 100, b"", 0, epoch_ns_of_second
        )
        assert stop == 2 and len(lines) == 2 and second == BASE
        assert lines[0] == (good[:30].decode(), ns + 1, b"a", False)
    with pytest.raises(ValueError, match="time of day"):
        LineAssembler("stdout").feed_all([good, bad])


texts = st.lists(
    st.tuples(
        st.binary(max_size=20) | st.sampled_from([b"plain", b"", b"say \"hi\"", b"\\"]),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(items=texts)
def test_encode_plain_twins_agree(items: list[tuple[bytes, bool]]) -> None:
    lines = [
        (f"2026-12-01T23:17:16.{i:09d}Z", i, text, partial)
        for i, (text, partial) in enumerate(items)
    ]
    quote = b'{"host":"h","time":"'
    want = hotpath_py.encode_plain(quote, lines)
    assert compiled().encode_plain(quote, lines) == want
    if want is not None:
        assert want.count(b"\n") == len(lines)


def _through(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], bytes]:
    """Frames of every kind through the assembler (batches of 5, errors noted) and the lines
    through the encoder, with ``module`` serving both."""
    monkeypatch.setattr(assembly, "stamped_lines", module.stamped_lines)
    monkeypatch.setattr(records, "encode_plain", module.encode_plain)
    kinds = (0, 0, 1, 0, 2, 0, 4, 0, 5, 0, 7, 0)
    payloads = [
        _frame(3 if k == 40 else kinds[k % 12], b"text %d" % k, k, k // 7) for k in range(64)
    ]
    asm = LineAssembler("stdout", max_line_bytes=10, piece_bytes=12)
    got: list[Any] = []
    for k in range(0, len(payloads), 5):
        try:
            got += asm.feed_all(payloads[k:k + 5])
        except ValueError as exc:
            got.append(("error", k, str(exc)))
    lines = [g for g in got if g[0] != "error"]
    group = Lines("h", "c", "n", "i", "stdout", None, lines)
    data = encode_batch([group])
    assert data == b"".join(encode(r) for r in group.records())
    return got, data


def test_encoder_and_assembler_are_the_same_on_either_twin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The callers give identical output whichever twin serves them (the general path covers
    what the loops leave, errors included)."""
    want = _through(hotpath_py, monkeypatch)
    assert any(g[0] == "error" for g in want[0]) and len(want[0]) > 20
    assert _through(compiled(), monkeypatch) == want
