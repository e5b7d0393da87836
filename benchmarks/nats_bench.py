"""Issue 13's throughput figure: the same ``ctrproto ingest`` into JetStream and into a JSONL
file, over the same stored logs, in one run.

    .venv/bin/python benchmarks/nats_bench.py --docker-host unix:///.../docker.sock \\
        --nats nats://127.0.0.1:PORT --out DIR

``--containers`` (20) containers that wrote ``--lines`` (50,000) lines of ~100 bytes are read
whole by the CLI with: ``--output FILE --state SQLITE`` (the baseline), ``--output nats://``
with an SQLite state, and ``--output nats://`` with ``--state nats://`` (no local state).
Wall = until the stats line says every line was acknowledged and committed; CPU and RSS of the
ingester from ``wait4``; the daemon's and the nats-server's CPU over the same run from
``/proc/PID/stat`` (``--dockerd-pid``/``--nats-pid``, default: the testbed's).  Runs are
interleaved, median of ``--reps``; every JetStream run goes into a fresh stream, whose message
count is checked.

``--pin``: the nats-server on CPU 1, the daemon and the ingester on CPU 0, for every run (the
JSONL one too) - a stand-in for a NATS server on a machine of its own, as a log bus is deployed,
on a two-CPU box where otherwise all three share both CPUs.
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

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(pid: int, cpus: set[int]) -> None:
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def testbed_pids() -> tuple[int | None, int | None]:
    """The testbed's dockerd and nats-server pids (None where it has none)."""
    env_file = REPO / ".testbed" / "env.json"
    if not env_file.exists():
        return None, None
    env = json.loads(env_file.read_text())
    nats_pidfile = Path(env.get("CTRPROTO_TESTBED_NATS_PIDFILE", "/nonexistent"))
    dockerd = env.get("CTRPROTO_TESTBED_DOCKERD_PID")
    return (int(dockerd) if dockerd else None,
            int(nats_pidfile.read_text()) if nats_pidfile.exists() else None)


def run_ingester(
    name: str, args: list[str], want: int, containers: int, servers: dict[str, int | None],
    extra: list[dict[str, float]],
) -> Run:
    before = {k: cpu_seconds(pid) for k, pid in servers.items() if pid}
    run = Run(name, containers, want, *run_ingest_cli(args, want))
    extra.append({f"{k}_cpu_s": cpu_seconds(pid) - before[k] for k, pid in servers.items() if pid})
    return run


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
    parser.add_argument("--pin", action="store_true")
    dockerd_pid, nats_pid = testbed_pids()
    parser.add_argument("--dockerd-pid", type=int, default=dockerd_pid)
    parser.add_argument("--nats-pid", type=int, default=nats_pid)
    args = parser.parse_args(argv)
    servers = {"dockerd": args.dockerd_pid, "nats": args.nats_pid}
    extra: list[dict[str, float]] = []
    every_cpu = os.sched_getaffinity(0)
    if args.pin:
        if not (args.dockerd_pid and args.nats_pid) or len(every_cpu) < 2:
            parser.error("--pin needs two CPUs and both server pids")
        _pin(args.nats_pid, {1})
        _pin(args.dockerd_pid, {0})
        os.sched_setaffinity(0, {0})  # the ingesters inherit it
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
                want, args.containers, servers, extra,
            ))
            for label, state in (("JetStream + SQLite state", str(work / "b.db")),
                                 ("JetStream + NATS KV state", f"{args.nats}/BENCH{rep}")):
                stream = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
                runs.append(run_ingester(
                    label,
                    [*common, "--output", f"{args.nats}/bench{rep}", "--nats-stream", stream,
                     "--state", state],
                    want, args.containers, servers, extra,
                ))
                stored = asyncio.run(_stream(args.nats, stream, drop=True))
                if stored != want:
                    raise RuntimeError(f"{label}: {stored} messages in the stream, not {want}")
            asyncio.run(_drop_bucket(args.nats, f"BENCH{rep}"))
            shutil.rmtree(work)
    finally:
        if args.pin:
            for pid in (args.nats_pid, args.dockerd_pid):
                _pin(pid, every_cpu)
            os.sched_setaffinity(0, every_cpu)
        fleet.remove()
        shutil.rmtree(scratch, ignore_errors=True)
    base = statistics.median(r.wall for r in runs if r.reader.startswith("JSONL"))
    lines = [f"{'output':28} {'wall s':>7} {'lines/s':>9} {'vs JSONL':>8} {'µs CPU/line':>11}"
             f" {'RSS MB':>7} {'dockerd µs':>10} {'nats µs':>8}"
             + ("  (pinned)" if args.pin else "")]
    for name in dict.fromkeys(r.reader for r in runs):
        mine = [r for r in runs if r.reader == name]
        wall = statistics.median(r.wall for r in mine)
        cpu = statistics.median(r.us_per_line for r in mine)
        rss = max(r.rss_mb for r in mine)
        theirs = [e for r, e in zip(runs, extra, strict=True) if r.reader == name]
        per_line = {
            k: statistics.median(e.get(f"{k}_cpu_s", float("nan")) for e in theirs) / want * 1e6
            for k in servers
        }
        lines.append(f"{name:28} {wall:7.2f} {want / wall:9.0f} {base / wall:7.2f}x {cpu:11.2f}"
                     f" {rss:7.1f} {per_line['dockerd']:10.2f} {per_line['nats']:8.2f}")
    print("\n".join(lines))
    (args.out / ("nats-pinned.json" if args.pin else "nats.json")).write_text(json.dumps(
        [{**r.__dict__, **e} for r, e in zip(runs, extra, strict=True)], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
