"""What nats-server spends per message, by what is asked of it: the ceiling of any JetStream
sink on the machine it runs on (issue 13).

    .venv/bin/python benchmarks/nats_server_cost.py [--nats URL] [--messages 200000]

Publishes batches of 100-byte messages on one connection of the server's text protocol
(``PUB``/``HPUB``; the sink's own :class:`~ctrproto.ingest.nats_wire.Publisher` where acks are
counted) and reads the server's CPU from ``/proc/PID/stat`` (``--nats-pid``, default: the
testbed's).  Each case gets a fresh stream, dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import nats
from nats_bench import cpu_seconds, testbed_pids

from ctrproto.ingest.nats_wire import Publisher

REPO = Path(__file__).resolve().parent.parent
BODY = b"x" * 100


async def _bare(url: str, stream: str | None, subjects: str, n: int, with_id: bool) -> None:
    """Batches of 5,000 without reply subjects (no acks), a PING after each; then wait until
    the stream holds them all."""
    host, port = url.removeprefix("nats://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b'CONNECT {"verbose":false,"headers":true}\r\nPING\r\n')
    await reader.readuntil(b"PONG\r\n")
    for start in range(0, n, 5000):
        parts = []
        for i in range(start, start + 5000):
            subject = f"{subjects}.h.c{i % 20}"
            if with_id:
                header = f"NATS/1.0\r\nNats-Msg-Id: {'k' * 16}:{i}\r\n\r\n".encode()
                parts.append(f"HPUB {subject} {len(header)} {len(header) + len(BODY)}\r\n"
                             .encode() + header + BODY + b"\r\n")
            else:
                parts.append(f"PUB {subject} {len(BODY)}\r\n".encode() + BODY + b"\r\n")
        writer.write(b"".join(parts) + b"PING\r\n")
        await reader.readuntil(b"PONG\r\n")
    writer.close()
    if stream is not None:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            while (await js.stream_info(stream)).state.messages < n:
                await asyncio.sleep(0.01)
        finally:
            await nc.close()


async def _acked(url: str, subjects: str, n: int, id_bytes: int) -> None:
    publisher = Publisher(url)
    await publisher.connect()
    try:
        for start in range(0, n, 2000):
            await publisher.publish([
                (f"{subjects}.h.c{i % 20}", BODY, f"{i:0{id_bytes}d}")
                for i in range(start, start + 2000)
            ], 30)
    finally:
        await publisher.close()


async def case(url: str, pid: int, label: str, n: int, kind: str, id_bytes: int = 0) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = "COST_" + uuid.uuid4().hex[:8].upper()
    subjects = stream.lower()
    if kind != "core":
        await js.add_stream(name=stream, subjects=[f"{subjects}.>"], duplicate_window=600)
    try:
        t0, c0 = time.perf_counter(), cpu_seconds(pid)
        if kind == "acked":
            await _acked(url, subjects, n, id_bytes)
        else:
            await _bare(url, None if kind == "core" else stream, subjects, n, kind == "id")
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
        print(f"| {label} | {n / wall:,.0f} | {cpu / n * 1e6:.1f} |", flush=True)
    finally:
        if kind != "core":
            await js.delete_stream(stream)
        await nc.close()


async def run(url: str, pid: int, n: int) -> None:
    print("| publishing | msg/s | nats-server µs CPU/msg |\n|---|---:|---:|")
    await case(url, pid, "no stream (core NATS)", n, "core")
    await case(url, pid, "into the stream, no reply (no ack)", n, "plain")
    await case(url, pid, "into the stream with a Nats-Msg-Id, no ack", n, "id")
    await case(url, pid, "with an id of 130 B and an ack per message", n, "acked", 130)
    await case(url, pid, "with an id of 40 B and an ack per message", n, "acked", 40)


def main(argv: list[str]) -> int:
    env_file = REPO / ".testbed" / "env.json"
    env = json.loads(env_file.read_text()) if env_file.exists() else {}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nats", default=env.get("CTRPROTO_TESTBED_NATS"))
    parser.add_argument("--nats-pid", type=int, default=testbed_pids()[1])
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args(argv)
    if not args.nats or not args.nats_pid:
        parser.error("--nats and --nats-pid are needed (no testbed found)")
    asyncio.run(run(args.nats, args.nats_pid, args.messages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
