"""Micro-benchmarks of ctrproto's sans-IO parts (issue 5), next to docker-py and a plain copy.

Run:  .venv/bin/python -m pytest benchmarks/test_micro.py --benchmark-only
      BENCH_SIZE_MB=16 BENCH_ROUNDS=1 ...   for a quick run (default 256 MB, 3 rounds).

Rounds are fixed (``pedantic``) rather than calibrated: a 256 MB demux at 10 B frames takes
seconds, and pytest-benchmark's calibration would otherwise repeat it for minutes.  Compare within
one ``group`` (same input); absolute times on this shared machine mean little.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pytest
from _payloads import (
    FRAME_KINDS,
    FramedBuffer,
    bench_size_bytes,
    chunked_body,
    dockerpy_demux,
    feed_in_pieces,
    framed_buffer,
    pieces,
    plain_copy,
    stats_stream,
)

from ctrproto.protocol import demux
from ctrproto.protocol.http import ClientCycle
from ctrproto.protocol.jsonstream import JSONStreamDecoder
from ctrproto.protocol.request import build_request

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
READ_SIZE = 256 * 1024
COMPILED = demux.implementations().get("cython")
PURE = demux.load(pure=True)


@lru_cache(maxsize=1)
def _buffer(kind: str) -> FramedBuffer:
    """One 256 MB buffer at a time: tests are ordered by kind, so the cache never holds two."""
    return framed_buffer(kind, bench_size_bytes())


def _run(benchmark: Any, fn: Callable[[], object], group: str, nbytes: int) -> None:
    benchmark.group = group
    benchmark.extra_info["MB"] = round(nbytes / 2**20, 1)
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=0)


DEMUXERS: dict[str, Callable[[FramedBuffer], object]] = {
    "copy": plain_copy,
    "compiled": lambda b: COMPILED.demux_buffer(b.data) if COMPILED else None,
    "compiled-feed": lambda b: feed_in_pieces(COMPILED.Demuxer, b.data, READ_SIZE)
    if COMPILED
    else None,
    "pure": lambda b: PURE.demux_buffer(b.data),
    "pure-feed": lambda b: feed_in_pieces(PURE.Demuxer, b.data, READ_SIZE),
    "dockerpy": lambda b: dockerpy_demux(b.data),
}


@pytest.mark.parametrize("impl", list(DEMUXERS))
@pytest.mark.parametrize("kind", FRAME_KINDS)
def test_demux(benchmark: Any, kind: str, impl: str) -> None:
    """The demuxer on a whole buffer (``demux_buffer``) and fed in 256 KiB reads (``feed``)."""
    if impl.startswith("compiled") and COMPILED is None:
        pytest.skip("the compiled demuxer was not built")
    buf = _buffer(kind)
    if impl in ("compiled", "pure"):
        out, err = DEMUXERS[impl](buf)  # type: ignore[misc]
        assert len(out) + len(err) == buf.payload_bytes
    _run(benchmark, lambda: DEMUXERS[impl](buf), f"demux-{kind}", len(buf.data))


def test_jsonstream_stats(benchmark: Any) -> None:
    """A long stats stream (20k objects, ~40 MB) cut into 4 KiB reads, as it arrives."""
    data = stats_stream(20_000)
    cut = list(pieces(data, 4096))

    def decode() -> int:
        decoder = JSONStreamDecoder()
        count = 0
        for piece in cut:
            count += len(decoder.feed(piece))
        return count + len(decoder.close())

    assert decode() == 20_000
    _run(benchmark, decode, "jsonstream", len(data))


def test_request_build(benchmark: Any) -> None:
    """Building and serialising one inspect request: the per-request floor of the client."""

    def build() -> bytes:
        request = build_request(
            "GET", "/containers/abc123/json", api_version="1.41", params={"size": False}
        )
        return ClientCycle(request).start()

    benchmark.group = "http"
    benchmark(build)


SMALL_JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
    b"Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24 (linux)\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 48\r\n\r\n"
    b'{"Id":"abc","State":{"Running":true},"Name":"x"}'
)


def _parse(response: bytes, read_size: int) -> int:
    cycle = ClientCycle(build_request("GET", "/containers/abc/logs", api_version="1.41"))
    cycle.start()
    received = 0
    for piece in pieces(response, read_size):
        for event in cycle.receive(piece):
            data = getattr(event, "data", None)
            if data is not None:
                received += len(data)
    return received


def test_response_small_json(benchmark: Any) -> None:
    """Head parsing plus a Content-Length body: the per-response cost of inspect/ping."""
    benchmark.group = "http"
    benchmark(_parse, SMALL_JSON_RESPONSE, 65536)


def test_response_chunked_log(benchmark: Any) -> None:
    """A 32 MB chunked log body, one 100 B frame per chunk, read 256 KiB at a time: the chunked
    framing cost per chunk that workload 1 pays (independent of the demuxer)."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    response = head + chunked_body(100, 32 * 2**20)
    assert _parse(response, READ_SIZE) > 32 * 2**20
    _run(benchmark, lambda: _parse(response, READ_SIZE), "http-chunked", len(response))


def test_copy_chunked_log(benchmark: Any) -> None:
    """The floor for the test above: one copy of the same bytes."""
    response = chunked_body(100, 32 * 2**20)
    _run(benchmark, lambda: bytearray(response), "http-chunked", len(response))
