"""Message ids for a de-duplicating bus: unique along a stream, and a replay from any committed
cursor gives every replayed line the id it had (so the bus drops it, and never drops a line it
has not seen)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ctrproto.ingest.cursor import Cursor, Resume, advance
from ctrproto.ingest.message_ids import INSTANTS, StreamIds, stream_key
from ctrproto.ingest.records import Line

BASE = 1_796_167_036_000_000_000


def lines_of(steps: list[int]) -> list[Line]:
    """Timestamps that mostly repeat or grow, sometimes step back (a clock stepping)."""
    out: list[Line] = []
    ns = BASE
    for i, step in enumerate(steps):
        ns += step
        out.append((f"t{ns}", ns, b"line %d" % i, False))
    return out


steps = st.lists(st.sampled_from([0, 0, 1, 1, 7, -3, -20]), min_size=1, max_size=60)


def first_run(lines: list[Line], cuts: list[int]) -> list[str]:
    ids = StreamIds("h:c:stdout", None)
    out: list[str] = []
    start = 0
    for cut in sorted(cuts) + [len(lines)]:  # the groups the reads happened to make
        out += ids.ids(lines[start:max(start, cut)])
        start = max(start, cut)
    return out


@settings(max_examples=300, deadline=None)
@given(steps=steps, cuts=st.lists(st.integers(0, 60), max_size=5))
def test_ids_never_repeat_along_a_stream(steps: list[int], cuts: list[int]) -> None:
    ids = first_run(lines_of(steps), cuts)
    assert len(set(ids)) == len(ids)


@settings(max_examples=300, deadline=None)
@given(steps=steps, commit=st.integers(0, 59))
@example(steps=[0, 1, 1, -3, 1], commit=0)  # a line behind the cursor, at the cursor's instant
def test_a_replay_from_a_committed_cursor_repeats_the_ids(steps: list[int], commit: int) -> None:
    """Delivered up to line ``commit``, committed, crashed: the restart asks the daemon from the
    cursor (lines at or after its instant, in log order), drops what Resume says was delivered,
    and numbers the rest from the committed cursor."""
    lines = lines_of(steps)
    commit = min(commit, len(lines) - 1)
    want = dict(zip(range(len(lines)), first_run(lines, []), strict=True))
    cursor: Cursor | None = None
    for time, ns, _, _ in lines[:commit + 1]:
        cursor = advance(cursor, time, ns)
    assert cursor is not None
    resume = Resume({"stdout": cursor})
    replay = [(i, line) for i, line in enumerate(lines) if line[1] >= cursor.time_ns]
    kept: list[tuple[int, Line]] = []
    for i, line in replay:
        if kept or resume.keep("stdout", line[1]):
            kept.append((i, line))
    got = StreamIds("h:c:stdout", cursor).ids([line for _, line in kept])
    assert got == [want[i] for i, _ in kept]
    # and nothing kept was delivered before the commit
    assert all(i > commit for i, _ in kept)


def test_old_instants_are_forgotten_beyond_the_bound() -> None:
    """Memory per stream is bounded: only the last INSTANTS timestamps keep their index."""
    ids = StreamIds("k", None)
    ids.ids([(f"t{n}", n, b"x", False) for n in range(INSTANTS + 10)])
    assert len(ids._seen) == INSTANTS
    assert ids.ids([(f"t{INSTANTS + 9}", INSTANTS + 9, b"y", False)]) == [f"k:{INSTANTS + 9}:1"]


def test_stream_keys_are_short_stable_and_tell_streams_apart() -> None:
    host, cid = "unix:///var/run/docker.sock", "ab" * 32
    key = stream_key(host, cid, "stdout")
    assert key == stream_key(host, cid, "stdout")
    assert len(key) == 16 and key.replace("-", "").replace("_", "").isalnum()
    others = {
        stream_key(host, cid, "stderr"), stream_key(host + "x", cid, "stdout"),
        stream_key(host, cid[:-1] + "c", "stdout"),
        # the parts are kept apart: moving a character across a boundary is another stream
        stream_key(host + "a", "b" + cid[2:], "stdout"), stream_key(host, cid + "s", "tdout"),
    }
    assert key not in others and len(others) == 5
