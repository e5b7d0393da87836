"""Issue 13's throughput figure: the same ``ctrproto ingest`` into JetStream and into a JSONL
file, over the same stored logs, in one run.

    .venv/bin/python benchmarks/nats_bench.py --docker-host unix:///.../docker.sock \\
        --nats nats://127.0.0.1:PORT --out DIR

``--containers`` (20) containers that wrote ``--lines`` (50,000) lines of ~100 bytes are read
whole by the CLI with: ``--output FILE --state SQLITE`` (the baseline), ``--output nats://``
with an SQLite state, and ``--output nats://`` with ``--state nats://`` (no local state).
Wall = until the stats line says every line was acknowledged and committed; CPU and RSS of the
ingester from ``wait4`` (the nats-server's own CPU is not in it).  Runs are interleaved, median
of ``--reps``; every JetStream run goes into a fresh stream, whose message count is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

import nats
from ingest_bench import Fleet, Run, run_ingest_cli

from ctrproto import APIClient


def run_ingester(name: str, args: list[str], want: int, containers: int) -> Run:
    return Run(name, containers, want, *run_ingest_cli(args, want))


async def _stream(url: str, stream: str, drop: bool) -> int:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        count = int((await js.stream_info(stream)).state.messages)
        if drop:
            await js.delete_stream(stream)
        return count
    finally:
        await nc.close()


async def _drop_bucket(url: str, bucket: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_key_value(bucket)
    finally:
        await nc.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST"))
    parser.add_argument("--nats", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    api = APIClient(base_url=args.docker_host, timeout=600)
    fleet = Fleet(api)
    scratch = Path(tempfile.mkdtemp(prefix="ctrproto-nats-bench-"))
    want = args.containers * args.lines
    runs: list[Run] = []
    try:
        fleet.stored(args.containers, args.lines)
        common = ["--host", args.docker_host, "--filter", f"label={fleet.label('stored')}"]
        for rep in range(args.reps):
            work = scratch / str(rep)
            work.mkdir()
            runs.append(run_ingester(
                "JSONL file + SQLite state",
                [*common, "--output", str(work / "out.jsonl"), "--state", str(work / "a.db")],
                want, args.containers,
            ))
            for label, state in (("JetStream + SQLite state", str(work / "b.db")),
                                 ("JetStream + NATS KV state", f"{args.nats}/BENCH{rep}")):
                stream = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
                runs.append(run_ingester(
                    label,
                    [*common, "--output", f"{args.nats}/bench{rep}", "--nats-stream", stream,
                     "--state", state],
                    want, args.containers,
                ))
                stored = asyncio.run(_stream(args.nats, stream, drop=True))
                if stored != want:
                    raise RuntimeError(f"{label}: {stored} messages in the stream, not {want}")
            asyncio.run(_drop_bucket(args.nats, f"BENCH{rep}"))
            shutil.rmtree(work)
    finally:
        fleet.remove()
        shutil.rmtree(scratch, ignore_errors=True)
    base = statistics.median(r.wall for r in runs if r.reader.startswith("JSONL"))
    lines = [f"{'output':28} {'wall s':>7} {'lines/s':>9} {'vs JSONL':>8} {'µs CPU/line':>11}"
             f" {'RSS MB':>7}"]
    for name in dict.fromkeys(r.reader for r in runs):
        mine = [r for r in runs if r.reader == name]
        wall = statistics.median(r.wall for r in mine)
        cpu = statistics.median(r.us_per_line for r in mine)
        rss = max(r.rss_mb for r in mine)
        lines.append(f"{name:28} {wall:7.2f} {want / wall:9.0f} {base / wall:7.2f}x {cpu:11.2f}"
                     f" {rss:7.1f}")
    print("\n".join(lines))
    (args.out / "nats.json").write_text(json.dumps([r.__dict__ for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
