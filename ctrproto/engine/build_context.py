"""The build context: which files ``.dockerignore`` keeps, and the tar the daemon builds from.

The rules are docker-py's (``docker.utils.build``, itself after moby's ``fileutils``): patterns
are normalised (``.`` and ``..`` cleaned, slashes trimmed), matched case-insensitively with
``*``/``?``/``[...]`` not crossing ``/`` and ``**`` crossing any number of directories, a
pattern excluding a directory excludes what is under it, ``!`` re-includes, the last pattern
that matches wins, and ``.dockerignore`` and the Dockerfile are always sent.

The first half is pure (patterns, tar framing).  The second half is the one small part of
``engine`` that touches the local filesystem: it walks the context directory and reads its files
(no sockets, threads or clocks), because the member list and the tar bytes must come from the
same walk.  :func:`tar_stream` yields the tar piece by piece, so a large context is sent while it
is read and never held whole in memory; :func:`tar` is docker-py's file-returning form.
"""

from __future__ import annotations

import io
import os
import random
import re
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

__all__ = [
    "Pattern",
    "PatternMatcher",
    "build_file_list",
    "create_archive",
    "exclude_paths",
    "fnmatch",
    "match_tag",
    "mkbuildcontext",
    "mkbuildcontext_stream",
    "normalize_slashes",
    "parse_dockerignore",
    "process_dockerfile",
    "read_dockerignore",
    "split_path",
    "tar",
    "tar_stream",
    "walk",
]

#: Size of the pieces a file is read in while its tar member is streamed.
READ_SIZE = 256 * 1024

_TAG = re.compile(
    r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
    r"(?::[0-9]+)?(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
    r"(:[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})?$"
)


def match_tag(tag: str) -> bool:
    """Whether ``tag`` is a valid ``name[:tag]`` reference (the check ``build(tag=)`` makes)."""
    return bool(_TAG.match(tag))


# ---------------------------------------------------------------------- patterns (pure)

_regex_cache: dict[str, re.Pattern[str]] = {}


def _translate(pattern: str) -> str:
    """A shell pattern as a regular expression; ``*``/``?`` stop at ``/``, ``**`` does not."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1  # "**/" counts as "**"
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append("\\[")
            else:
                body = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if body[0] == "!":
                    body = "^" + body[1:]
                elif body[0] == "^":
                    body = "\\" + body
                out.append(f"[{body}]")
        else:
            out.append(re.escape(c))
    out.append("$")
    return "".join(out)


def fnmatch(name: str, pattern: str) -> bool:
    """Case-insensitive match of a slash-separated path against a ``.dockerignore`` pattern."""
    pattern = pattern.lower()
    regex = _regex_cache.get(pattern)
    if regex is None:
        if len(_regex_cache) >= 256:
            _regex_cache.clear()
        regex = _regex_cache[pattern] = re.compile(_translate(pattern))
    return regex.match(name.lower()) is not None


def split_path(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def normalize_slashes(path: str) -> str:
    return path


class Pattern:
    """One ``.dockerignore`` line: ``exclusion`` for ``!`` lines, ``dirs`` its cleaned parts."""

    def __init__(self, pattern: str) -> None:
        self.exclusion = pattern.startswith("!")
        if self.exclusion:
            pattern = pattern[1:]
        self.dirs = self.normalize(pattern)
        self.cleaned_pattern = "/".join(self.dirs)

    @classmethod
    def normalize(cls, pattern: str) -> list[str]:
        """Trim spaces and slashes, drop ``.`` and let ``..`` eat the part before it (as Go's
        ``filepath.Clean``, whether or not that part exists)."""
        parts = split_path(pattern.strip())
        i = 0
        while i < len(parts):
            if parts[i] == "..":
                del parts[i]
                if i > 0:
                    del parts[i - 1]
                    i -= 1
            else:
                i += 1
        return parts

    def match(self, path: str) -> bool:
        return fnmatch(normalize_slashes(path), self.cleaned_pattern)


class PatternMatcher:
    """The patterns of a ``.dockerignore`` in order; ``.dockerignore`` itself is always kept."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = [p for p in (Pattern(text) for text in patterns) if p.dirs]
        self.patterns.append(Pattern("!.dockerignore"))

    def matches(self, path: str) -> bool:
        """Whether ``path`` (relative, ``/``-separated) is excluded: the last match decides; a
        pattern also matches when it matches a leading run of the parent directories."""
        matched = False
        parent = os.path.dirname(path)
        parent_dirs = split_path(parent)
        for pattern in self.patterns:
            hit = pattern.match(path)
            if not hit and parent and len(pattern.dirs) <= len(parent_dirs):
                hit = pattern.match("/".join(parent_dirs[: len(pattern.dirs)]))
            if hit:
                matched = not pattern.exclusion
        return matched

    def must_descend(self, directory: str) -> bool:
        """An excluded directory is still walked when a ``!`` pattern may re-include something
        under it (docker-py's test: the exception starts with the directory's path)."""
        prefix = normalize_slashes(directory)
        return any(p.exclusion and p.cleaned_pattern.startswith(prefix) for p in self.patterns)

    def walk(self, root: str) -> Iterator[str]:
        """Every path under ``root`` (relative to it) that is not excluded."""
        return _walk(root, root, self)


