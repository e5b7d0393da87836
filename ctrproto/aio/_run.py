"""``containers.run()`` in the foreground, for asyncio: the sync ``models._run`` sequence, awaited.

The same two promises: ``remove=True`` holds in every outcome (cancellation of the awaiting task
included), and ``stream=True`` hands out output while the container runs.  The decisions (is the
log readable, is a removal error benign, the ``ContainerError``) are the sync module's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from ..engine.create_config import RunOptions
from ..errors import Conflict, ContainerError, NotFound
from ..models._run import already_removed, logs_readable

if TYPE_CHECKING:
    from .containers import AsyncContainer

RunOutput = bytes | AsyncGenerator[bytes, None] | None


async def run_attached(
    container: AsyncContainer, options: RunOptions, command: Any, image: Any
) -> RunOutput:
    """Output per ``stdout``/``stderr``/``stream``; ``ContainerError`` on a non-zero exit."""
    try:
        readable = logs_readable(container.attrs)
        if options.stream and readable:
            logs = await container.api.logs(
                container.id, stdout=options.stdout, stderr=options.stderr, stream=True,
                follow=True,
            )
            assert not isinstance(logs, bytes)
            return _streamed(container, logs, options, command, image)
        # As the sync run(): wait first, then read the log once.
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
        rest = await _read_logs(container, options, skip=delivered)
        if rest:
            yield rest
        await _check_exit(container, status, options, command, image, True)
    except BaseException:  # cancellation and aclose() included: an abandoned run cleans up
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
        try:
            result = await container.api.logs(container.id, stdout=False, stderr=True)
            stderr = result if isinstance(result, bytes) else None
        except NotFound:
            stderr = None
    raise ContainerError(container, status, command, image, stderr)


async def remove_after_run(container: AsyncContainer) -> None:
    try:
        await container.remove(force=True)
    except (NotFound, Conflict) as exc:
        if not already_removed(exc):
            raise


async def remove_quietly(container: AsyncContainer) -> None:
    """Remove while another exception propagates: never mask that exception with ours."""
    with contextlib.suppress(Exception):
        await container.remove(force=True)
