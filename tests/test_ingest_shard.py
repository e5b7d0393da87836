"""Shard groups (issue 13): three ingesters share three daemons through leases in the NATS
state's bucket.  One is killed with SIGKILL mid-run and started again later; the nats-server
is restarted once.  Oracle: each daemon's own logs against the messages in the stream (every
line exactly once, in order per container stream), and the owner changes each ingester logged
(-v): never two owners of one host at the same time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nats
import pytest
from conftest import IMAGE, terminate_pidfile, wait_for
from test_ingest_nats import _drop_bucket, _drop_stream, _jetstream
from test_ingest_run import check_against_daemon, expected_lines, writer
from testbed import Testbed, TestbedError

from ctrproto import APIClient
from ctrproto.ingest.shard import preference, share

pytestmark = pytest.mark.daemon

TTL = 3.0


# ------------------------------------------------------------------------------ the sharing rule


def test_shares_cover_every_host_and_differ_by_at_most_one() -> None:
    for hosts in range(0, 12):
        names = [f"h{n}" for n in range(hosts)]
        for members in range(1, 7):
            ids = [f"m{uuid.uuid4().hex[:6]}" for _ in range(members)]
            shares = [share(names, ids, me) for me in ids]
            assert sum(shares) == hosts
            assert max(shares) - min(shares) <= 1


def test_preference_is_a_stable_order_of_the_hosts() -> None:
    hosts = [f"unix:///d{n}.sock" for n in range(8)]
    first = preference(hosts, "member-a")
    assert sorted(first) == sorted(hosts)
    assert preference(list(reversed(hosts)), "member-a") == first
    assert preference(hosts, "member-b") != first  # another member ranks them otherwise


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", "unix:///nonexistent",
         *args],
        capture_output=True, text=True, timeout=60,
    )


def test_the_cli_names_what_a_shard_group_needs(tmp_path: Path) -> None:
    nats_url = "nats://127.0.0.1:4222"
    for args, why in (
        (["--shard-group", "g", "--state", str(tmp_path / "s.db"), "--output", f"{nats_url}/p"],
         "--shard-group needs a nats:// --state"),
        (["--shard-group", "g", "--state", f"{nats_url}/B", "--output", "-"],
         "--shard-group needs a nats:// --state"),
        (["--shard-group", "a.b", "--state", f"{nats_url}/B", "--output", f"{nats_url}/p"],
         "a group name is made of [A-Za-z0-9_-]"),
        (["--shard-group", "g", "--lease-ttl", "0", "--state", f"{nats_url}/B"],
         "must be a positive number of seconds"),
        (["--nats-stream", "S", "--state", str(tmp_path / "s.db"), "--output", "-"],
         "--nats-stream is for a nats:// --output"),
    ):
        done = _cli(*args)
        assert done.returncode == 2 and why in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_the_library_refuses_a_shard_group_without_a_nats_state(tmp_path: Path) -> None:
    from ctrproto.ingest import StateStore, StdoutSink, ingest

    state = StateStore(str(tmp_path / "s.db"))
    try:
        with pytest.raises(ValueError, match="needs its cursors in a NATS state"):
            asyncio.run(ingest(["unix:///nonexistent"], {}, StdoutSink(), state, shard_group="g"))
    finally:
        state.close()


def test_the_overlap_check_finds_two_owners_at_once() -> None:
    """The oracle of the chaos run, on made-up spans: it must be able to fail."""
    assert not _overlaps([("h", "a", 0.0, 5.0), ("h", "b", 5.0, 9.0), ("h", "a", 9.5, 12.0)])
    assert _overlaps([("h", "a", 0.0, 10.0), ("h", "b", 3.0, 4.0), ("h", "c", 11.0, 12.0)])
    assert not _overlaps([("h", "a", 0.0, 10.0), ("g", "b", 3.0, 4.0)])  # other hosts


# ------------------------------------------------------------------------------ the chaos run


@pytest.fixture
def two_more_daemons() -> Iterator[list[Testbed]]:
    """Two testbed instances of this test's own (their daemons join the shared one; the
    first's nats-server is the one restarted)."""
    directories = [tempfile.mkdtemp(prefix="ctrproto-shard-") for _ in range(2)]
    beds: list[Testbed] = []
    try:
        with ThreadPoolExecutor(2) as pool:
            beds = list(pool.map(Testbed.up, directories))
        yield beds
    finally:
        for directory in directories:
            with contextlib.suppress(TestbedError):
                Testbed.load(directory).down(purge=True)
            shutil.rmtree(directory, ignore_errors=True)


