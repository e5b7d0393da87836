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
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..engine.create_config import RunOptions
from ..errors import Conflict, ContainerError, NotFound

if TYPE_CHECKING:
    from .containers import Container

__all__ = ["READABLE_LOG_DRIVERS", "already_removed", "logs_readable", "run_attached"]

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
        readable = logs_readable(container.attrs)
        if options.stream and readable:
            logs = container.logs(
                stdout=options.stdout, stderr=options.stderr, stream=True, follow=True
            )
            return _streamed(container, logs, options, command, image)
        # Without streaming, wait first and read the log once: a follow request racing a
        # container that exits within milliseconds can come back empty on some daemons.
        status = container.wait()["StatusCode"]
        output = _read_logs(container, options) if readable else None
        _check_exit(container, status, options, command, image, readable)
    except BaseException:
        if options.remove:
            remove_quietly(container)
        raise
    if options.remove:
        remove_after_run(container)
    return output


def logs_readable(attrs: Mapping[str, Any]) -> bool:
    """Whether the container's log driver lets the daemon give its output back."""
    driver = ((attrs.get("HostConfig") or {}).get("LogConfig") or {}).get("Type")
    return driver in READABLE_LOG_DRIVERS


def already_removed(exc: Exception) -> bool:
    """A removal error that means the container is gone or going (daemon-side auto-remove)."""
    if isinstance(exc, NotFound):
        return True
    return isinstance(exc, Conflict) and "in progress" in (exc.explanation or "")


def _read_logs(container: Container, options: RunOptions, skip: int = 0) -> bytes:
    result = container.logs(stdout=options.stdout, stderr=options.stderr)
    data = result if isinstance(result, bytes) else b"".join(result)
    return data[skip:]


def _streamed(
    container: Container,
    logs: Iterator[bytes],
    options: RunOptions,
    command: Any,
    image: Any,
) -> Iterator[bytes]:
    try:
        delivered = 0
        for chunk in logs:
            delivered += len(chunk)
            yield chunk
        status = container.wait()["StatusCode"]
        # The follow request may have missed the end of a container that exited as it began;
        # the stored log is complete once the container stopped, so hand out what is missing.
        rest = _read_logs(container, options, skip=delivered)
        if rest:
            yield rest
        _check_exit(container, status, options, command, image, True)
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
    container: Container,
    status: int,
    options: RunOptions,
    command: Any,
    image: Any,
    readable: bool,
) -> None:
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
    except (NotFound, Conflict) as exc:
        if not already_removed(exc):
            raise


def remove_quietly(container: Container) -> None:
    """Remove while another exception propagates: never mask that exception with ours."""
    with contextlib.suppress(Exception):  # the original error matters more than ours
        container.remove(force=True)
