"""The workloads of issue 5, each run through ctrproto, docker-py and the raw baseline.

Every function here builds one or more :class:`~_harness.Case` objects; ``compare.py`` only
orchestrates.  Log-producing containers are made once and reused by every repetition, so the
daemon's log files (not container start-up) are what the repetitions read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _raw
import docker
import paramiko
from _harness import Case, Sample, run_interleaved
from _payloads import dockerpy_demux, framed_buffer, plain_copy
from docker.utils import socket as dockerpy_socket

import ctrproto
from ctrproto.protocol import demux

LABEL = "ctrproto.bench"
IMAGE = "busybox:latest"
LINE99 = ("0123456789" * 10)[:99]  # `yes` adds the newline: 100-byte log lines
MB = 2**20
CLI = "/usr/local/bin/docker"


@dataclass(frozen=True)
class Sizes:
    """Bytes per workload; ``--quick`` shrinks them all so a run takes a minute or two."""

    logs: int
    bulk: int
    tty: int
    exec_stream: int
    exec_run: int
    ssh_logs: int
    demux: int
    requests: int  # sequential requests per repetition (W4)
    runs: int  # run("true") per repetition (W5)
    execs: int  # exec_run("true") per repetition (W5)
    ssh_inspects: int

    @classmethod
    def full(cls) -> Sizes:
        # The sizes (256 MB logs, 1 GB exec, 100 MB over SSH) take ~40 min on this
        # daemon (~15 MB/s for 100 B lines); these keep the ratios and fit ~15 min.
        # --logs-mb/--exec-mb/--ssh-mb restore the sizes.
        return cls(64 * MB, 32 * MB, 8 * MB, 256 * MB, 32 * MB, 32 * MB, 64 * MB,
                   400, 3, 10, 200)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(32 * MB, 16 * MB, 4 * MB, 128 * MB, 32 * MB, 16 * MB, 16 * MB,
                   100, 1, 4, 50)


@dataclass
class Bench:
    """Everything the workloads share: the two clients, the daemon address, the containers."""

    host: str
    api_version: str
    sizes: Sizes
    reps: int
    cp: ctrproto.APIClient
    dp: docker.APIClient
    cpm: ctrproto.DockerClient
    dpm: docker.DockerClient
    containers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"/v{self.api_version}{path}"

    def container(self, key: str, cmd: str, tty: bool = False, wait: bool = True) -> str:
        """A labelled busybox container running ``cmd``, created once per key and reused."""
        if key not in self.containers:
            cid = self.cp.create_container(
                IMAGE, ["sh", "-c", cmd], tty=tty, labels={LABEL: "1"}
            )["Id"]
            self.cp.start(cid)
            if wait:
                self.cp.wait(cid, timeout=3600)
            self.containers[key] = cid
        return self.containers[key]

    def sleeper(self) -> str:
        return self.container("sleeper", "sleep 86400", wait=False)

    def remove_all(self) -> None:
        """Remove every container carrying the benchmark label, whoever made it."""
        for info in self.cp.containers(all=True, filters={"label": f"{LABEL}=1"}):
            with suppress(ctrproto.errors.NotFound):
                self.cp.remove_container(info["Id"], force=True)


def _consume(items: Iterator[Any]) -> None:
    for _ in items:
        pass


# ---------------------------------------------------------------------- D: demux in memory


def demux_in_memory(bench: Bench) -> list[Case]:
    """The in-memory demuxers next to one copy of the payload (targets of the first bullet)."""
    impls: dict[str, Callable[[Any], object]] = {
        "copy": plain_copy,
        "pure": lambda b: demux.load(True).demux_buffer(b.data),
        "docker-py": lambda b: dockerpy_demux(b.data),
    }
    if "cython" in demux.implementations():
        impls["compiled"] = lambda b: demux.load(False).demux_buffer(b.data)
    cases = []
    for kind in ("100B", "16KiB", "mix"):
        buf = framed_buffer(kind, bench.sizes.demux)
        clients = {name: (lambda f=fn, b=buf: f(b)) for name, fn in impls.items()}
        case = Case("D", f"demux_buffer {kind}", "MB")
        cases.append(run_interleaved(case, clients, max(1, bench.reps - 2), len(buf.data)))
    return cases


# ---------------------------------------------------------------------- W1 / W2: logs


def _logs_clients(bench: Bench, cid: str, stream: bool) -> dict[str, Callable[[], object]]:
    target = bench.url(f"/containers/{cid}/logs?stdout=1&stderr=1")

    def cp() -> None:
        if stream:
            _consume(bench.cp.logs(cid, stream=True, follow=False))
        else:
            bench.cp.logs(cid)

    def dp() -> None:
        if stream:
            _consume(bench.dp.logs(cid, stream=True, follow=False))
        else:
            bench.dp.logs(cid)

    def bulk() -> None:
        _consume(bench.cp.logs(cid, stream=True, follow=False, chunks=True))

    clients = {"raw": lambda: _raw.read_to_close(bench.host, "GET", target), "ctrproto": cp}
    if stream:
        # ctrproto's default stream is docker-py's items (one per frame, one byte per item on
        # a TTY); chunks=True is its bulk shape (what each read completed).
        clients["ctrproto-bulk"] = bulk
    clients["docker-py"] = dp
    return clients


def logs_lines(bench: Bench) -> list[Case]:
    """W1: a finished container's 256 MB of 100-byte lines, non-TTY, as bytes and streamed."""
    size = bench.sizes.logs
    cid = bench.container("logs-lines", f"yes {LINE99} | head -c {size}")
    return [
        run_interleaved(Case("W1", f"logs() {size // MB} MB 100 B lines", "MB"),
                        _logs_clients(bench, cid, False), bench.reps, size),
        run_interleaved(Case("W1", f"logs(stream=True) {size // MB} MB", "MB"),
                        _logs_clients(bench, cid, True), bench.reps, size),
    ]


