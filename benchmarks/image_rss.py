"""Peak RSS growth of saving and loading a ~1 GB image: ctrproto (both worlds) next to docker-py.

Not a test: run it by hand against a daemon (``DOCKER_HOST``, else the testbed's socket)::

    .venv/bin/python benchmarks/image_rss.py [--size-mb 1024]

It builds ``FROM busybox:latest`` + ``RUN head -c <size> /dev/urandom > /big`` locally, then
measures, each in a fresh child process so that one run's heap cannot hide another's:

- save: ``Image.save()`` streamed to ``/dev/null``;
- load: ``images.load()`` of a generator reading the saved tar in 1 MiB pieces (the image is
  removed before each load, so the daemon really imports it).

The figure is the growth of the child's peak RSS (``VmHWM``) over its value just before the
operation, the client and its imports already in place.  The image and the saved tar are removed
at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TESTBED_SOCKET = REPO / ".testbed" / "run" / "docker.sock"
PIECE = 1 << 20
LIBRARIES = ("ctrproto", "ctrproto-asyncio", "docker-py")


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or f"unix://{TESTBED_SOCKET}"


def _peak_kib() -> int:
    """The process's peak resident set so far (``VmHWM``), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _pieces(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while True:
            piece = f.read(PIECE)
            if not piece:
                return
            yield piece


async def _async_pieces(path: str) -> AsyncIterator[bytes]:
    for piece in _pieces(path):
        yield piece


# ---------------------------------------------------------------------- one measurement (child)


def _child(operation: str, library: str, tag: str, path: str) -> dict[str, Any]:
    host = _docker_host()
    if library == "ctrproto-asyncio":
        return asyncio.run(_child_async(operation, tag, path, host))
    if library == "ctrproto":
        import ctrproto

        client: Any = ctrproto.DockerClient(base_url=host, timeout=600)
    else:
        import docker

        client = docker.DockerClient(base_url=host, timeout=600)
    client.ping()
    before = _peak_kib()
    start = time.perf_counter()
    moved = 0
    if operation == "save":
        image = client.images.get(tag)
        with open(os.devnull, "wb") as sink:
            for chunk in image.save():
                moved += len(chunk)
                sink.write(chunk)
    else:
        loaded = client.images.load(_pieces(path))
        assert loaded, "nothing was loaded"
        moved = os.path.getsize(path)
    elapsed = time.perf_counter() - start
    growth = _peak_kib() - before
    client.close()
    return {"growth_kib": growth, "seconds": elapsed, "bytes": moved}


async def _child_async(operation: str, tag: str, path: str, host: str) -> dict[str, Any]:
    from ctrproto.aio import AsyncDockerClient

    async with AsyncDockerClient(base_url=host, timeout=600) as client:
        await client.ping()
        before = _peak_kib()
        start = time.perf_counter()
        moved = 0
        if operation == "save":
            image = await client.images.get(tag)
            with open(os.devnull, "wb") as sink:
                async for chunk in await image.save():
                    moved += len(chunk)
                    sink.write(chunk)
        else:
            loaded = await client.images.load(_async_pieces(path))
            assert loaded, "nothing was loaded"
            moved = os.path.getsize(path)
        elapsed = time.perf_counter() - start
        growth = _peak_kib() - before
    return {"growth_kib": growth, "seconds": elapsed, "bytes": moved}


def _measure(operation: str, library: str, tag: str, path: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", operation, library, tag, path],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------- the run (parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--child", nargs=4, metavar=("OP", "LIB", "TAG", "PATH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    import ctrproto

    api = ctrproto.APIClient(base_url=_docker_host(), timeout=600)
    tag = f"ctrproto-rss-bench:{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix="ctrproto-rss-"))
    saved = workdir / "image.tar"
    try:
        size = args.size_mb * 1024 * 1024
        dockerfile = f"FROM busybox:latest\nRUN head -c {size} /dev/urandom > /big\n"
        print(f"building {tag} ({args.size_mb} MiB of random data) ...", flush=True)
        for item in api.build(
            fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True, decode=True
        ):
            if "error" in item:
                raise SystemExit(f"build failed: {item['error']}")
        with saved.open("wb") as f:
            for chunk in api.get_image(tag):
                f.write(chunk)
        print(f"saved tar: {saved.stat().st_size / 2**20:.0f} MiB", flush=True)
        rows = []
        for library in LIBRARIES:
            save = _measure("save", library, tag, str(saved))
            api.remove_image(tag, force=True)
            load = _measure("load", library, tag, str(saved))
            rows.append((library, save, load))
        print()
        print(f"{'client':<18} {'save: RSS growth':>17} {'time':>8}   {'load: RSS growth':>17} "
              f"{'time':>8}")
        for library, save, load in rows:
            print(
                f"{library:<18} {save['growth_kib'] / 1024:>14.1f} MB {save['seconds']:>7.1f}s"
                f"   {load['growth_kib'] / 1024:>14.1f} MB {load['seconds']:>7.1f}s"
            )
    finally:
        with contextlib.suppress(Exception):
            api.remove_image(tag, force=True)
        with contextlib.suppress(OSError):
            saved.unlink()
        with contextlib.suppress(OSError):
            workdir.rmdir()
        api.close()


if __name__ == "__main__":
    main()