def parse_dockerignore(text: str) -> list[str]:
    """The patterns of a ``.dockerignore``: stripped lines, without blanks and ``#`` comments."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and line[0] != "#"]


# ---------------------------------------------------------------------- tar framing (pure)


class TarFraming:
    """The bytes around members, as :class:`tarfile.TarFile` writes them (same format, so the
    streamed tar is byte for byte the one docker-py would have written to its temp file)."""

    def __init__(self) -> None:
        self.offset = 0
        # Only its settings and inode table (hard links) are used; nothing is written to it.
        self.archive = tarfile.TarFile(fileobj=io.BytesIO(), mode="w")

    def header(self, info: tarfile.TarInfo) -> bytes:
        archive = self.archive
        block = info.tobuf(archive.format, archive.encoding, archive.errors)
        self.offset += len(block)
        return block

    def padding(self, size: int) -> bytes:
        """The zeros after ``size`` bytes of member data, up to the next block."""
        blocks, remainder = divmod(size, tarfile.BLOCKSIZE)
        fill = tarfile.BLOCKSIZE - remainder if remainder else 0
        self.offset += size + fill
        return tarfile.NUL * fill

    def end(self) -> bytes:
        """Two zero blocks, then zeros up to a whole record."""
        tail = tarfile.NUL * (tarfile.BLOCKSIZE * 2)
        self.offset += len(tail)
        remainder = self.offset % tarfile.RECORDSIZE
        if remainder:
            tail += tarfile.NUL * (tarfile.RECORDSIZE - remainder)
        return tail


def gzipped(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """A byte stream compressed as one gzip member, piece by piece."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    for piece in pieces:
        out = compressor.compress(piece)
        if out:
            yield out
    yield compressor.flush()


def _text_member(framing: TarFraming, name: str, contents: str) -> Iterator[bytes]:
    data = contents.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    yield framing.header(info)
    yield data
    yield framing.padding(len(data))


# ---------------------------------------------------------------------- the context directory
# (local filesystem reads: the walk and the member contents)


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
    return PatternMatcher(patterns).walk(root)


def exclude_paths(
    root: str, patterns: Sequence[str] | None, dockerfile: str | None = None
) -> set[str]:
    """Every path (files and directories) under ``root``, relative to it, that the patterns do
    not exclude; the Dockerfile (``dockerfile`` or ``Dockerfile``) is always kept.

    Unlike docker-py, the caller's list is left as it was (docker-py appends to it).
    """
    rules = [*(patterns or []), f"!{dockerfile or 'Dockerfile'}"]
    return set(PatternMatcher(rules).walk(root))


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
        yield from _text_member(framing, name, contents)
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
