"""The two faults of issue 12's chaos test that ``test_ingest_run.py`` leaves out: the SSH
connection to one host killed (more than once) while another host keeps flowing, and the daemon
restarted under the ingester.  Oracle as there: the daemon's own logs, read afterwards.

Both tests put a small proxy of their own between the ingester and the daemon:
- SSH: a TCP proxy in front of the testbed's sshd, so that the sshd process serving the
  ingester is found exactly (by the proxy's upstream port; other sessions' sshd children are
  never touched) and new SSH sessions can be held back for a while, without pausing the shared
  sshd;
- daemon restart: a unix-socket proxy in front of a PRIVATE testbed instance (the suite's daemon
  is never restarted) that records every ``/logs`` request line, to show that every reconnect
  resumed with ``since`` (the stats expose no count of lines read and dropped, so "never re-read
  from the beginning" is asserted on the requests and on the output).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import IMAGE, REPO, terminate_pidfile, wait_for
from test_ingest_run import (
    Ingester,
    by_stream,
    check_against_daemon,
    expected_lines,
    read_output,
    writer,
)
from testbed import Testbed, TestbedError

from ctrproto import APIClient

pytestmark = pytest.mark.daemon


# ------------------------------------------------------------------------------ the proxy


class Proxy:
    """Accepts on ``listener``, pumps each connection to a fresh ``connect()``; ``hold()`` keeps
    new connections waiting (accepted, not forwarded) until ``release()``; ``seen`` collects
    the client-to-daemon bytes' request lines when ``sniff`` is set."""

    def __init__(
        self, listener: socket.socket, connect: Callable[[], socket.socket], sniff: bool = False
    ) -> None:
        self.listener = listener
        self.connect = connect
        self.sniff = sniff
        self.seen: list[str] = []
        self.upstream_ports: set[int] = set()
        self._held: list[socket.socket] = []
        self._holding = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        with self._lock:
            self._holding = True

    def release(self) -> None:
        with self._lock:
            self._holding = False
            held, self._held = self._held, []
        for conn in held:
            self._forward(conn)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            socks = self._socks + self._held
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._socks.append(conn)
                if self._holding:
                    self._held.append(conn)
                    continue
            self._forward(conn)

    def _forward(self, conn: socket.socket) -> None:
        try:
            up = self.connect()
        except OSError:
            conn.close()
            return
        with self._lock:
            self._socks.append(up)
            if up.family == socket.AF_INET:
                self.upstream_ports.add(up.getsockname()[1])
        threading.Thread(target=self._pump, args=(conn, up, self.sniff), daemon=True).start()
        threading.Thread(target=self._pump, args=(up, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, sniff: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if sniff:
                    self.seen.extend(
                        m.decode() for m in re.findall(rb"(?:GET|POST) /\S+", data)
                    )
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()


# ------------------------------------------------------------------------------ sshd processes


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    children = {int(p) for p in out.stdout.split()}
    found = set(children)
    for child in children:
        found |= _descendants(child)
    return found


def _tcp_inodes(local_port: int, remote_ports: set[int]) -> set[str]:
    """Inodes of the TCP sockets from ``local_port`` to one of ``remote_ports`` (IPv4, or
    IPv4-mapped on a dual-stack listener)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == local_port and (
                    int(remote.rsplit(":", 1)[1], 16) in remote_ports
                ):
                    inodes.add(inode)
    return inodes


def sshd_serving(pidfile: str, sshd_port: int, client_ports: set[int]) -> set[int]:
    """The sshd processes holding a connection from one of ``client_ports`` (our proxy's)."""
    inodes = {f"socket:[{i}]" for i in _tcp_inodes(sshd_port, client_ports)}
    found = set()
    for pid in _descendants(int(Path(pidfile).read_text().strip())):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        found.add(pid)
    return found


# ------------------------------------------------------------------------------ helpers


class EnvIngester(Ingester):
    """The ingester subprocess with an environment of its own (a private HOME for SSH)."""

    def __init__(self, env: dict[str, str], *args: Any) -> None:
        super().__init__(*args)
        self.env = env

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, stderr=log, env=self.env)


def per_host(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    hosts: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        hosts.setdefault(record["host"], []).append(record)
    return hosts


def count_for(output: Path, prefix: str) -> int:
    return sum(len(v) for h, v in per_host(read_output(output)).items() if h.startswith(prefix))


def delivered_all(api: APIClient, cids: list[str], records: list[dict[str, Any]]) -> bool:
    got = by_stream(records)
    return all(
        len(got.get((cid, s), [])) >= len(expected_lines(api, cid, s))
        for cid in cids
        for s in ("stdout", "stderr")
    )


# ------------------------------------------------------------------------------ SSH killed


def test_ssh_connection_killed_other_host_keeps_flowing(
    api: APIClient, tb: dict[str, str], make_container: Callable[..., str],
    test_labels: dict[str, str], tmp_path: Path,
) -> None:
    """One ingester, two hosts: the testbed daemon over ``ssh://`` (through our proxy) and over
    its unix socket.  The sshd process serving the ingester is SIGKILLed three times while
    containers write; once, new SSH sessions are held back while the unix host's records are
    seen to keep arriving and the SSH host's to stand still.  At the end each host delivered
    every line of every container exactly once, in order per stream."""
    tag = f"ingch{os.getpid()}{int(time.time() * 1000) % 100000}"
    sshd_port = int(tb["CTRPROTO_TESTBED_SSH_PORT"])
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    proxy = Proxy(listener, lambda: socket.create_connection(("127.0.0.1", sshd_port), 10))
    # The sshd's host key under the proxy's address; the key and user from an ssh config.
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    keys = [
        line.split(None, 1)[1]
        for line in Path(tb["CTRPROTO_TESTBED_SSH_KNOWN_HOSTS"]).read_text().splitlines()
        if line.startswith(f"[127.0.0.1]:{sshd_port} ")
    ]
    assert keys, "the testbed's known_hosts has no key for its sshd"
    known = home / ".ssh" / "known_hosts"
    known.write_text("".join(f"[127.0.0.1]:{port} {key}\n" for key in keys))
    (home / ".ssh" / "config").write_text(
        "Host tb-chaos\n  HostName 127.0.0.1\n"
        f"  Port {port}\n  User {tb['CTRPROTO_TESTBED_SSH_USER']}\n"
        f"  IdentityFile {tb['CTRPROTO_TESTBED_SSH_KEY']}\n  UserKnownHostsFile {known}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "DOCKER_HOST")}
    env["HOME"] = str(home)
    ssh_host = "ssh://tb-chaos" + tb["CTRPROTO_TESTBED_DOCKER_SOCK"]
    labels = {**test_labels, "ctrproto.ingest-test": tag}
    host_config = api.create_host_config(network_mode="none")
    cids = []
    for n in range(3):
        cid = make_container(writer(f"{tag}-{n}", 500, pause="0.02"), labels=labels,
                             host_config=host_config)
        api.start(cid)
        cids.append(cid)
    ing = EnvIngester(env, ssh_host, tag, tmp_path, "--host", tb["DOCKER_HOST"], "-v")
    try:
        ing.start()
        for round_ in range(3):
            # The SSH host delivers (again) before each kill: it reconnected.
            seen = count_for(ing.output, "ssh")
            assert wait_for(lambda s=seen: count_for(ing.output, "ssh") > s + 50, timeout=30), (
                round_, ing.log.read_text()[-2000:])
            ours: set[int] = set()

            def found(ours: set[int] = ours) -> bool:
                ours.update(sshd_serving(
                    tb["CTRPROTO_TESTBED_SSHD_PIDFILE"], sshd_port, proxy.upstream_ports))
                return bool(ours)

            assert wait_for(found, timeout=10), (
                "no sshd process serves the ingester's connection", proxy.upstream_ports,
                _tcp_inodes(sshd_port, proxy.upstream_ports),
                _descendants(int(Path(tb["CTRPROTO_TESTBED_SSHD_PIDFILE"]).read_text())))
            if round_ == 1:
                proxy.hold()
            for pid in ours:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if round_ == 1:
                try:
                    # The unix host keeps flowing while no SSH session can be made; once what
                    # the dead connection had read is written, the SSH host stands still.
                    unix0 = count_for(ing.output, "unix")
                    assert wait_for(lambda u=unix0: count_for(ing.output, "unix") > u + 150)
                    ssh1, unix1 = count_for(ing.output, "ssh"), count_for(ing.output, "unix")
                    assert wait_for(lambda u=unix1: count_for(ing.output, "unix") > u + 150)
                    assert count_for(ing.output, "ssh") == ssh1
                finally:
                    proxy.release()
        for cid in cids:
            api.wait(cid, timeout=120)

        def done() -> bool:
            hosts = per_host(read_output(ing.output))
            return len(hosts) == 2 and all(delivered_all(api, cids, r) for r in hosts.values())

        assert wait_for(done, timeout=60), ing.log.read_text()[-3000:]
        assert ing.terminate() == 0, ing.log.read_text()[-2000:]
        hosts = per_host(read_output(ing.output))
        assert sorted(h.split(":")[0] for h in hosts) == ["ssh", "unix"]
        for records in hosts.values():
            check_against_daemon(api, cids, records)
        assert "retrying" in ing.log.read_text()  # -v: the SSH host's followers reconnected
    finally:
        ing.stop_quietly()
        proxy.close()


# ------------------------------------------------------------------------------ daemon restart


@pytest.fixture
def private_bed() -> Iterator[Testbed]:
    """A testbed instance of this test's own: its dockerd is the one restarted."""
    directory = tempfile.mkdtemp(prefix="ctrproto-chaos-")
    try:
        bed = Testbed.up(directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        yield bed
    finally:
        with contextlib.suppress(TestbedError):
            bed.down(purge=True)
        shutil.rmtree(directory, ignore_errors=True)


def _restart_dockerd(bed: Testbed) -> None:
    pidfile = Path(bed.env["CTRPROTO_TESTBED_DOCKERD_PIDFILE"])
    terminate_pidfile(pidfile, "dockerd")
    for attempt in (1, 2, 3):  # `up` self-checks every endpoint; give it another chance
        try:
            Testbed.up(bed.dir)
            return
        except TestbedError:
            if attempt == 3:
                raise
            time.sleep(1)


def test_daemon_restart_resumes_from_cursors(
    private_bed: Testbed, test_labels: dict[str, str], tmp_path: Path,
) -> None:
    """Containers with ``restart_policy=always`` write numbered lines; the daemon is stopped
    (SIGTERM: the containers are stopped with it) and started again (they start again: a second
    run in the same log).  The ingester retries, keeps its cursors, and ends with every line of
    both runs exactly once; every logs request after a container's first resumed with
    ``since`` (none read from the beginning)."""
    tag = f"ingrs{os.getpid()}{int(time.time() * 1000) % 100000}"
    sock = private_bed.docker_sock
    sock_path = tmp_path / "p.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(64)

    def connect() -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(sock))
        except OSError:
            s.close()
            raise
        return s

    proxy = Proxy(listener, connect, sniff=True)
    api = APIClient(base_url=private_bed.docker_host, timeout=60)
    labels = {**test_labels, "ctrproto.ingest-test": tag}
    cids: list[str] = []
    ing = Ingester(f"unix://{sock_path}", tag, tmp_path, "-v")
    try:
        host_config = api.create_host_config(
            network_mode="none", restart_policy={"Name": "always"}
        )
        for n in range(2):
            cid = api.create_container(
                IMAGE, writer(f"{tag}-{n}", 100_000, pause="0.02"), labels=labels,
                host_config=host_config, stop_timeout=1,
            )["Id"]
            cids.append(cid)
            api.start(cid)
        ing.start()
        assert wait_for(lambda: len(read_output(ing.output)) > 200, timeout=30), (
            ing.log.read_text()[-2000:])
        _restart_dockerd(private_bed)
        api.close()
        api = APIClient(base_url=private_bed.docker_host, timeout=60)

        def second_run(cid: str) -> bool:
            lines = expected_lines(api, cid, "stdout")
            first = f"{tag}-{cids.index(cid)} out 1".encode()
            if lines.count(first) != 2:
                return False
            run = lines[len(lines) - 1 - lines[::-1].index(first):]
            return len(run) > 100

        # Both containers started again by the daemon and wrote a while in their second run.
        assert wait_for(lambda: all(second_run(c) for c in cids), timeout=60)
        for cid in cids:
            api.stop(cid, timeout=1)  # a stop by hand: "always" does not start it again

        assert wait_for(lambda: delivered_all(api, cids, read_output(ing.output)), timeout=60), (
            ing.log.read_text()[-3000:])
        assert ing.terminate() == 0, ing.log.read_text()[-2000:]
        records = read_output(ing.output)
        check_against_daemon(api, cids, records)
        for n, cid in enumerate(cids):
            out = by_stream(records)[(cid, "stdout")]
            assert out.count(f"{tag}-{n} out 1".encode()) == 2  # both runs, each once
        assert "retrying" in ing.log.read_text()
        # Every logs request of a container after its first carried a cursor.
        logs: dict[str, list[str]] = {}
        for line in proxy.seen:
            m = re.match(r"GET /v[\d.]+/containers/([0-9a-f]+)/logs\?(\S*)", line)
            if m:
                logs.setdefault(m.group(1), []).append(m.group(2))
        for cid in cids:
            requests = logs.get(cid) or logs.get(cid[:12]) or []
            assert len(requests) >= 2, (cid[:12], requests)
            assert all("since=" in q for q in requests[1:]), (cid[:12], requests)
    finally:
        ing.stop_quietly()
        proxy.close()
        for cid in cids:
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True, v=True)
        api.close()
