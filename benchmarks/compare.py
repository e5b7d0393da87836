#!/usr/bin/env python3
"""ctrproto vs docker-py vs the raw socket, side by side, on the workloads of issue 5.

    .venv/bin/python benchmarks/compare.py [--quick] [--only D,W1,W4 ...] [--docker-host URL]
                                           [--testbed-dir DIR] [--reps N]

Without ``--docker-host`` a private testbed instance is started in a temporary directory (or the
one already up in ``--testbed-dir`` is used) and stopped at the end.  Workloads: D (demux in
memory), W1-W7 as in the issue, A (the asyncio client next to aiodocker, issue 7); W6 (SSH)
needs a testbed for its sshd.  Writes
``benchmarks/RESULTS.md`` and ``benchmarks/ratios.png``.  Every container made here carries the
label ``ctrproto.bench=1`` and is removed at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import _workloads as wl  # noqa: E402
import docker  # noqa: E402
from _aio_workloads import asyncio_workloads  # noqa: E402
from _harness import Case  # noqa: E402
from _report import write_chart, write_markdown  # noqa: E402
from testbed import Testbed  # noqa: E402

import ctrproto  # noqa: E402

ALL = ("D", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "A")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repetitions")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated workloads")
    parser.add_argument("--docker-host", help="use this daemon instead of a private testbed")
    parser.add_argument("--testbed-dir", help="use (or start) the testbed in this directory")
    parser.add_argument("--reps", type=int, help="repetitions (default 5, 2 with --quick)")
    parser.add_argument("--logs-mb", type=int, help="W1 log size (issue: 256)")
    parser.add_argument("--exec-mb", type=int, help="W3 exec/attach stream size (issue: 1024)")
    parser.add_argument("--ssh-mb", type=int, help="W6 log size (issue: 100)")
    parser.add_argument("--out", default=str(HERE), help="where RESULTS.md and ratios.png go")
    return parser.parse_args(argv)


def open_bench(host: str, args: argparse.Namespace) -> wl.Bench:
    cp = ctrproto.APIClient(base_url=host, version="auto", timeout=600)
    version = cp.api_version
    sizes = wl.Sizes.quick() if args.quick else wl.Sizes.full()
    overrides = {"logs": args.logs_mb, "exec_stream": args.exec_mb, "ssh_logs": args.ssh_mb}
    sizes = dataclasses.replace(
        sizes, **{k: v * wl.MB for k, v in overrides.items() if v is not None})
    return wl.Bench(
        host=host, api_version=version, sizes=sizes,
        reps=args.reps or (2 if args.quick else 5), cp=cp,
        dp=docker.APIClient(base_url=host, version=version, timeout=600),
        cpm=ctrproto.DockerClient(base_url=host, version=version, timeout=600),
        dpm=docker.DockerClient(base_url=host, version=version, timeout=600),
    )


def versions(bench: wl.Bench) -> dict[str, str]:
    daemon = bench.cp.version()
    cli = subprocess.run([wl.CLI, "--version"], capture_output=True, text=True, check=False)
    return {
        "ctrproto": f"{ctrproto.__version__} (demuxer: {ctrproto.DEMUX_IMPLEMENTATION})",
        "docker-py": docker.__version__,
        "daemon": f"{daemon.get('Version')} (API {bench.api_version})",
        "Go CLI": cli.stdout.strip(),
        "daemon address": bench.host,
    }


def run_workloads(
    bench: wl.Bench, only: list[str], testbed: Testbed | None, scratch: Path
) -> list[Case]:
    cases: list[Case] = []
    steps: dict[str, Callable[[], list[Case]]] = {
        "D": lambda: wl.demux_in_memory(bench),
        "W1": lambda: wl.logs_lines(bench),
        "W2": lambda: wl.logs_bulk_tty(bench),
        "W3": lambda: wl.exec_streams(bench),
        "W4": lambda: wl.request_rate(bench),
        "W5": lambda: wl.latency(bench),
        "W6": lambda: ssh_cases(bench, testbed, scratch),
        "W7": lambda: [wl.import_time(bench, 3 if bench.reps < 5 else 10)],
        "A": lambda: asyncio_workloads(bench),
    }
    for name in only:
        print(f"== {name}", flush=True)
        cases += steps[name]()
        if name == "W7":
            bench.extra["rss"] = wl.peak_rss(bench, Path(__file__).resolve())
    return cases


def ssh_cases(bench: wl.Bench, testbed: Testbed | None, scratch: Path) -> list[Case]:
    if testbed is None:
        print("  W6 skipped: --docker-host given without --testbed-dir (no sshd)")
        return []
    target = wl.SSHTarget(testbed.ssh_user, testbed.ssh_port, testbed.ssh_key,
                          testbed.known_hosts, testbed.docker_sock)
    return wl.over_ssh(bench, target, scratch / "home")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--rss-child"]:
        wl.rss_child(*argv[1:5])
        return 0
    args = parse_args(argv)
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="ctrproto-bench-") as tmp:
        scratch = Path(tmp)
        testbed: Testbed | None = None
        own_testbed = False
        if args.docker_host:
            host = args.docker_host
            if args.testbed_dir:
                testbed = Testbed.load(args.testbed_dir)
        else:
            directory = args.testbed_dir or str(scratch / "testbed")
            own_testbed = args.testbed_dir is None
            print(f"starting the testbed in {directory} ...", flush=True)
            testbed = Testbed.up(directory)
            host = testbed.docker_host
        bench = None
        try:
            bench = open_bench(host, args)
            cases = run_workloads(bench, only, testbed, scratch)
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            command = "benchmarks/compare.py " + shlex.join(argv)
            found = write_markdown(out / "RESULTS.md", cases, bench.extra, versions(bench),
                                   command.strip())
            write_chart(out / "ratios.png", cases)
            for t in found:
                print(f"{'met   ' if t.met else 'MISSED' if t.met is False else 'n/a   '} "
                      f"{t.measured:>12}  {t.name}")
        finally:
            if bench is not None:
                bench.remove_all()
            if own_testbed and testbed is not None:
                testbed.down(purge=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