_EVENT = re.compile(
    r"^ctrproto ingest: (\S+)Z shard \S+: (\S+) (took|lost|handed) (\S+)", re.MULTILINE
)


class Member:
    """One ``ctrproto ingest --shard-group`` process, its stderr (-v) in a file."""

    def __init__(self, name: str, args: list[str], directory: Path) -> None:
        self.name = name
        self.args = args
        self.log = directory / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ended: float | None = None

    def start(self) -> None:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)
        self.ended = time.time()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.ended = time.time()
        return code

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def events(self) -> list[tuple[float, str, str, str]]:
        """(time, member id, took|lost|handed, host), in the order logged."""
        found = []
        for stamp, member, what, host in _EVENT.findall(self.text()):
            when = _dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f")
            found.append((when.replace(tzinfo=_dt.timezone.utc).timestamp(), member, what, host))
        return found

    def holding(self) -> set[str]:
        """The hosts this process holds now, by its log."""
        held: set[str] = set()
        for _, _, what, host in self.events():
            if what == "took":
                held.add(host)
            else:
                held.discard(host)
        return held

    def intervals(self) -> list[tuple[str, str, float, float]]:
        """(host, member, from, to) for every lease it held; one held when the process ended
        ends then."""
        opened: dict[str, tuple[str, float]] = {}
        spans = []
        for when, member, what, host in self.events():
            if what == "took":
                opened[host] = (member, when)
            elif host in opened:
                who, since = opened.pop(host)
                spans.append((host, who, since, when))
        for host, (who, since) in opened.items():
            assert self.ended is not None, f"{self.name} still holds {host}"
            spans.append((host, who, since, self.ended))
        return spans


def _overlaps(spans: list[tuple[str, str, float, float]]) -> list[Any]:
    """Pairs of leases of one host held by two members at the same time."""
    found = []
    by_host: dict[str, list[tuple[float, float, str]]] = {}
    for host, member, since, until in spans:
        by_host.setdefault(host, []).append((since, until, member))
    for host, held in by_host.items():
        for n, (s1, u1, m1) in enumerate(held):
            for s2, u2, m2 in held[n + 1:]:
                if m1 != m2 and s1 < u2 and s2 < u1:
                    found.append((host, m1, (s1, u1), m2, (s2, u2)))
    return found


async def _stream_count(url: str, stream: str) -> int:
    return int((await _jetstream(url, lambda js: js.stream_info(stream))).state.messages)


async def _stream_records(url: str, stream: str, subjects: str) -> list[dict[str, Any]]:
    """Every message of the stream in stream order, through an ordered consumer."""
    import json

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        count = (await js.stream_info(stream)).state.messages
        sub = await js.subscribe(subjects, stream=stream, ordered_consumer=True)
        records = []
        while len(records) < count:
            msg = await sub.next_msg(timeout=10)
            records.append(json.loads(msg.data))
        await sub.unsubscribe()
        return records
    finally:
        await nc.close()


def _restart_nats(bed: Testbed) -> None:
    terminate_pidfile(Path(bed.env["CTRPROTO_TESTBED_NATS_PIDFILE"]), "nats-server")
    again = Testbed.up(bed.dir)
    assert again.env["CTRPROTO_TESTBED_NATS"] == bed.env["CTRPROTO_TESTBED_NATS"]


