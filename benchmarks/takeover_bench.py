"""Issue 13's takeover figures: three ``ctrproto ingest --shard-group`` members share three
daemons; one is SIGKILLed; how long until another member owns its host, and how far behind each
host's lines fall meanwhile.

    .venv/bin/python benchmarks/takeover_bench.py --out DIR [--ttl 10] [--reps 3]

The daemons are the shared testbed's and two private testbed instances started here (and
dropped at the end); the JetStream server is the shared testbed's.  Each daemon runs
``--writers`` containers printing a numbered line every ``1 / --rate`` seconds.  Per rep: a fresh
group, stream and state bucket; three members (``-v``); once each holds one host and lines
flow, the member holding the first daemon is killed.  Takeover = the "took H" log line of the
new owner (UTC, ms) minus the kill.  Lag of a line = the time JetStream stored it (its message
metadata) minus the line's own timestamp, per host: the median before the kill, the maximum
from the kill until 5 s after the takeover.  Every writer's numbered lines are checked to follow
on in the stream (none lost, none twice).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import nats  # noqa: E402
from conftest import wait_for  # noqa: E402
from ingest_bench import Fleet  # noqa: E402
from test_ingest_shard import Member  # noqa: E402
from testbed import Testbed, TestbedError  # noqa: E402

from ctrproto import APIClient  # noqa: E402
from ctrproto.ingest.nats_sink import subject_token  # noqa: E402
from ctrproto.ingest.records import parse_timestamp  # noqa: E402


def _wait(predicate: Any, timeout: float, what: str) -> None:
    if not wait_for(predicate, timeout):
        raise RuntimeError(f"timed out waiting for {what}")


async def _lags(url: str, stream: str) -> list[tuple[str, float, float]]:
    """(host subject token, stored at, lag s) for every message of the stream."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        count = (await js.stream_info(stream)).state.messages
        sub = await js.subscribe(">", stream=stream, ordered_consumer=True)
        out = []
        last: dict[str, int] = {}
        while len(out) < count:
            msg = await sub.next_msg(timeout=10)
            record = json.loads(msg.data)
            stored = msg.metadata.timestamp.timestamp()
            line_at = parse_timestamp(record["time"].encode()) / 1e9
            out.append((msg.subject.split(".")[1], stored, stored - line_at))
            # Each writer numbers its lines: in the stream they must follow on, none twice.
            number, key = int(record["line"].split()[0]), record["container_id"]
            if key in last and number != last[key] + 1:
                raise RuntimeError(f"{key[:12]}: line {number} after {last[key]}")
            last[key] = number
        await sub.unsubscribe()
        await js.delete_stream(stream)
        with contextlib.suppress(Exception):
            await js.delete_key_value(stream.lower())
        return out
    finally:
        await nc.close()


def one_rep(
    hosts: list[str], url: str, ttl: float, label: str, scratch: Path, rep: int
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    stream = f"TAKEOVER_{tag.upper()}"
    args = [
        sys.executable, "-m", "ctrproto.ingest", "ingest", "-v", "--from", "now",
        *(arg for host in hosts for arg in ("--host", host)),
        "--filter", f"label={label}", "--state", f"{url}/{stream.lower()}",
        "--output", f"{url}/t{tag}", "--nats-stream", stream,
        "--shard-group", "bench", "--lease-ttl", str(ttl),
    ]
    members = [Member(f"r{rep}m{n}", args, scratch) for n in range(3)]
    try:
        for member in members:
            member.start()
        _wait(lambda: all(len(m.holding()) == 1 for m in members), 120, "one host each")
        time.sleep(ttl)  # steady flow before the kill
        victim = next(m for m in members if len(m.holding()) == 1)
        (host,) = victim.holding()
        killed_at = time.time()
        victim.kill()
        others = [m for m in members if m is not victim]

        def took() -> float | None:
            for member in others:
                for when, _, what, held in member.events():
                    if what == "took" and held == host and when > killed_at:
                        return when
            return None

        _wait(lambda: took() is not None, 10 * ttl, "the takeover")
        taken_at = took()
        assert taken_at is not None
        time.sleep(5.0)
        for member in others:
            if member.terminate() != 0:
                raise RuntimeError(member.text()[-2000:])
    finally:
        for member in members:
            member.stop_quietly()
    lags = asyncio.run(_lags(url, stream))
    per_host: dict[str, dict[str, float]] = {}
    for token in sorted({t for t, _, _ in lags}):
        before = [lag for t, at, lag in lags if t == token and at < killed_at]
        during = [lag for t, at, lag in lags if t == token and killed_at <= at <= taken_at + 5]
        per_host[token] = {
            "lag_before_p50_s": statistics.median(before) if before else float("nan"),
            "lag_during_max_s": max(during) if during else float("nan"),
            "lines": sum(1 for t, _, _ in lags if t == token),
        }
    return {"takeover_s": taken_at - killed_at, "killed_host": host, "hosts": per_host}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ttl", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--rate", type=int, default=50)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    shared = Testbed.up()
    url = shared.env["CTRPROTO_TESTBED_NATS"]
    directories = [tempfile.mkdtemp(prefix="ctrproto-takeover-") for _ in range(2)]
    scratch = Path(tempfile.mkdtemp(prefix="ctrproto-takeover-logs-"))
    fleets: list[Fleet] = []
    runs = []
    try:
        with ThreadPoolExecutor(2) as pool:
            beds = list(pool.map(Testbed.up, directories))
        hosts = [shared.docker_host] + [bed.docker_host for bed in beds]
        tag = uuid.uuid4().hex[:10]
        for host in hosts:
            fleet = Fleet(APIClient(base_url=host, timeout=120))
            fleet.tag = tag  # one label across the three daemons
            fleets.append(fleet)
            fleet.live(args.writers, args.rate)
        for rep in range(args.reps):
            runs.append(one_rep(hosts, url, args.ttl, fleets[0].label("live"), scratch, rep))
            print(json.dumps(runs[-1]), flush=True)
    finally:
        for fleet in fleets:
            with contextlib.suppress(Exception):
                fleet.remove()
            fleet.api.close()
        for directory in directories:
            with contextlib.suppress(TestbedError):
                Testbed.load(directory).down(purge=True)
            shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    takeovers = [r["takeover_s"] for r in runs]
    print(f"lease TTL {args.ttl:g} s: takeover after SIGKILL {min(takeovers):.2f} / "
          f"{statistics.median(takeovers):.2f} / {max(takeovers):.2f} s (min / median / max)")
    for n, run in enumerate(runs):
        for token, figures in run["hosts"].items():
            mark = " (the killed member's)" if token == subject_token(run["killed_host"]) else ""
            print(f"  rep {n} {token[-28:]}{mark}: lag before p50 "
                  f"{figures['lag_before_p50_s']:.2f} s, during max "
                  f"{figures['lag_during_max_s']:.2f} s")
    (args.out / "takeover.json").write_text(json.dumps(
        {"ttl_s": args.ttl, "writers_per_host": args.writers, "rate_per_writer": args.rate,
         "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
