"""In-memory inputs for the sans-IO benchmarks, shared by ``test_micro.py`` and ``compare.py``.

Everything here is deterministic (fixed seeds), so two runs time the same bytes, and cheap to
build (whole buffers are made by repeating one block), so building never dominates a run.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from docker.utils import socket as dockerpy_socket

MB = 1024 * 1024
HEADER = struct.Struct(">BxxxL")
#: Frame payload sizes the issue asks for; "mix" is the realistic interleaved log.
FRAME_KINDS = ("10B", "100B", "4KiB", "16KiB", "32KiB", "mix")
_FIXED_SIZES = {"10B": 10, "100B": 100, "4KiB": 4096, "16KiB": 16384, "32KiB": 32768}


def bench_size_bytes(default_mb: int = 256) -> int:
    """Buffer size from ``BENCH_SIZE_MB``, so a quick run can use a few MB instead of 256."""
    return int(os.environ.get("BENCH_SIZE_MB", default_mb)) * MB


@dataclass(frozen=True)
class FramedBuffer:
    """A multiplexed stream held in memory, with what a correct demuxer must produce."""

    kind: str
    data: bytes
    payload_bytes: int
    frames: int


def _frame(stream: int, payload: bytes) -> bytes:
    return HEADER.pack(stream, len(payload)) + payload


def _line(size: int, rng: random.Random) -> bytes:
    """A log-line-like payload ending in a newline (content does not matter to a demuxer)."""
    body = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(size - 1))
    return body + b"\n"


def _mix_block(rng: random.Random) -> tuple[bytes, int, int]:
    """~1 MB of what a real service logs: mostly stdout lines of 40-200 B, stderr lines now and
    then, and the odd large write (a stack trace, a JSON dump) of 4-32 KiB."""
    out = bytearray()
    payload = frames = 0
    while len(out) < MB:
        roll = rng.random()
        size = rng.randint(4096, 32768) if roll < 0.01 else rng.randint(40, 200)
        stream = 2 if rng.random() < 0.2 else 1
        out += _frame(stream, _line(size, rng))
        payload += size
        frames += 1
    return bytes(out), payload, frames


def _fixed_block(size: int) -> tuple[bytes, int, int]:
    """Frames of one size alternating stdout/stderr in runs, about 1 MB worth."""
    line = _line(size, random.Random(size))
    count = max(1, MB // (size + HEADER.size))
    block = b"".join(_frame(1 if (i // 8) % 2 == 0 else 2, line) for i in range(count))
    return block, size * count, count


def framed_buffer(kind: str, total: int) -> FramedBuffer:
    """``total`` bytes (rounded down to whole blocks) of ``kind`` frames."""
    if kind == "mix":
        block, payload, frames = _mix_block(random.Random(5))
    else:
        block, payload, frames = _fixed_block(_FIXED_SIZES[kind])
    repeat = max(1, total // len(block))
    return FramedBuffer(kind, block * repeat, payload * repeat, frames * repeat)


def plain_copy(buf: FramedBuffer) -> bytes:
    """The floor for any demuxer: one copy of as many bytes as the payload holds."""
    return bytes(memoryview(buf.data)[: buf.payload_bytes])


class BytesSocket:
    """Just enough of a socket for docker-py's frame reader, backed by memory.

    docker-py polls the socket before every read, so ``fileno`` must be pollable: ``/dev/null``
    always reports readable, which keeps the syscall docker-py really makes on a socket.
    """

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)
        self._fd = os.open(os.devnull, os.O_RDONLY)

    def fileno(self) -> int:
        return self._fd

    def recv(self, size: int) -> bytes:
        return self._io.read(size)

    def read(self, size: int = -1) -> bytes:
        return self._io.read(size)

    def close(self) -> None:
        os.close(self._fd)


def dockerpy_demux(data: bytes) -> tuple[bytes, bytes]:
    """docker-py's frame parser over an in-memory stream, joined once per stream.

    Joining with ``bytes +=`` as ``consume_socket_output`` does would time that quadratic join,
    not the parser."""
    sock = BytesSocket(data)
    out: list[bytes] = []
    err: list[bytes] = []
    try:
        for stream, payload in dockerpy_socket.frames_iter(sock, False):
            (err if stream == 2 else out).append(payload)
    finally:
        sock.close()
    return b"".join(out), b"".join(err)


def feed_in_pieces(demuxer_factory: Callable[[], object], data: bytes, piece: int) -> int:
    """Feed ``data`` to a fresh incremental demuxer in network-read-sized pieces; returns the
    payload bytes seen (so the work cannot be optimised away)."""
    demuxer = demuxer_factory()
    view = memoryview(data)
    seen = 0
    feed = demuxer.feed  # type: ignore[attr-defined]
    for start in range(0, len(view), piece):
        for _stream, payload in feed(view[start : start + piece]):
            seen += len(payload)
    demuxer.close()  # type: ignore[attr-defined]
    return seen


def stats_stream(count: int) -> bytes:
    """``count`` stats objects shaped like the daemon's (about 2 KB each), newline-separated."""
    rng = random.Random(7)
    values = []
    for i in range(count):
        values.append(
            {
                "read": f"2024-01-01T00:00:{i % 60:02d}.000000000Z",
                "preread": "2024-01-01T00:00:00.000000000Z",
                "pids_stats": {"current": rng.randint(1, 50)},
                "cpu_stats": {
                    "cpu_usage": {
                        "total_usage": rng.randint(0, 1 << 40),
                        "percpu_usage": [rng.randint(0, 1 << 36) for _ in range(8)],
                        "usage_in_kernelmode": rng.randint(0, 1 << 36),
                        "usage_in_usermode": rng.randint(0, 1 << 36),
                    },
                    "system_cpu_usage": rng.randint(0, 1 << 50),
                    "online_cpus": 8,
                    "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
                },
                "memory_stats": {
                    "usage": rng.randint(0, 1 << 32),
                    "limit": 1 << 34,
                    "stats": {f"counter_{k}": rng.randint(0, 1 << 30) for k in range(30)},
                },
                "networks": {
                    "eth0": {k: rng.randint(0, 1 << 30) for k in ("rx_bytes", "tx_bytes")}
                },
                "name": "/bench",
                "id": "f" * 64,
            }
        )
    return b"".join(json.dumps(v).encode() + b"\n" for v in values)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` cut like network reads, including cuts inside values."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def chunked_body(frame_payload: int, total: int) -> bytes:
    """An HTTP/1.1 chunked body whose chunks each carry one multiplexed frame (how dockerd writes
    a non-TTY log: one chunk per log line), ``total`` payload bytes in all, terminator included."""
    frame = _frame(1, _line(frame_payload, random.Random(1)))
    chunk = f"{len(frame):x}\r\n".encode() + frame + b"\r\n"
    return chunk * max(1, total // frame_payload) + b"0\r\n\r\n"
