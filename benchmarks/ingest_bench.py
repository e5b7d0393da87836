"""Issue 12's figures: ``ctrproto ingest`` next to the ways people read many containers' logs.

    .venv/bin/python benchmarks/ingest_bench.py --docker-host unix:///.../docker.sock --out DIR

Four parts, all against one daemon in one run:

1. **Stored logs**: ``--containers`` containers (50) that wrote ``--lines`` lines (20,000) of
   ~100 bytes and exited, read whole by: the ingester (``python -m ctrproto.ingest ingest``,
   JSONL file + SQLite state: the real CLI), one thread per container over docker-py's and over
   ctrproto's ``logs(stream=True, timestamps=True)``, one task per container on ctrproto's
   asyncio client, and the Go CLI (``docker logs -t`` per container, in parallel).  Each reader
   is its own process: its CPU (user+sys) and peak RSS come from ``wait4``; interpreter start-up
   is included for every Python reader alike, and also measured alone (a filter that matches
   nothing) for the "net of start-up" column.  The ingester's wall is until its stats line
   (``--stats-json`` every 20 ms) says every line was written and committed.
2. **Scaling**: the same with 1, 5, 10, 25 and 50 of those containers: throughput vs containers
   (the plot).
3. **Live follow**: ``--live`` containers (200) each writing ``--rate`` lines/s (50) for
   ``--follow-minutes``; the ingester (``--from now``) follows them.  Delay = the time this script
   reads a record from the output file minus the daemon's timestamp in it (so it includes this
   script's 20 ms polling); CPU per line from ``/proc``; RSS sampled every 10 s.
4. **Stalled sink**: the library with a sink that never returns, over the stored containers: RSS
   over ``--stall-seconds`` against the size of the logs it could have buffered.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctrproto import APIClient
from ctrproto.ingest.records import parse_timestamp

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "_ingest_clients.py"
SCALES = (1, 5, 10, 25, 50)
INGEST_LIMIT_S = 600.0  # an ingester that has not written everything by then failed
PAD = "x" * 86  # "%08d " + PAD + "\n" = 96 bytes of text, ~100 with the frame's stream byte


@dataclass
class Run:
    reader: str
    containers: int
    lines: int
    wall: float
    cpu: float
    rss_mb: float

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.wall

    @property
    def us_per_line(self) -> float:
        return self.cpu / max(self.lines, 1) * 1e6


# ------------------------------------------------------------------------------ processes


def wait_child(proc: subprocess.Popen[Any]) -> tuple[float, float]:
    """(cpu seconds, peak RSS MB) of a child, reaped here."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def python_reader(mode: str, host: str, label: str, containers: int) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(CLIENTS), mode, host, label], stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    cpu, rss = wait_child(proc)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed ({proc.returncode})")
    return Run(mode, containers, int(out.strip()), wall, cpu, rss)


def go_cli(host: str, ids: list[str], lines: int, config: str) -> Run:
    env = dict(os.environ, DOCKER_HOST=host, DOCKER_CONFIG=config)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(["docker", "logs", "-t", cid], stdout=subprocess.DEVNULL, env=env)
        for cid in ids
    ]
    cpu = rss = 0.0
    for proc in procs:
        c, r = wait_child(proc)
        cpu += c
        rss = max(rss, r)
        if proc.returncode != 0:
            raise RuntimeError(f"docker logs failed ({proc.returncode})")
    return Run("docker logs -t (Go CLI)", len(ids), lines, time.perf_counter() - start, cpu, rss)


