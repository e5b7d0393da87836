"""``containers.run()`` in the foreground: start the created container, hand out its output, wait
for its exit, clean up.

Three promises shape this module.  The output is never lost, not even when the daemon removes the
container the moment it exits (``auto_remove``): as the docker CLI does, the client registers its
wait for the exit and attaches to the output *before* starting the container, so neither depends
on the container still existing afterwards (a log read after the exit of an auto-removed
container is refused: "can not get logs from container which is dead or marked for removal").
``remove=True`` holds in every outcome - a non-zero exit, an API error, an exception,
``KeyboardInterrupt`` or cancellation while waiting, a stream abandoned half-read - so every path
ends in one cleanup helper.  And ``stream=True`` hands out output *while* the container runs
(docker-py waits for the exit before returning its generator).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Union

from ..engine.create_config import RunOptions
from ..engine.run_rules import already_removed, exit_condition, logs_readable
from ..errors import Conflict, ContainerError, NotFound
from ..protocol.demux import STDERR
from .hijacked_socket import AsyncHijackedSocket, socket_frames
from .http_driver import AsyncResponse
from .stream_shapes import stream_of

if TYPE_CHECKING:
    from .containers import AsyncContainer

__all__ = ["RunOutput", "remove_quietly", "run_foreground"]

RunOutput = Union[bytes, AsyncIterator[bytes], None]
#: What the attachment asks for: both streams (stderr is kept for ``ContainerError``).
ATTACH_PARAMS = {"stdout": 1, "stderr": 1, "stream": 1}


async def run_foreground(
    container: AsyncContainer, options: RunOptions, command: Any, image: Any
) -> RunOutput:
    """Start the created container and run it per the ``stdout``/``stderr``/``stream`` flags.

    Returns the output (``None`` when the log driver cannot be read); raises
    :class:`ContainerError`, with the container's stderr, on a non-zero exit.  The container is
    removed first when ``options.remove``, whatever happens.
    """
    exit_wait: AsyncResponse | None = None
    sock: AsyncHijackedSocket | None = None
    try:
        api = container.api
        condition = exit_condition(await api.ensure_api_version(), options.auto_remove)
        if condition is not None:
            exit_wait = await api._wait_registered(container.id, condition)  # noqa: SLF001
        if logs_readable(container.attrs):
            sock = await api.attach_socket(container.id, ATTACH_PARAMS)
        await container.start()
        if sock is not None and options.stream:
            # Closable from another thread, as docker-py's run(stream=True) (its logs stream).
            return stream_of(sock, _streamed(container, sock, exit_wait, options, command, image))
        output, errors = await _collected(sock, options) if sock is not None else (None, None)
        status = await _exit_status(container, exit_wait)
        _check_exit(container, status, command, image, errors)
    except BaseException:
        await _abandon(container, options, sock, exit_wait)
        raise
    await _finished(container, options)
    return output


async def _selected(
    sock: AsyncHijackedSocket, options: RunOptions, errors: bytearray, join: bool = True
) -> AsyncGenerator[bytes, None]:
    """The payloads the ``stdout``/``stderr`` flags select; all of stderr also goes to
    ``errors``, for the ``ContainerError`` of a failed run.  Without ``join`` one per frame,
    empty ones dropped (docker-py's streamed items)."""
    async for stream, payload in socket_frames(sock, join):
        if not payload:
            continue
        if stream == STDERR:
            errors += payload
            if options.stderr:
                yield payload
        elif options.stdout:
            yield payload


async def _collected(sock: AsyncHijackedSocket, options: RunOptions) -> tuple[bytes, bytes]:
    """The whole output, as the flags select it, and the whole stderr."""
    errors = bytearray()
    output = b"".join([payload async for payload in _selected(sock, options, errors)])
    return output, bytes(errors)


async def _streamed(
    container: AsyncContainer,
    sock: AsyncHijackedSocket,
    exit_wait: AsyncResponse | None,
    options: RunOptions,
    command: Any,
    image: Any,
) -> AsyncGenerator[bytes, None]:
    try:
        errors = bytearray()
        async for payload in _selected(sock, options, errors, join=False):
            yield payload
        status = await _exit_status(container, exit_wait)
        _check_exit(container, status, command, image, bytes(errors))
    except BaseException:  # abandoned (closed), failed or cancelled: still clean up
        await _abandon(container, options, sock, exit_wait)
        raise
    await _finished(container, options)


async def _exit_status(container: AsyncContainer, exit_wait: AsyncResponse | None) -> int:
    """The exit code from the wait registered before the start (or, on a daemon too old for
    wait conditions, from a wait made now)."""
    if exit_wait is None:
        answer = await container.wait()
    else:
        async with exit_wait:
            answer = await exit_wait.json()
    status: int = answer["StatusCode"]
    return status


def _check_exit(
    container: AsyncContainer, status: int, command: Any, image: Any, stderr: bytes | None
) -> None:
    if status != 0:
        raise ContainerError(container, status, command, image, stderr)


async def _abandon(
    container: AsyncContainer,
    options: RunOptions,
    sock: AsyncHijackedSocket | None,
    exit_wait: AsyncResponse | None,
) -> None:
    """While an exception propagates: drop the connections, remove the container if asked."""
    if sock is not None:
        sock.close()
    if exit_wait is not None:
        exit_wait.close()
    if options.remove:
        await remove_quietly(container)


async def _finished(container: AsyncContainer, options: RunOptions) -> None:
    if options.remove:
        await remove_after_run(container)


async def remove_after_run(container: AsyncContainer) -> None:
    """Remove a finished container; already gone (daemon-side auto-remove) is fine."""
    try:
        await container.remove(force=True)
    except (NotFound, Conflict) as exc:
        if not already_removed(exc):
            raise


async def remove_quietly(container: AsyncContainer) -> None:
    """Remove while another exception propagates: never mask that exception with ours."""
    with contextlib.suppress(Exception):  # the original error matters more than ours
        await container.remove(force=True)