def logs_bulk_tty(bench: Bench) -> list[Case]:
    """W2: bulk 16 KiB writes (non-TTY) and a TTY container, both ``stream=True``."""
    bulk, tty = bench.sizes.bulk, bench.sizes.tty
    bulk_id = bench.container(
        "logs-bulk", f"dd if=/dev/zero bs=16384 count={bulk // 16384} 2>/dev/null"
    )
    tty_id = bench.container("logs-tty", f"yes {LINE99} | head -c {tty}", tty=True)
    return [
        run_interleaved(Case("W2", f"bulk 16 KiB writes {bulk // MB} MB stream", "MB"),
                        _logs_clients(bench, bulk_id, True), bench.reps, bulk),
        run_interleaved(Case("W2", f"TTY {tty // MB} MB stream", "MB"),
                        _logs_clients(bench, tty_id, True), bench.reps, tty),
    ]


# ---------------------------------------------------------------------- W3: exec and attach


def _raw_exec(bench: Bench, cid: str, cmd: list[str]) -> int:
    """exec create on a keep-alive raw connection, then the hijacked start read to EOF."""
    sock, conn = _raw.socket_connection(bench.host)
    with sock:
        eid = conn.json("POST", bench.url(f"/containers/{cid}/exec"),
                        {"Cmd": cmd, "AttachStdout": True, "AttachStderr": True})["Id"]
    return _raw.read_upgraded(bench.host, bench.url(f"/exec/{eid}/start"),
                              {"Detach": False, "Tty": False})


def _exec_stream_clients(bench: Bench, cid: str, size: int) -> dict[str, Callable[[], object]]:
    cmd = ["head", "-c", str(size), "/dev/zero"]

    def cp() -> None:
        eid = bench.cp.exec_create(cid, cmd)["Id"]
        _consume(bench.cp.exec_start(eid, stream=True, demux=True))

    def dp() -> None:
        eid = bench.dp.exec_create(cid, cmd)["Id"]
        _consume(bench.dp.exec_start(eid, stream=True, demux=True))

    return {"raw": lambda: _raw_exec(bench, cid, cmd), "ctrproto": cp, "docker-py": dp}


