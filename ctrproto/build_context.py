"""The build context on disk: walk the directory ``.dockerignore`` leaves, and stream its tar.

The rules (patterns, tar framing) are :mod:`ctrproto.engine.build_rules`; this is the part that
reads the local filesystem, because the member list and the tar bytes must come from the same
walk.  :func:`tar_stream` yields the tar piece by piece, so a large context is sent while it is
read and never held whole in memory; :func:`tar` is docker-py's file-returning form
(``docker.utils.build``).
"""

from __future__ import annotations

import io
import os
import random
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from .engine.build_rules import (
    READ_SIZE,
    PatternMatcher,
    TarFraming,
    gzipped,
    parse_dockerignore,
    text_member,
)

__all__ = [
    "build_file_list",
    "create_archive",
    "exclude_paths",
    "is_directory",
    "is_local_file",
    "mkbuildcontext",
    "mkbuildcontext_stream",
    "process_dockerfile",
    "read_dockerignore",
    "tar",
    "tar_stream",
    "walk",
]


def _walk(root: str, current: str, matcher: PatternMatcher) -> Iterator[str]:
    for name in os.listdir(current):
        path = os.path.join(os.path.relpath(current, root), name)
        if path.startswith("./"):
            path = path[2:]
        excluded = matcher.matches(path)
        if not excluded:
            yield path
        full = os.path.join(root, path)
        if not os.path.isdir(full) or os.path.islink(full):
            continue
        if excluded and not matcher.must_descend(path):
            continue
        yield from _walk(root, full, matcher)


def walk(root: str, patterns: Iterable[str], default: bool = True) -> Iterator[str]:
    return _walk(root, root, PatternMatcher(patterns))


def exclude_paths(
    root: str, patterns: Sequence[str] | None, dockerfile: str | None = None
) -> set[str]:
    """Every path (files and directories) under ``root``, relative to it, that the patterns do
    not exclude; the Dockerfile (``dockerfile`` or ``Dockerfile``) is always kept.

    Unlike docker-py, the caller's list is left as it was (docker-py appends to it).
    """
    rules = [*(patterns or []), f"!{dockerfile or 'Dockerfile'}"]
    return set(_walk(root, root, PatternMatcher(rules)))


def build_file_list(root: str) -> list[str]:
    """Every path under ``root``, relative to it."""
    found: list[str] = []
    for dirname, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            found.append(os.path.join(dirname, name).replace(root, "", 1).lstrip("/"))
    return found


def read_dockerignore(path: str) -> list[str] | None:
    """The patterns of ``path/.dockerignore``, or ``None`` when there is none."""
    ignore = os.path.join(path, ".dockerignore")
    if not os.path.exists(ignore):
        return None
    with open(ignore) as f:
        return parse_dockerignore(f.read())


def process_dockerfile(dockerfile: str | None, path: str) -> tuple[str | None, str | None]:
    """Where the Dockerfile is, as the build request names it.

    Inside the context: its path relative to the context.  Outside: a random name and its
    contents, which :func:`tar` adds to the context (with a ``.dockerignore`` naming it).
    """
    if not dockerfile:
        return None, None
    full = dockerfile if os.path.isabs(dockerfile) else os.path.join(path, dockerfile)
    if os.path.relpath(full, path).startswith(".."):
        with open(full) as f:
            return f".dockerfile.{random.getrandbits(160):x}", f.read()
    if dockerfile == full:
        dockerfile = os.path.relpath(full, path)
    return dockerfile, None


def _dockerfile_pair(dockerfile: Any) -> tuple[str | None, str | None]:
    if not dockerfile:
        return None, None
    if isinstance(dockerfile, str):
        return dockerfile, None
    name, contents = dockerfile
    return name, contents


def tar_stream(
    path: str,
    exclude: Sequence[str] | None = None,
    dockerfile: Any = None,
    gzip: bool = False,
) -> Iterator[bytes]:
    """The build context of directory ``path`` as tar pieces, read as they are sent.

    ``dockerfile`` is :func:`process_dockerfile`'s pair (or just the name inside the context).
    Members are in sorted order, as docker-py's.
    """
    root = os.path.abspath(path)
    name, contents = _dockerfile_pair(dockerfile)
    extra: list[tuple[str, str]] = []
    if contents is not None and name is not None:
        ignore_text = "\n".join([*(exclude or [".dockerignore"]), name])
        extra = [(".dockerignore", ignore_text), (name, contents)]
    files = sorted(exclude_paths(root, exclude, dockerfile=name))
    pieces = _archive(root, files, extra)
    return gzipped(pieces) if gzip else pieces


