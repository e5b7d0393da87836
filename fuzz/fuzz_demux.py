"""Coverage-guided fuzzing of the compiled demuxer (and a cross-check with the pure twin).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_demux.py -max_total_time=60        # libFuzzer options follow

Each input is split into feed() calls at offsets taken from its first bytes, fed to the compiled
``Demuxer`` with a small frame limit, then to the pure-Python one: both must raise only ctrproto
errors, and produce the same frames and the same error (class and message).  Any other exception,
or a difference, is a crash that libFuzzer saves as ``crash-*`` for replay
(``python fuzz/fuzz_demux.py crash-<hash>``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from ctrproto.errors import DockerException
    from ctrproto.protocol import _demux as compiled  # type: ignore[attr-defined]
    from ctrproto.protocol import demux_py as pure

MAX_FRAME = 4096


def run(module: object, pieces: list[bytes], join: bool) -> tuple[list[tuple[int, bytes]], str]:
    demuxer = module.Demuxer(max_frame_size=MAX_FRAME, join=join)  # type: ignore[attr-defined]
    frames: list[tuple[int, bytes]] = []
    try:
        for piece in pieces:
            frames.extend(demuxer.feed(piece))
        demuxer.close()
    except DockerException as exc:
        frames.extend(getattr(exc, "frames", []))
        return frames, f"{type(exc).__name__}: {exc}"
    return frames, ""


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    join = fdp.ConsumeBool()
    cuts = sorted(fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 6)))
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    pieces, last = [], 0
    for cut in [*cuts, len(body)]:
        cut = min(cut, len(body))
        if cut > last:
            pieces.append(body[last:cut])
            last = cut
    got = run(compiled, pieces, join)
    want = run(pure, pieces, join)
    if join:
        # Joined output may be grouped differently; the bytes per stream must agree.
        def flat(frames: list[tuple[int, bytes]]) -> dict[int, bytes]:
            out: dict[int, bytes] = {}
            for stream, payload in frames:
                out[stream] = out.get(stream, b"") + payload
            return out

        assert flat(got[0]) == flat(want[0]) and got[1] == want[1], (got, want)
    else:
        assert got == want, (got, want)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
