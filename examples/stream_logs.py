"""The main job, end to end: run a container on a daemon and stream its logs as they are written.

    python examples/stream_logs.py            # uses DOCKER_HOST (or the local socket)

The container prints a line a tenth of a second to stdout, and every third one to stderr too;
ctrproto streams them while the container runs, in the order written, then reports the exit code.
"""

from __future__ import annotations

import os
import sys
import time

from ctrproto import APIClient

SCRIPT = (
    "i=1; while [ $i -le 12 ]; do echo \"line $i\"; "
    "[ $((i % 3)) -eq 0 ] && echo \"line $i (stderr)\" >&2; "
    "sleep 0.1; i=$((i+1)); done"
)


def main() -> int:
    image = os.environ.get("CTRPROTO_DEMO_IMAGE", "busybox:latest")
    with APIClient(base_url=os.environ.get("DOCKER_HOST")) as client:
        version = client.version()
        print(f"daemon {version['Version']} (API {client.api_version}) via {client.base_url}")
        container = client.create_container(image, ["sh", "-c", SCRIPT], detach=True)["Id"]
        try:
            client.start(container)
            started = time.monotonic()
            for chunk in client.logs(container, stream=True, follow=True):
                elapsed = time.monotonic() - started
                for line in chunk.decode().splitlines():
                    print(f"[{elapsed:5.2f}s] {line}")
            status = client.wait(container)["StatusCode"]
            print(f"container {container[:12]} exited with status {status}")
            return 0 if status == 0 else 1
        finally:
            client.remove_container(container, force=True)


if __name__ == "__main__":
    sys.exit(main())
