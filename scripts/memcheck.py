#!/usr/bin/env python3
"""Peak-RSS check: a 1 GB log read and a 1 GB export must not grow the process by 64 MB.

    .venv/bin/python scripts/memcheck.py                     # own testbed in a temp dir
    .venv/bin/python scripts/memcheck.py --docker-host unix:///path/docker.sock
    .venv/bin/python scripts/memcheck.py --size-mb 256       # a quicker run

Not a timed test and not part of every CI run (it writes ~2 GB to the daemon's data root and takes
a minute or two).  It prints the figures and exits non-zero when a limit is exceeded.  Peak RSS is
``ru_maxrss`` (the high-water mark of the whole process), compared with its value just before
each read, so each phase is judged on its own growth.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from testbed import Testbed  # noqa: E402

from ctrproto import APIClient  # noqa: E402

LIMIT_MB = 64
IMAGE = "busybox:latest"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def phase(name: str, run: object, expected: int) -> tuple[float, bool]:
    before = peak_mb()
    start = time.monotonic()
    total = run()  # type: ignore[operator]
    elapsed = time.monotonic() - start
    growth = peak_mb() - before
    ok = growth < LIMIT_MB and total >= expected
    print(
        f"{name}: {total / 2**20:.0f} MiB in {elapsed:.1f} s "
        f"({total / 2**20 / elapsed:.0f} MiB/s), "
        f"peak RSS {before:.1f} -> {peak_mb():.1f} MiB (growth {growth:.1f} MiB, limit {LIMIT_MB}) "
        f"{'OK' if ok else 'FAIL'}",
        flush=True,
    )
    return growth, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host", help="a running daemon with busybox:latest")
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mb * 2**20
    bed = None
    if args.docker_host:
        host = args.docker_host
    else:
        bed = Testbed.up(tempfile.mkdtemp(prefix="ctrproto-memcheck-"))
        host = bed.docker_host
    ok = True
    try:
        with APIClient(base_url=host, timeout=120) as client:
            client.ping()
            print(f"baseline: RSS {current_mb():.1f} MiB, peak {peak_mb():.1f} MiB", flush=True)
            writer = client.create_container(
                IMAGE, ["sh", "-c", f"head -c {size} /dev/zero | tr '\\0' a"]
            )["Id"]
            filler = client.create_container(
                IMAGE, ["sh", "-c", f"head -c {size} /dev/zero > /big"]
            )["Id"]
            try:
                for cid in (writer, filler):
                    client.start(cid)
                for cid in (writer, filler):
                    assert client.wait(cid, timeout=900)["StatusCode"] == 0

                def read_logs() -> int:
                    total = 0
                    for piece in client.logs(writer, stream=True):  # type: ignore[union-attr]
                        total += len(piece)
                    return total

                def read_export() -> int:
                    return sum(len(piece) for piece in client.export(filler))

                ok &= phase("logs", read_logs, size)[1]
                ok &= phase("export", read_export, size)[1]
            finally:
                for cid in (writer, filler):
                    client.remove_container(cid, force=True)
    finally:
        if bed is not None:
            bed.down(purge=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
