"""Names shared by the facade tests (their fixtures live in conftest.py)."""

IMAGE = "busybox:latest"
#: On a loopback registry that never answers: the daemon's pull attempt never leaves the machine.
MISSING_IMAGE = "127.0.0.1:1/ctrproto-test/missing:never"
