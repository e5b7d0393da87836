"""The build context's rules: which paths ``.dockerignore`` keeps, and how a tar is framed.

The rules are docker-py's (``docker.utils.build``, itself after moby's ``fileutils``): patterns
are normalised (``.`` and ``..`` cleaned, slashes trimmed), matched case-insensitively with
``*``/``?``/``[...]`` not crossing ``/`` and ``**`` crossing any number of directories, a
pattern excluding a directory excludes what is under it, ``!`` re-includes, the last pattern
that matches wins, and ``.dockerignore`` and the Dockerfile are always sent.

Pure: the walk of a context directory and the reading of its files are in
:mod:`ctrproto.build_context`, which frames the tar with :class:`TarFraming`.
"""

from __future__ import annotations

import io
import os.path
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator

__all__ = [
    "READ_SIZE",
    "Pattern",
    "PatternMatcher",
    "TarFraming",
    "fnmatch",
    "gzipped",
    "match_tag",
    "normalize_slashes",
    "parse_dockerignore",
    "split_path",
    "text_member",
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


def text_member(framing: TarFraming, name: str, contents: str) -> Iterator[bytes]:
    data = contents.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    yield framing.header(info)
    yield data
    yield framing.padding(len(data))
