"""``scripts/demo`` ends every failure in a line or two that names what is missing.

The demo runs as a subprocess with ``CTRPROTO_DEMO_SETUP=0`` (this interpreter's .venv is set
up already, and reinstalling it would disturb concurrent runs).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "scripts" / "demo"


def _demo(docker_host: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DOCKER_", "CTRPROTO_DEMO_"))
    }
    env.update(DOCKER_HOST=docker_host, CTRPROTO_DEMO_SETUP="0", **extra)
    return subprocess.run(
        [str(DEMO)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _assert_friendly(done: subprocess.CompletedProcess[str], *names: str) -> None:
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 4, done.stderr
    assert all(line.startswith(("demo: ", "      ")) for line in lines), done.stderr
    for name in names:
        assert name in done.stderr, done.stderr


def test_demo_without_a_daemon_says_so(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/no-such-dir/docker.sock"
    done = _demo(host)
    _assert_friendly(done, "no Docker daemon answers", host, "DOCKER_HOST")
    assert done.stdout == ""


def test_demo_with_a_missing_image_that_cannot_be_pulled_says_so(docker_host: str) -> None:
    image = "127.0.0.1:1/nosuch:latest"
    done = _demo(docker_host, CTRPROTO_DEMO_IMAGE=image)
    _assert_friendly(done, f"has no image {image}", "cannot pull", "CTRPROTO_DEMO_IMAGE")
    assert done.stdout == ""


def test_demo_debug_shows_the_traceback(docker_host: str) -> None:
    done = _demo(
        docker_host, CTRPROTO_DEMO_IMAGE="127.0.0.1:1/nosuch:latest", CTRPROTO_DEMO_DEBUG="1"
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "APIError" in done.stderr, done.stderr


def test_demo_streams_the_logs_when_all_is_there(docker_host: str) -> None:
    done = _demo(docker_host)
    assert done.returncode == 0, done.stderr
    assert "line 12 (stderr)" in done.stdout
    assert "exited with status 0" in done.stdout
    assert "Traceback" not in done.stderr


def test_demo_says_so_when_the_testbed_cannot_start(tmp_path: Path) -> None:
    """No DOCKER_HOST, no daemon at the default socket: the demo starts the testbed, which fails
    here (its directory would be under a regular file); the demo's own last two lines say what
    to do, after the testbed's reason."""
    import pytest

    if Path("/var/run/docker.sock").exists():
        pytest.skip("a daemon may answer at /var/run/docker.sock: the demo would use it")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "CTRPROTO_"))}
    env.update(CTRPROTO_DEMO_SETUP="0", CTRPROTO_TESTBED_DIR=str(blocker / "testbed"))
    done = subprocess.run(
        [str(DEMO)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=180, check=False,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-2:]
    assert last[0] == "demo: the testbed daemon could not start (the reason is above).", last
    assert last[1].startswith("      ") and "DOCKER_HOST" in last[1], last
    assert "testbed: ERROR" in done.stderr, done.stderr
    assert done.stdout == ""