def create_archive(
    root: str,
    files: Iterable[str] | None = None,
    fileobj: IO[bytes] | None = None,
    gzip: bool = False,
    extra_files: Iterable[tuple[str, str]] | None = None,
) -> IO[bytes]:
    """docker-py's form: the tar written to ``fileobj`` (a temp file by default), rewound."""
    if files is None:
        files = build_file_list(root)
    pieces = _archive(root, list(files), list(extra_files or []))
    return _written(gzipped(pieces) if gzip else pieces, fileobj)


def tar(
    path: str,
    exclude: Sequence[str] | None = None,
    dockerfile: Any = None,
    fileobj: IO[bytes] | None = None,
    gzip: bool = False,
) -> IO[bytes]:
    """docker-py's ``docker.utils.tar``: the context in a (temp) file, rewound; the same members
    in the same order.  ``build()`` sends :func:`tar_stream` instead, with no temp file."""
    return _written(tar_stream(path, exclude, dockerfile, gzip), fileobj)


def _written(pieces: Iterable[bytes], fileobj: IO[bytes] | None) -> IO[bytes]:
    target: IO[bytes] = fileobj if fileobj is not None else tempfile.NamedTemporaryFile()  # noqa: SIM115
    for piece in pieces:
        target.write(piece)
    target.seek(0)
    return target


def _archive(root: str, files: list[str], extra: list[tuple[str, str]]) -> Iterator[bytes]:
    framing = TarFraming()
    extra_names = {name for name, _ in extra}
    for path in files:
        if path in extra_names:
            continue  # the generated files take the place of context files of the same name
        full = os.path.join(root, path)
        info = framing.archive.gettarinfo(full, arcname=path)
        if info is None:
            continue  # a socket: nothing to send
        if info.mtime < 0 or info.mtime > 8**11 - 1:
            info.mtime = int(info.mtime)
        yield framing.header(info)
        if info.isfile():
            yield from _file_data(full, info.size)
            yield framing.padding(info.size)
    for name, contents in extra:
        yield from text_member(framing, name, contents)
    yield framing.end()


def _file_data(full: str, size: int) -> Iterator[bytes]:
    try:
        with open(full, "rb") as f:
            left = size
            while left:
                piece = f.read(min(READ_SIZE, left))
                if not piece:
                    raise OSError(f"{full} shrank while it was being read")
                left -= len(piece)
                yield piece
    except OSError as exc:
        raise OSError(f"Can not read file in context: {full}") from exc


def mkbuildcontext_stream(dockerfile: Any) -> Iterator[bytes]:
    """A context of one ``Dockerfile``, read from a binary file object (``build(fileobj=)``)."""
    if isinstance(dockerfile, io.StringIO):
        raise TypeError("Please use io.BytesIO to create in-memory Dockerfiles with Python 3")
    framing = TarFraming()
    if isinstance(dockerfile, io.BytesIO):
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile.getvalue())
        dockerfile.seek(0)
    else:
        info = framing.archive.gettarinfo(fileobj=dockerfile, arcname="Dockerfile")
    return _single_member(framing, info, dockerfile)


def _single_member(framing: TarFraming, info: tarfile.TarInfo, source: Any) -> Iterator[bytes]:
    yield framing.header(info)
    left = info.size
    while left:
        piece = source.read(min(READ_SIZE, left))
        if not piece:
            raise OSError("unexpected end of data in the Dockerfile")
        left -= len(piece)
        yield piece
    yield framing.padding(info.size)
    yield framing.end()


def mkbuildcontext(dockerfile: Any) -> IO[bytes]:
    """docker-py's form: the one-Dockerfile context in a temp file, rewound."""
    return _written(mkbuildcontext_stream(dockerfile), None)


def is_directory(path: str) -> bool:
    return os.path.isdir(path)


def is_local_file(src: Any) -> bool:
    """Whether an ``import_image`` source names a file here (else it is a URL)."""
    try:
        return isinstance(src, str) and os.path.isfile(src)
    except (TypeError, ValueError):
        return False