def _attach_prepare(bench: Bench, size: int) -> Callable[[str], Callable[[], object]]:
    """A fresh, not yet started container per repetition; attach, start, read to EOF.

    Its log driver is "none": otherwise dockerd also writes every byte to the json-file log
    while it copies the pipe, and that disk write (bimodal here: 4 s or 8 s for 256 MB, for
    every client alike) decides the time, where the issue asks for the client's cost.
    """
    params = {"stdout": 1, "stderr": 1, "stream": 1}
    no_log = bench.cp.create_host_config(log_config={"Type": "none", "Config": {}})

    def prepare(client: str) -> Callable[[], object]:
        cid = bench.cp.create_container(IMAGE, ["head", "-c", str(size), "/dev/zero"],
                                        labels={LABEL: "1"}, host_config=no_log)["Id"]

        def cp() -> None:
            with bench.cp.attach_socket(cid, params=params) as sock:
                bench.cp.start(cid)
                _consume(sock.iter_frames())

        def dp() -> None:
            sock = bench.dp.attach_socket(cid, params=params)
            bench.dp.start(cid)
            frames = dockerpy_socket.frames_iter(sock, False)
            _consume(dockerpy_socket.demux_adaptor(*f) for f in frames)
            sock.close()

        def raw() -> None:
            buffer = bytearray(_raw.READ_SIZE)
            with _raw.connect(bench.host) as sock:
                sock.sendall(_raw.request_bytes(
                    "POST", bench.url(f"/containers/{cid}/attach?stdout=1&stderr=1&stream=1"),
                    upgrade=True))
                sock.recv_into(buffer)  # the 101 head: the daemon is attached
                _raw.read_to_close(bench.host, "POST", bench.url(f"/containers/{cid}/start"))
                _raw.drain(sock.recv_into, buffer)

        return {"raw": raw, "ctrproto": cp, "docker-py": dp}[client]

    return prepare


