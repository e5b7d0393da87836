"""The main job, end to end: run a container on a daemon and stream its logs as they are written.

    python examples/stream_logs.py            # uses DOCKER_HOST (or the local socket)

The container prints a line a tenth of a second to stdout, and every third one to stderr too;
ctrproto streams them while the container runs, in the order written, then reports the exit code.
The image (``busybox:latest`` unless ``CTRPROTO_DEMO_IMAGE`` says otherwise) is pulled if the
daemon lacks it.
"""

from __future__ import annotations

import os
import sys
import time

import ctrproto

SCRIPT = (
    "i=1; while [ $i -le 12 ]; do echo \"line $i\"; sleep 0.05; "
    "[ $((i % 3)) -eq 0 ] && echo \"line $i (stderr)\" >&2; "
    "sleep 0.05; i=$((i+1)); done"
)


def main() -> int:
    image = os.environ.get("CTRPROTO_DEMO_IMAGE", "busybox:latest")
    with ctrproto.from_env() as client:
        version = client.version()
        print(f"daemon {version['Version']} (API {client.api.api_version}) "
              f"via {client.api.daemon_url}")
        container = client.containers.run(image, ["sh", "-c", SCRIPT], detach=True)
        try:
            started = time.monotonic()
            for chunk in container.logs(stream=True, follow=True):
                elapsed = time.monotonic() - started
                for line in chunk.decode().splitlines():
                    print(f"[{elapsed:5.2f}s] {line}")
            status = container.wait()["StatusCode"]
            print(f"container {container.short_id} exited with status {status}")
            return 0 if status == 0 else 1
        finally:
            container.remove(force=True)


if __name__ == "__main__":
    sys.exit(main())
