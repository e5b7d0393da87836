"""``containers.run()`` after the create request is built: start, collect output, wait, clean up.

Two promises shape this module.  ``remove=True`` must hold in every outcome - a non-zero exit, an
API error, an exception, ``KeyboardInterrupt`` or cancellation while waiting, a stream abandoned
half-read - so every path ends in one cleanup helper.  And ``stream=True`` must hand out output
*while* the container runs: docker-py waits for the exit before returning its generator, which
defeats the point of streaming; here the log request is made at once and the wait happens when
the stream ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Union

from ..engine.create_config import RunOptions
from ..engine.run_rules import already_removed, logs_readable
from ..errors import Conflict, ContainerError, NotFound

if TYPE_CHECKING:
    from .containers import AsyncContainer

__all__ = ["RunOutput", "remove_quietly", "run_attached"]

RunOutput = Union[bytes, AsyncIterator[bytes], None]


async def run_attached(
    container: AsyncContainer, options: RunOptions, command: Any, image: Any
) -> RunOutput:
    """Run a started container in the foreground, per the ``stdout``/``stderr``/``stream`` flags.

    Returns the output (``None`` when the log driver cannot be read); raises
    :class:`ContainerError` on a non-zero exit.  The container is removed first when
    ``options.remove``, whatever happens.
    """
    try:
        readable = logs_readable(container.attrs)
        if options.stream and readable:
            logs = await container.api.logs(
                container.id, stdout=options.stdout, stderr=options.stderr, stream=True,
                follow=True,
            )
            assert not isinstance(logs, bytes)
            return _streamed(container, logs, options, command, image)
        # Without streaming, wait first and read the log once: a follow request racing a
        # container that exits within milliseconds can come back empty on some daemons.
        status = (await container.wait())["StatusCode"]
        output = await _read_logs(container, options) if readable else None
        await _check_exit(container, status, options, command, image, readable)
    except BaseException:
        if options.remove:
            await remove_quietly(container)
        raise
    if options.remove:
        await remove_after_run(container)
    return output


async def _read_logs(container: AsyncContainer, options: RunOptions, skip: int = 0) -> bytes:
    data = await container.api.logs(container.id, stdout=options.stdout, stderr=options.stderr)
    assert isinstance(data, bytes)
    return data[skip:]


async def _streamed(
    container: AsyncContainer,
    logs: AsyncGenerator[bytes, None],
    options: RunOptions,
    command: Any,
    image: Any,
) -> AsyncGenerator[bytes, None]:
    try:
        delivered = 0
        async for chunk in logs:
            delivered += len(chunk)
            yield chunk
        status = (await container.wait())["StatusCode"]
        # The follow request may have missed the end of a container that exited as it began;
        # the stored log is complete once the container stopped, so hand out what is missing.
        rest = await _read_logs(container, options, skip=delivered)
        if rest:
            yield rest
        await _check_exit(container, status, options, command, image, True)
    except BaseException:  # abandoned (closed), failed or cancelled: still clean up
        await logs.aclose()
        if options.remove:
            await remove_quietly(container)
        raise
    if options.remove:
        await remove_after_run(container)


async def _check_exit(
    container: AsyncContainer,
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
        stderr = await _stderr(container)
    raise ContainerError(container, status, command, image, stderr)


async def _stderr(container: AsyncContainer) -> bytes | None:
    try:
        result = await container.api.logs(container.id, stdout=False, stderr=True)
    except NotFound:
        return None  # removed meanwhile (auto_remove set through another path)
    return result if isinstance(result, bytes) else None


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