def run_ingest_cli(args: list[str], want: int) -> tuple[float, float, float]:
    """``ctrproto ingest ARGS`` until its stats line (every 20 ms) says ``want`` lines were
    written and committed, then SIGTERM: (wall seconds, CPU seconds, peak RSS MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", *args,
         "--stats-interval", "0.02", "--stats-json"],
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    wall = None
    for line in proc.stderr:
        if line.startswith("{") and json.loads(line)["lines"] >= want:
            wall = time.perf_counter() - start
            break
        if time.perf_counter() - start > INGEST_LIMIT_S:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    cpu, rss = wait_child(proc)
    if wall is None or proc.returncode != 0:
        raise RuntimeError(f"the ingester ended early ({proc.returncode}): {rest[-500:]}")
    return wall, cpu, rss


def ingester(host: str, label: str, want: int, containers: int, scratch: Path) -> Run:
    work = Path(tempfile.mkdtemp(dir=scratch))
    output = work / "out.jsonl"
    wall, cpu, rss = run_ingest_cli(
        ["--host", host, "--filter", f"label={label}", "--state", str(work / "state.db"),
         "--output", str(output)],
        want,
    )
    with output.open("rb") as f:
        written = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    shutil.rmtree(work)
    if written != want:
        raise RuntimeError(f"the ingester wrote {written} lines, not {want}")
    return Run("ctrproto ingest (JSONL + state)", containers, want, wall, cpu, rss)


# ------------------------------------------------------------------------------ containers


class Fleet:
    """The benchmark's containers, all labelled with one run tag; removed at the end."""

    def __init__(self, api: APIClient) -> None:
        self.api = api
        self.tag = uuid.uuid4().hex[:10]
        self.ids: list[str] = []

    def label(self, name: str) -> str:
        return f"ctrproto.bench.{self.tag}.{name}"

    def create(self, script: str, labels: list[str], max_size: str | None = None) -> str:
        config: dict[str, Any] = {"Type": "json-file"}
        if max_size:
            config["Config"] = {"max-size": max_size, "max-file": "2"}
        cid = self.api.create_container(
            "busybox", ["sh", "-c", script], labels={self.label(k): "1" for k in labels},
            host_config=self.api.create_host_config(network_mode="none", log_config=config),
        )["Id"]
        self.ids.append(cid)
        return cid

    def stored(self, count: int, lines: int) -> list[str]:
        script = f"awk 'BEGIN {{ for (i = 1; i <= {lines}; i++) printf \"%08d {PAD}\\n\", i }}'"
        ids = [
            self.create(script, ["stored"] + [f"s{n}" for n in SCALES if i < n])
            for i in range(count)
        ]
        for cid in ids:
            self.api.start(cid)
        for cid in ids:
            if self.api.wait(cid, timeout=600)["StatusCode"] != 0:
                raise RuntimeError("a log writer failed")
        return ids

    def live(self, count: int, rate: int) -> list[str]:
        # ``read -t`` on a fifo nobody writes is a sleep without a fork per line.
        script = (
            f"mkfifo /tmp/f; exec 3<>/tmp/f; i=0; while :; do i=$((i+1)); "
            f"printf '%08d {PAD}\\n' $i; read -t {1 / rate:.3f} -u 3 x; done"
        )
        ids = [self.create(script, ["live"], max_size="50m") for _ in range(count)]
        for cid in ids:
            self.api.start(cid)
        return ids

    def remove(self) -> None:
        for cid in self.ids:
            self.api.remove_container(cid, force=True)
        self.ids.clear()


# ------------------------------------------------------------------------------ parts


def stored_logs(
    host: str, fleet: Fleet, ids: list[str], lines: int, reps: int, scratch: Path
) -> list[Run]:
    config = tempfile.mkdtemp(dir=scratch)
    runs: list[Run] = []
    n = len(ids)
    label = fleet.label("stored")
    # Start-up and shut-down alone (a filter no container matches), to show the per-line cost
    # net of them as well: the cheapest of three runs, per reader.
    nothing = fleet.label("nothing")
    for _ in range(3):
        runs.append(ingester(host, nothing, 0, 0, scratch))
        for mode in ("ctrproto", "ctrproto.aio", "docker-py"):
            runs.append(python_reader(mode, host, nothing, 0))
    for _ in range(reps):  # interleaved: a slow moment of the machine hits every reader
        runs.append(ingester(host, label, n * lines, n, scratch))
        for mode in ("ctrproto", "ctrproto.aio", "docker-py"):
            runs.append(python_reader(mode, host, label, n))
        runs.append(go_cli(host, ids, n * lines, config))
    return runs


