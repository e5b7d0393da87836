"""``containers.run()`` after the create request is built: start, collect output, wait, clean up.

Two promises shape this module.  ``remove=True`` must hold in every outcome - a non-zero exit, an
API error, an exception or ``KeyboardInterrupt`` while waiting, a stream abandoned half-read - so
every path ends in one cleanup helper.  And ``stream=True`` must hand out output *while* the
container runs: docker-py waits for the exit before returning its generator, which defeats the
point of streaming; here the log request is made at once and the wait happens when the stream
ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..engine.create_config import RunOptions
from ..errors import Conflict, ContainerError, NotFound

if TYPE_CHECKING:
    from .containers import Container

__all__ = ["READABLE_LOG_DRIVERS", "run_attached"]

#: The drivers whose output the daemon can give back (the spec's "Returns" paragraph).
READABLE_LOG_DRIVERS = frozenset({"json-file", "journald"})


def run_attached(
    container: Container, options: RunOptions, command: Any, image: Any
) -> bytes | Iterator[bytes] | None:
    """Run a started container in the foreground, per the ``stdout``/``stderr``/``stream`` flags.

    Returns the output (``None`` when the log driver cannot be read); raises
    :class:`ContainerError` on a non-zero exit.  The container is removed first when
    ``options.remove``, whatever happens.
    """
    try:
        driver = ((container.attrs.get("HostConfig") or {}).get("LogConfig") or {}).get("Type")
        readable = driver in READABLE_LOG_DRIVERS
        logs: Any = None
        if readable:
            logs = container.logs(
                stdout=options.stdout, stderr=options.stderr, stream=True, follow=True
            )
        if options.stream and logs is not None:
            return _streamed(container, logs, options, command, image, readable)
        output = b"".join(logs) if logs is not None else None
        _check_exit(container, options, command, image, readable)
    except BaseException:
        if options.remove:
            remove_quietly(container)
        raise
    if options.remove:
        remove_after_run(container)
    return output


def _streamed(
    container: Container,
    logs: Iterator[bytes],
    options: RunOptions,
    command: Any,
    image: Any,
    readable: bool,
) -> Iterator[bytes]:
    try:
        yield from logs
        _check_exit(container, options, command, image, readable)
    except BaseException:  # GeneratorExit included: an abandoned stream still cleans up
        close = getattr(logs, "close", None)
        if close is not None:
            close()
        if options.remove:
            remove_quietly(container)
        raise
    if options.remove:
        remove_after_run(container)


def _check_exit(
    container: Container, options: RunOptions, command: Any, image: Any, readable: bool
) -> None:
    status = container.wait()["StatusCode"]
    if status == 0:
        return
    stderr: bytes | None = None
    if readable and not options.auto_remove:
        stderr = _stderr(container)
    raise ContainerError(container, status, command, image, stderr)


def _stderr(container: Container) -> bytes | None:
    try:
        result = container.logs(stdout=False, stderr=True)
    except NotFound:
        return None  # removed meanwhile (auto_remove set through another path)
    return result if isinstance(result, bytes) else b"".join(result)


def remove_after_run(container: Container) -> None:
    """Remove a finished container; already gone (daemon-side auto-remove) is fine."""
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except Conflict as exc:
        if "in progress" not in (exc.explanation or ""):
            raise


def remove_quietly(container: Container) -> None:
    """Remove while another exception propagates: never mask that exception with ours."""
    with contextlib.suppress(Exception):  # the original error matters more than ours
        container.remove(force=True)
