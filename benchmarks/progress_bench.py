"""Issue 11's "events and build/pull progress decode incrementally": the JSON streams of the
daemon read by ctrproto and by docker-py, side by side, in one run.

    .venv/bin/python benchmarks/progress_bench.py [--reps 3]

Against ``DOCKER_HOST`` (else the testbed's socket) and the testbed's private registry:

- build: ``RUN`` printing N lines over time (N = 2,000 and 20,000), ``nocache``; the log read with
  ``APIClient.build(decode=True)``;
- events: 2,000 image tag/untag events made by another process while
  ``APIClient.events(decode=True)`` follows (the daemon keeps only its last 256 events for a
  ``since`` query, so they are read live);
- pull: a 64 MiB image pushed to the registry, removed, then pulled with
  ``APIClient.pull(stream=True, decode=True)`` (the daemon's download progress).

Per stream: the items, the time to the first item and to the end, and the client's CPU per item
(``time.process_time``; the daemon is another process).  Incremental means the first item comes
long before the end, and CPU per item does not grow with N.  Median of ``--reps``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker

import ctrproto

REPO = Path(__file__).resolve().parent.parent
TESTBED = REPO / ".testbed"


def _measure(open_stream: Callable[[], Iterable[Any]]) -> dict[str, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    first = None
    items = 0
    for _ in open_stream():
        if first is None:
            first = time.perf_counter() - t0
        items += 1
    total = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {"items": items, "first_s": first or total, "total_s": total,
            "us_cpu_per_item": cpu / max(items, 1) * 1e6}


def _dockerfile(lines: int) -> io.BytesIO:
    """A build step printing ``lines`` lines, pausing 50 ms every 200: its log comes over
    seconds, as a real build's does."""
    return io.BytesIO(
        f"FROM busybox:latest\nRUN i=0; while [ $i -lt {lines} ]; do i=$((i+1)); "
        f"echo progress line $i; [ $((i % 200)) -ne 0 ] || sleep 0.05; done\n".encode()
    )


EVENTS = 1000  # tag + untag: twice as many events


def _make_events(host: str, repository: str) -> None:
    """Tags and untags busybox EVENTS times, from another process (its CPU is not the
    reader's)."""
    import subprocess

    subprocess.Popen([sys.executable, "-c", (
        "import sys, ctrproto\n"
        "api = ctrproto.APIClient(base_url=sys.argv[1])\n"
        f"for n in range({EVENTS}):\n"
        "    api.tag('busybox:latest', sys.argv[2], f't{n}')\n"
        "    api.remove_image(f'{sys.argv[2]}:t{n}')\n"
    ), host, repository])


def _live_events(client: Any, host: str, repository: str) -> Iterable[Any]:
    """The events of one _make_events run, read live until all of them came."""
    stream = client.events(decode=True, filters={"type": "image"})
    _make_events(host, repository)
    tags = 0
    try:
        for event in stream:  # (an untag names the image id, a tag the new name)
            yield event
            if event.get("Action") == "tag" and repository in json.dumps(event):
                tags += 1
                if tags == EVENTS:
                    return
    finally:
        stream.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    env = json.loads((TESTBED / "env.json").read_text())
    host = os.environ.get("DOCKER_HOST") or f"unix://{env['CTRPROTO_TESTBED_DOCKER_SOCK']}"
    registry = env["CTRPROTO_TESTBED_REGISTRY"]
    clients: dict[str, Any] = {
        "ctrproto": ctrproto.APIClient(base_url=host, timeout=300),
        "docker-py": docker.APIClient(base_url=host, timeout=300),
    }
    api = clients["ctrproto"]
    tag = uuid.uuid4().hex[:8]
    results: dict[str, dict[str, list[dict[str, float]]]] = {}

    def add(case: str, name: str, figures: dict[str, float]) -> None:
        results.setdefault(case, {}).setdefault(name, []).append(figures)

    built: list[str] = []
    big = f"{registry}/progress-bench-{tag}:latest"
    try:
        # pull: a 64 MiB layer in the registry
        image, _ = ctrproto.DockerClient(base_url=host).images.build(
            fileobj=io.BytesIO(b"FROM busybox:latest\nRUN head -c 67108864 /dev/urandom > /big\n"),
            tag=big, rm=True,
        )
        built.append(big)
        for _ in api.push(big, stream=True):
            pass
        for rep in range(args.reps):
            for name, client in clients.items():
                for lines in (2_000, 20_000):
                    add(f"build, RUN printing {lines:,} lines", name, _measure(
                        lambda c=client, n=lines: c.build(
                            fileobj=_dockerfile(n), nocache=True, rm=True, decode=True)))
                add(f"events, {2 * EVENTS:,} live", name, _measure(
                    lambda c=client: _live_events(c, host, f"progress-bench-{tag}-e")))
                api.remove_image(big, force=True)
                add("pull, 64 MiB image from the registry", name, _measure(
                    lambda c=client: c.pull(big, stream=True, decode=True)))
            print(f"rep {rep} done", file=sys.stderr, flush=True)
    finally:
        for name in built:
            with contextlib.suppress(ctrproto.errors.NotFound):
                api.remove_image(name, force=True)
        api.prune_images(filters={"dangling": True})
        for client in clients.values():
            client.close()
    print(f"{'stream':40} {'client':10} {'items':>7} {'first s':>8} {'total s':>8}"
          f" {'µs CPU/item':>12}")
    for case, by_client in results.items():
        for name, runs in by_client.items():
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{case:40} {name:10} {med['items']:7.0f} {med['first_s']:8.3f}"
                  f" {med['total_s']:8.3f} {med['us_cpu_per_item']:12.1f}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