def scaling(host: str, fleet: Fleet, count: int, lines: int, scratch: Path) -> list[Run]:
    """Each scale below ``count`` (the stored part's runs are the point at ``count``)."""
    runs = []
    for n in [n for n in SCALES if n < count]:
        label = fleet.label(f"s{n}")
        runs.append(ingester(host, label, n * lines, n, scratch))
        for mode in ("ctrproto", "docker-py"):
            runs.append(python_reader(mode, host, label, n))
    return runs


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def live_follow(
    host: str, fleet: Fleet, count: int, rate: int, minutes: float, scratch: Path
) -> dict[str, Any]:
    fleet.live(count, rate)
    time.sleep(5)  # every writer running
    work = Path(tempfile.mkdtemp(dir=scratch))
    output = work / "out.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", host,
            "--filter", f"label={fleet.label('live')}", "--state", str(work / "state.db"),
            "--output", str(output), "--from", "now",
        ],
        stderr=subprocess.DEVNULL,
    )
    warmup = 15.0
    delays: list[float] = []
    rss: list[tuple[float, float]] = []
    counted = 0
    cpu0 = None
    started = time.monotonic()
    next_rss = started
    try:
        while not output.exists():
            time.sleep(0.02)
        with output.open("rb") as f:
            rest = b""
            while True:
                now = time.monotonic()
                elapsed = now - started
                if elapsed > warmup + minutes * 60:
                    break
                if cpu0 is None and elapsed >= warmup:
                    cpu0, counted = _proc_cpu(proc.pid), 0
                if now >= next_rss:
                    rss.append((round(elapsed, 1), _proc_rss_mb(proc.pid)))
                    next_rss += 10
                data = rest + f.read()
                wall_ns = time.time_ns()
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                if cpu0 is not None:
                    for record in data[:cut].splitlines():
                        at = record.find(b'"time":"') + 8
                        delays.append((wall_ns - parse_timestamp(record[at:at + 30])) / 1e9)
                        counted += 1
                time.sleep(0.02)
        cpu = _proc_cpu(proc.pid) - (cpu0 or 0.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        fleet.remove()
        shutil.rmtree(work)
    delays.sort()
    seconds = minutes * 60
    steady = [mb for t, mb in rss if t >= warmup]
    return {
        "containers": count,
        "rate_per_container": rate,
        "seconds": seconds,
        "lines": counted,
        "lines_per_s": counted / seconds,
        "delay_p50_s": statistics.median(delays),
        "delay_p99_s": delays[int(len(delays) * 0.99)],
        "delay_max_s": delays[-1],
        "cpu_us_per_line": cpu / counted * 1e6,
        "cpu_share": cpu / seconds,
        "rss_mb": rss,
        "rss_spread_mb": max(steady) - min(steady),
    }


STALL = """
import asyncio, sys
from ctrproto.ingest import ingest
from ctrproto.ingest.sinks import CallableSink

async def never(batch):
    await asyncio.Event().wait()

asyncio.run(ingest([sys.argv[1]], {"label": [sys.argv[2]]}, CallableSink(never), None))
"""


def stalled_sink(host: str, label: str, seconds: float, log_mb: float) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-c", STALL, host, label])
    samples = []
    try:
        for _ in range(int(seconds)):
            time.sleep(1)
            samples.append(_proc_rss_mb(proc.pid))
    finally:
        proc.kill()
        proc.wait()
    return {"seconds": seconds, "rss_mb": samples, "logs_mb": log_mb}


# ------------------------------------------------------------------------------ report


def table(runs: list[Run], base: str) -> list[str]:
    """Medians per reader; start-up runs (0 containers) give the "net" column."""
    startup: dict[str, float] = {}
    by: dict[str, list[Run]] = {}
    for run in runs:
        if run.containers == 0:
            startup[run.reader] = min(startup.get(run.reader, run.cpu), run.cpu)
        else:
            by.setdefault(run.reader, []).append(run)
    floor = by[base]
    floor_wall = statistics.median(r.wall for r in floor)
    floor_cpu = statistics.median(r.us_per_line for r in floor)
    out = [
        "| reader | wall s (median) | lines/s | client CPU µs/line | net of start-up |"
        f" start-up CPU s | peak RSS MB | wall vs {base} | CPU vs {base} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for reader, rs in by.items():
        wall = statistics.median(r.wall for r in rs)
        cpu = statistics.median(r.us_per_line for r in rs)
        start = startup.get(reader)
        net = "-" if start is None else f"{cpu - start / rs[0].lines * 1e6:.2f}"
        out.append(
            f"| {reader} | {wall:.2f} | {rs[0].lines / wall:,.0f} | {cpu:.2f} | {net} |"
            f" {'-' if start is None else f'{start:.2f}'} | {max(r.rss_mb for r in rs):.0f} |"
            f" {wall / floor_wall:.2f}x | {cpu / floor_cpu:.2f}x |"
        )
    return out


def plot(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for reader in dict.fromkeys(r.reader for r in runs):
        points: dict[int, list[float]] = {}
        for r in runs:
            if r.reader == reader:
                points.setdefault(r.containers, []).append(r.lines_per_s)
        xs = sorted(points)
        ax.plot(xs, [statistics.median(points[x]) for x in xs], marker="o", label=reader)
    ax.set_xlabel("containers read at once")
    ax.set_ylabel("lines/s")
    ax.set_title("Stored logs: throughput vs number of containers")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--live", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--follow-minutes", type=float, default=10.0)
    parser.add_argument("--stall-seconds", type=float, default=30.0)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: "
                        "stored,scaling,live,stall")
    args = parser.parse_args(argv)
    if not args.docker_host:
        parser.error("--docker-host (or DOCKER_HOST) is needed")
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ctrproto-ingest-bench-"))
    api = APIClient(base_url=args.docker_host, timeout=600)
    fleet = Fleet(api)
    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "daemon": api.version()["Version"],
    }
    try:
        if not {"stored", "scaling", "stall"} <= skip:
            ids = fleet.stored(args.containers, args.lines)
            if "stored" not in skip:
                stored = stored_logs(args.docker_host, fleet, ids, args.lines, args.reps, scratch)
                results["stored"] = [r.__dict__ for r in stored]
                print("\n".join(table(stored, "ctrproto")), flush=True)
            if "scaling" not in skip:
                scaled = scaling(args.docker_host, fleet, args.containers, args.lines, scratch)
                if "stored" not in skip:
                    scaled += [
                        r for r in stored
                        if r.containers and r.reader in {x.reader for x in scaled}
                    ]
                results["scaling"] = [r.__dict__ for r in scaled]
                plot(scaled, args.out / "ingest-scaling.png")
            if "stall" not in skip:
                mb = args.containers * args.lines * 100 / 1e6
                results["stall"] = stalled_sink(
                    args.docker_host, fleet.label("stored"), args.stall_seconds, mb
                )
                print(results["stall"], flush=True)
            fleet.remove()
        if "live" not in skip:
            results["live"] = live_follow(
                args.docker_host, fleet, args.live, args.rate, args.follow_minutes, scratch
            )
            print({k: v for k, v in results["live"].items() if k != "rss_mb"}, flush=True)
    finally:
        fleet.remove()
        shutil.rmtree(scratch, ignore_errors=True)
    (args.out / "ingest.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