def exec_streams(bench: Bench) -> list[Case]:
    """W3: a 1 GB exec stream (demuxed), the same through attach_socket, exec_run on 32 MB."""
    size = bench.sizes.exec_stream
    cid = bench.sleeper()
    cases = [run_interleaved(Case("W3", f"exec stream demux {size // MB} MB", "MB"),
                             _exec_stream_clients(bench, cid, size), bench.reps, size)]
    names = ("raw", "ctrproto", "docker-py")
    cases.append(run_interleaved(
        Case("W3", f"attach_socket {size // MB} MB", "MB"), dict.fromkeys(names, lambda: None),
        bench.reps, size, before=_attach_prepare(bench, size)))
    for run_size in (bench.sizes.exec_run // 4, bench.sizes.exec_run):
        cases.append(_exec_run_case(bench, cid, run_size))
    return cases


def _exec_run_case(bench: Bench, cid: str, size: int) -> Case:
    """Non-stream ``exec_run(demux=True)``: whole output accumulated; "copy" is one copy of it."""
    cmd = ["head", "-c", str(size), "/dev/zero"]
    payload = bytes(size)
    cp_container = bench.cpm.containers.get(cid)
    dp_container = bench.dpm.containers.get(cid)
    clients = {
        "copy": lambda: bytearray(payload),
        "raw": lambda: _raw_exec(bench, cid, cmd),
        "ctrproto": lambda: cp_container.exec_run(cmd, demux=True),
        "docker-py": lambda: dp_container.exec_run(cmd, demux=True),
    }
    return run_interleaved(Case("W3", f"exec_run(demux=True) {size // MB} MB", "MB"),
                           clients, bench.reps, size)


# ---------------------------------------------------------------------- W4: request rate


def _threaded(call: Callable[[int], object], total: int, threads: int) -> None:
    """``total`` calls split over ``threads`` threads; ``call(thread_index)`` does one."""
    def work(index: int) -> None:
        for _ in range(total // threads):
            call(index)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def request_rate(bench: Bench) -> list[Case]:
    """W4: ping, inspect, list(all=True) with 20 containers; sequential and 8 threads.

    The daemon's time to answer a list grows with the containers it holds, so the earlier
    workloads' containers are removed first: exactly 20 exist (the inspected sleeper + 19),
    as the issue specifies, whichever workloads ran before.
    """
    bench.remove_all()
    bench.containers.clear()
    cid = bench.sleeper()
    for i in range(19):
        bench.container(f"listed-{i}", "true", wait=False)
    listed = len(bench.cp.containers(all=True))
    if listed != 20:  # a shared daemon (--docker-host) may hold containers of its own
        print(f"  W4: the daemon holds {listed} containers, not 20", flush=True)
    n = bench.sizes.requests
    endpoints: dict[str, tuple[str, Callable[[Any], object]]] = {
        "ping": ("/_ping", lambda c: c.ping()),
        "inspect": (bench.url(f"/containers/{cid}/json"), lambda c: c.inspect_container(cid)),
        "list(all=True)": (bench.url("/containers/json?all=1"),
                           lambda c: c.containers(all=True)),
    }
    cases = []
    for name, (target, op) in endpoints.items():
        for threads in (1, 8):
            conns = [_raw.socket_connection(bench.host) for _ in range(threads)]
            clients: dict[str, Callable[[], object]] = {
                "raw": lambda t=target, cs=conns, k=threads: _threaded(
                    lambda i: cs[i][1].call("GET", t), n, k),
                "ctrproto": lambda o=op, k=threads: _threaded(lambda i: o(bench.cp), n, k),
                "docker-py": lambda o=op, k=threads: _threaded(lambda i: o(bench.dp), n, k),
            }
            label = f"{name} x{n}" + (" 8 threads" if threads > 1 else "")
            cases.append(run_interleaved(Case("W4", label, "op"), clients, bench.reps, n))
            for sock, _ in conns:
                sock.close()
    return cases


# ---------------------------------------------------------------------- W5: latency


def _raw_run(bench: Bench) -> None:
    """What ``run("true", remove=True)`` sends: create, start, wait, logs, delete."""
    sock, conn = _raw.socket_connection(bench.host)
    with sock:
        cid = conn.json("POST", bench.url("/containers/create"),
                        {"Image": IMAGE, "Cmd": ["true"], "Labels": {LABEL: "1"}})["Id"]
        conn.call("POST", bench.url(f"/containers/{cid}/start"))
        conn.call("POST", bench.url(f"/containers/{cid}/wait"))
        conn.call("GET", bench.url(f"/containers/{cid}/logs?stdout=1"))
        conn.call("DELETE", bench.url(f"/containers/{cid}"))


def _raw_exec_true(bench: Bench, cid: str) -> None:
    sock, conn = _raw.socket_connection(bench.host)
    with sock:
        eid = conn.json("POST", bench.url(f"/containers/{cid}/exec"),
                        {"Cmd": ["true"], "AttachStdout": True, "AttachStderr": True})["Id"]
        _raw.read_upgraded(bench.host, bench.url(f"/exec/{eid}/start"), {"Detach": False})
        conn.call("GET", bench.url(f"/exec/{eid}/json"))


def latency(bench: Bench) -> list[Case]:
    """W5: ``run("true", remove=True)`` and ``exec_run("true")``, per operation."""
    runs, execs = bench.sizes.runs, bench.sizes.execs
    labels = {LABEL: "1"}

    def repeat(k: int, fn: Callable[[], object]) -> Callable[[], None]:
        return lambda: [fn() for _ in range(k)] and None

    run_clients = {
        "raw": repeat(runs, lambda: _raw_run(bench)),
        "ctrproto": repeat(runs, lambda: bench.cpm.containers.run(
            IMAGE, "true", remove=True, labels=labels)),
        "docker-py": repeat(runs, lambda: bench.dpm.containers.run(
            IMAGE, "true", remove=True, labels=labels)),
    }
    cid = bench.sleeper()
    cpc, dpc = bench.cpm.containers.get(cid), bench.dpm.containers.get(cid)
    exec_clients = {
        "raw": repeat(execs, lambda: _raw_exec_true(bench, cid)),
        "ctrproto": repeat(execs, lambda: cpc.exec_run("true")),
        "docker-py": repeat(execs, lambda: dpc.exec_run("true")),
    }
    return [
        run_interleaved(Case("W5", 'run("true", remove=True)', "op"), run_clients,
                        bench.reps, runs),
        run_interleaved(Case("W5", 'exec_run("true")', "op"), exec_clients, bench.reps, execs),
    ]


# ---------------------------------------------------------------------- W6: SSH


@dataclass(frozen=True)
class SSHTarget:
    user: str
    port: int
    key: Path
    known_hosts: Path
    socket_path: Path

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"


def ssh_home(target: SSHTarget, home: Path) -> dict[str, str]:
    """A HOME whose ``.ssh`` lets docker-py (paramiko) and the Go CLI (ssh binary) reach the
    testbed's sshd with its key, checking its host key; returns the environment to use."""
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    (ssh / "known_hosts").write_bytes(target.known_hosts.read_bytes())
    (ssh / "config").write_text(
        "Host 127.0.0.1\n"
        f"  User {target.user}\n  Port {target.port}\n  IdentityFile {target.key}\n"
        f"  IdentitiesOnly yes\n  BatchMode yes\n  UserKnownHostsFile {ssh / 'known_hosts'}\n"
    )
    os.chmod(ssh / "config", 0o600)
    # OpenSSH finds ~/.ssh through the passwd entry, not $HOME: the CLI's `ssh` gets -F instead.
    wrapper = home / "bin" / "ssh"
    wrapper.parent.mkdir(exist_ok=True)
    real = shutil.which("ssh") or "/usr/bin/ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {real} -F {ssh / "config"} "$@"\n')
    wrapper.chmod(0o755)
    path = f"{wrapper.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {"HOME": str(home), "PATH": path, "DOCKER_CONFIG": str(home / ".docker")}


@contextmanager
def _home(path: str) -> Iterator[None]:
    """docker-py reads ``~/.ssh`` when it connects, so HOME must point there meanwhile."""
    old = os.environ.get("HOME")
    os.environ["HOME"] = path
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old


class RawSSH:
    """The SSH baseline: paramiko channels running ``docker system dial-stdio``, unparsed reads
    (paramiko channels have no ``recv_into``, so one ``bytes`` per read is the floor)."""

    def __init__(self, target: SSHTarget) -> None:
        self.client = paramiko.SSHClient()
        self.client.load_host_keys(str(target.known_hosts))
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.client.connect("127.0.0.1", port=target.port, username=target.user,
                            key_filename=str(target.key), allow_agent=False,
                            look_for_keys=False)

    def channel(self) -> paramiko.Channel:
        transport = self.client.get_transport()
        assert transport is not None
        chan = transport.open_session()
        chan.exec_command("docker system dial-stdio")
        return chan

    def read_to_close(self, target: str) -> int:
        chan = self.channel()
        chan.sendall(_raw.request_bytes("GET", target, close=True))
        try:
            return _raw.drain_recv(chan.recv)
        finally:
            chan.close()


def over_ssh(bench: Bench, target: SSHTarget, home: Path) -> list[Case]:
    """W6: 200 sequential inspects and a 100 MB log read over the testbed's sshd."""
    env = ssh_home(target, home)
    size, n = bench.sizes.ssh_logs, bench.sizes.ssh_inspects
    log_id = bench.container("ssh-logs", f"yes {LINE99} | head -c {size}")
    cid = bench.sleeper()
    cp = ctrproto.APIClient(base_url=f"{target.url}{target.socket_path}",
                            version=bench.api_version, identity_file=str(target.key),
                            known_hosts=str(target.known_hosts), allow_agent=False,
                            ssh_config_path="")
    with _home(str(home)):
        dp = docker.APIClient(base_url=target.url, version=bench.api_version)
        dp.ping()
    cp.ping()
    raw = RawSSH(target)
    chan = raw.channel()
    conn = _raw.RawConnection(chan.sendall, chan.recv)
    inspect = bench.url(f"/containers/{cid}/json")
    logs = bench.url(f"/containers/{log_id}/logs?stdout=1&stderr=1")
    try:
        inspects = {
            "raw": lambda: [conn.call("GET", inspect) for _ in range(n)],
            "ctrproto": lambda: [cp.inspect_container(cid) for _ in range(n)],
            "docker-py": lambda: [dp.inspect_container(cid) for _ in range(n)],
        }
        reads = {
            "raw": lambda: raw.read_to_close(logs),
            "ctrproto": lambda: _consume(cp.logs(log_id, stream=True, follow=False)),
            "docker-py": lambda: _consume(dp.logs(log_id, stream=True, follow=False)),
            "Go CLI": lambda: subprocess.run(
                [CLI, "-H", target.url, "logs", log_id], env=env, check=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        }
        return [
            run_interleaved(Case("W6", f"ssh inspect x{n}", "op"), inspects, bench.reps, n),
            run_interleaved(Case("W6", f"ssh logs stream {size // MB} MB", "MB"), reads,
                            bench.reps, size, children=frozenset({"Go CLI"})),
        ]
    finally:
        chan.close()
        raw.client.close()
        cp.close()
        dp.close()


# ---------------------------------------------------------------------- W7: import and RSS


def import_time(bench: Bench, tries: int) -> Case:
    """W7: ``python -c "import X"`` wall time, best of ``tries``, in fresh interpreters."""
    case = Case("W7", "import", "op")
    for _ in range(tries):
        for client, module in (("ctrproto", "ctrproto"), ("docker-py", "docker")):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
            wall = time.perf_counter() - start
            case.add(client, Sample(wall, 0.0), 1)
    return case


def peak_rss(bench: Bench, script: Path) -> dict[str, dict[str, float]]:
    """W7: peak RSS (MB) of a fresh process per client reading W1's logs streamed, then whole."""
    cid = bench.containers.get("logs-lines") or bench.container(
        "logs-lines", f"yes {LINE99} | head -c {bench.sizes.logs}")
    out: dict[str, dict[str, float]] = {}
    for client in ("raw", "ctrproto", "docker-py"):
        done = subprocess.run(
            [sys.executable, str(script), "--rss-child", client, bench.host, bench.api_version,
             cid], check=True, capture_output=True, text=True)
        stream_kb, whole_kb = (float(x) for x in done.stdout.split())
        out[client] = {"stream": stream_kb / 1024, "whole": whole_kb / 1024}
        print(f"  W7 peak RSS {client}: {out[client]}", flush=True)
    return out


def rss_child(client: str, host: str, version: str, cid: str) -> None:
    """Runs in the child process of :func:`peak_rss`: prints the peak RSS (KiB) after each read.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec, so
    the child would report the (much larger) benchmark process's peak."""

    def maxrss() -> int:
        with open("/proc/self/status", encoding="ascii") as f:
            line = next(x for x in f if x.startswith("VmHWM:"))
        return int(line.split()[1])

    if client == "raw":
        target = f"/v{version}/containers/{cid}/logs?stdout=1&stderr=1"
        _raw.read_to_close(host, "GET", target)
        first = maxrss()
        sock = _raw.connect(host)
        sock.sendall(_raw.request_bytes("GET", target, close=True))
        chunks = []
        while data := sock.recv(_raw.READ_SIZE):
            chunks.append(data)
        b"".join(chunks)
        print(first, maxrss())
        return
    api: Any = (ctrproto.APIClient if client == "ctrproto" else docker.APIClient)(
        base_url=host, version=version)
    _consume(api.logs(cid, stream=True, follow=False))
    first = maxrss()
    api.logs(cid)
    print(first, maxrss())