def test_three_ingesters_share_three_daemons_through_a_kill_and_a_nats_restart(
    docker_host: str, two_more_daemons: list[Testbed], test_labels: dict[str, str],
    tmp_path: Path,
) -> None:
    tag = f"shard{uuid.uuid4().hex[:8]}"
    nats_bed = two_more_daemons[0]
    url = nats_bed.env["CTRPROTO_TESTBED_NATS"]
    hosts = [docker_host] + [bed.docker_host for bed in two_more_daemons]
    apis = [APIClient(base_url=host, timeout=60) for host in hosts]
    stream, prefix, bucket = f"SHARD_{tag.upper()}", f"s{tag}", f"B{tag}"
    labels = {**test_labels, "ctrproto.ingest-test": tag}
    cids: dict[int, list[str]] = {n: [] for n in range(len(hosts))}
    args = [
        sys.executable, "-m", "ctrproto.ingest", "ingest", "-v",
        *(arg for host in hosts for arg in ("--host", host)),
        "--filter", f"label=ctrproto.ingest-test={tag}",
        "--state", f"{url}/{bucket}", "--output", f"{url}/{prefix}", "--nats-stream", stream,
        "--shard-group", "g", "--lease-ttl", str(TTL),
    ]
    members = [Member(f"m{n}", args, tmp_path) for n in range(3)]
    try:
        for n, api in enumerate(apis):
            host_config = api.create_host_config(network_mode="none")
            for k in range(2):
                cid = api.create_container(
                    IMAGE, writer(f"{tag}-{n}-{k}", 2000, pause="0.01"), labels=labels,
                    host_config=host_config,
                )["Id"]
                cids[n].append(cid)
                api.start(cid)
        for member in members:
            member.start()

        def each_holds_one() -> bool:
            return all(len(m.holding()) == 1 for m in members)

        assert wait_for(each_holds_one, timeout=60), [m.text()[-1500:] for m in members]
        victim = members[0]
        (taken,) = victim.holding()
        victim.kill()

        def taken_over() -> bool:
            return any(taken in m.holding() for m in members[1:])

        assert wait_for(taken_over, timeout=60), [m.text()[-1500:] for m in members[1:]]
        _restart_nats(nats_bed)
        again = Member("m0-again", args, tmp_path)
        members.append(again)
        again.start()
        assert wait_for(lambda: len(again.holding()) == 1, timeout=60), again.text()[-2000:]

        for n, api in enumerate(apis):
            for cid in cids[n]:
                api.wait(cid, timeout=120)
        want = sum(
            len(expected_lines(api, cid, s))
            for n, api in enumerate(apis) for cid in cids[n] for s in ("stdout", "stderr")
        )

        def count() -> int:
            with contextlib.suppress(Exception):
                return asyncio.run(_stream_count(url, stream))
            return -1

        assert wait_for(lambda: count() >= want, timeout=120, step=0.5), (
            count(), want, [m.text()[-1500:] for m in members[1:]])
        time.sleep(1.0)  # a duplicate that got through would be in by now
        for member in members[1:]:
            assert member.terminate() == 0, member.text()[-2000:]
        records = asyncio.run(_stream_records(url, stream, f"{prefix}.>"))
        for n, api in enumerate(apis):
            check_against_daemon(api, cids[n], records)
        assert {r["container_id"] for r in records} == {c for n in cids for c in cids[n]}
        assert len(records) == want

        spans = [span for member in members for span in member.intervals()]
        assert not _overlaps(spans), _overlaps(spans)
        owners = {host: {m for h, m, _, _ in spans if h == host} for host in {s[0] for s in spans}}
        assert len(owners) == 3
        assert len(owners[taken]) >= 2  # the killed member's host changed hands
        for member in members[1:]:  # a clean stop hands every lease over
            assert not member.holding()
    finally:
        for member in members:
            member.stop_quietly()
        for n, api in enumerate(apis):
            for cid in cids[n]:
                with contextlib.suppress(Exception):
                    api.remove_container(cid, force=True)
            api.close()
        with contextlib.suppress(Exception):
            asyncio.run(_drop_stream(url, stream))
        with contextlib.suppress(Exception):
            asyncio.run(_drop_bucket(url, bucket))
        with contextlib.suppress(Exception):
            asyncio.run(_drop_bucket(url, f"{bucket}-leases"))
