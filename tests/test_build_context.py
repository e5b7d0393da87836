"""The build context, differentially against docker-py's ``docker.utils.build``: the same paths
kept for tricky ``.dockerignore`` patterns, the same tar members (byte for byte), streamed in
bounded pieces.  No daemon: these are files on disk and tars in memory."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from docker.utils import build as reference

from ctrproto import build_context
from ctrproto.engine import build_rules

FILES = [
    "Dockerfile",
    "Dockerfile.alt",
    "README.md",
    "Notes.MD",
    "main.py",
    "main.pyc",
    "src/app.py",
    "src/app.pyc",
    "src/deep/er/mod.py",
    "src/deep/er/data.log",
    "src/keep.log",
    "logs/a.log",
    "logs/keep/b.log",
    "node_modules/pkg/index.js",
    "node_modules/pkg/important.txt",
    "build/out.bin",
    "docs/guide/index.html",
    "docs/guide/.hidden",
    "weird [name].txt",
    "x?y.txt",
    ".git/config",
    ".env",
    "a/b/c/d/e.txt",
]

PATTERN_SETS = {
    "none": [],
    "globs": ["*.pyc", "**/*.pyc", "*.log"],
    "double-star": ["**/*.log", "!src/keep.log"],
    "dir-and-exception": ["node_modules", "!node_modules/pkg/important.txt"],
    "exception-under-excluded-dir": ["logs", "!logs/keep"],
    "case-insensitive": ["*.md", "readme.MD"],
    "dot-dot-and-slashes": ["./build/", "src/../main.py", "/.git", "a/b/../b/c/"],
    "excluded-dockerfile-kept": ["Dockerfile", "Dockerfile.alt", "*"],
    "everything-but": ["*", "!src", "!docs/**/index.html"],
    "char-classes": ["[xy]?y.txt", "weird [[]name].txt", "src/[!a]*"],
    "trailing-double-star": ["docs/**", "!docs/guide"],
    "dotfiles": [".*", "!.env"],
    "ignore-the-ignore": [".dockerignore", "**"],
    "question": ["?ain.py", "src/deep/??/*"],
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    for name in FILES:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f"contents of {name}\n".encode())
    (root / "empty-dir").mkdir()
    (root / "src" / "link").symlink_to("deep")
    os.link(root / "main.py", root / "hardlink.py")
    return root


def _write_ignore(root: Path, patterns: list[str]) -> None:
    (root / ".dockerignore").write_text("# a comment\n\n" + "\n".join(patterns) + "\n")


def _read(fileobj: IO[bytes]) -> bytes:
    """The whole tar of a file docker-py's way returns, and the (temp) file closed."""
    with fileobj:
        return fileobj.read()


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return archive.getnames()


@pytest.mark.parametrize("name", sorted(PATTERN_SETS))
def test_exclude_paths_as_docker_py(tree: Path, name: str) -> None:
    patterns = PATTERN_SETS[name]
    _write_ignore(tree, patterns)
    parsed = build_context.read_dockerignore(str(tree))
    assert parsed == patterns
    expected = reference.exclude_paths(str(tree), list(patterns))
    assert build_context.exclude_paths(str(tree), patterns) == expected
    for dockerfile in ("Dockerfile.alt", "src/app.py"):
        assert build_context.exclude_paths(
            str(tree), patterns, dockerfile=dockerfile
        ) == reference.exclude_paths(str(tree), list(patterns), dockerfile=dockerfile)


@pytest.mark.parametrize("name", sorted(PATTERN_SETS))
def test_tar_is_docker_pys_tar(tree: Path, name: str) -> None:
    patterns = PATTERN_SETS[name]
    _write_ignore(tree, patterns)
    expected = _read(reference.tar(str(tree), exclude=list(patterns)))
    got = _read(build_context.tar(str(tree), exclude=list(patterns)))
    assert _names(got) == _names(expected)
    assert got == expected  # same headers, same order, same padding


def test_the_pattern_sets_do_exclude_something(tree: Path) -> None:
    """The differential tests above would pass for a matcher that keeps everything if docker-py
    did too: pin a few outcomes."""
    _write_ignore(tree, PATTERN_SETS["exception-under-excluded-dir"])
    kept = build_context.exclude_paths(str(tree), PATTERN_SETS["exception-under-excluded-dir"])
    assert "logs/a.log" not in kept and "logs/keep/b.log" in kept
    kept = build_context.exclude_paths(str(tree), PATTERN_SETS["excluded-dockerfile-kept"])
    assert kept == {"Dockerfile", ".dockerignore"}
    kept = build_context.exclude_paths(str(tree), PATTERN_SETS["case-insensitive"])
    assert "README.md" not in kept and "Notes.MD" not in kept and "main.py" in kept


def test_dockerfile_outside_the_context(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.Dockerfile"
    outside.write_text("FROM busybox:latest\n")
    name, contents = build_context.process_dockerfile(str(outside), str(tree))
    assert name is not None and name.startswith(".dockerfile.") and contents == outside.read_text()
    patterns = ["*.log"]
    expected = reference.tar(str(tree), exclude=list(patterns), dockerfile=(name, contents))
    got = build_context.tar(str(tree), exclude=list(patterns), dockerfile=(name, contents))
    assert _read(got) == _read(expected)
    inside = build_context.process_dockerfile("Dockerfile.alt", str(tree))
    assert inside == reference_process(str(tree), "Dockerfile.alt") == ("Dockerfile.alt", None)
    absolute = build_context.process_dockerfile(str(tree / "src" / "app.py"), str(tree))
    assert absolute == ("src/app.py", None)


def reference_process(root: str, dockerfile: str) -> tuple[str | None, str | None]:
    from docker.api.build import process_dockerfile

    result: tuple[str | None, str | None] = process_dockerfile(dockerfile, root)
    return result


def test_gzip_context_has_the_same_members(tree: Path) -> None:
    plain = _read(build_context.tar(str(tree), exclude=["*.pyc"]))
    compressed = _read(build_context.tar(str(tree), exclude=["*.pyc"], gzip=True))
    assert compressed[:2] == b"\x1f\x8b"
    assert _names(compressed) == _names(plain)


def test_tar_writes_into_a_given_file(tree: Path) -> None:
    target = io.BytesIO()
    result = build_context.tar(str(tree), fileobj=target)
    assert result is target and target.tell() == 0
    assert _names(target.read()) == _names(_read(reference.tar(str(tree))))


def test_the_stream_reads_big_files_in_bounded_pieces(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM busybox:latest\n")
    size = 5 * build_rules.READ_SIZE + 123
    (root / "blob").write_bytes(os.urandom(size))
    pieces: Iterator[bytes] = build_context.tar_stream(str(root))
    largest = 0
    total = bytearray()
    for piece in pieces:
        largest = max(largest, len(piece))
        total += piece
    assert largest <= build_rules.READ_SIZE
    assert bytes(total) == _read(reference.tar(str(root)))


def test_a_file_that_shrinks_while_read_is_an_oserror(tmp_path: Path) -> None:
    root = tmp_path / "shrink"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM busybox:latest\n")
    victim = root / "victim"
    victim.write_bytes(b"x" * 1000)
    stream = build_context.tar_stream(str(root))
    for piece in stream:  # up to the victim's header: its size is known from then on
        if b"victim\0" in piece:
            break
    else:
        pytest.fail("no header for the victim")
    victim.write_bytes(b"")
    with pytest.raises(OSError, match="Can not read file in context"):
        for _ in stream:
            pass


def test_mkbuildcontext_as_docker_py(tmp_path: Path) -> None:
    text = b"FROM busybox:latest\nRUN true\n"
    assert _read(build_context.mkbuildcontext(io.BytesIO(text))) == (
        _read(reference.mkbuildcontext(io.BytesIO(text)))
    )
    path = tmp_path / "Dockerfile"
    path.write_bytes(text)
    with open(path, "rb") as a, open(path, "rb") as b:
        assert _read(build_context.mkbuildcontext(a)) == _read(reference.mkbuildcontext(b))
    with pytest.raises(TypeError):
        build_context.mkbuildcontext(io.StringIO("FROM busybox"))


@pytest.mark.parametrize(
    "tag",
    ["busybox", "busybox:latest", "localhost:5000/a/b:v1.2", "Upper", "a:", "a b", "x/y:-bad"],
)
def test_match_tag_as_docker_py(tag: str) -> None:
    assert build_rules.match_tag(tag) == reference.match_tag(tag)


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("a/b/c.txt", "**/*.txt"),
        ("c.txt", "**/*.txt"),
        ("a/b", "a/*"),
        ("a/b/c", "a/*"),
        ("abc", "a?c"),
        ("a/c", "a?c"),
        ("x", "[!a-c]"),
        ("b", "[!a-c]"),
        ("[", "["),
        ("A.TXT", "*.txt"),
        ("docs/x", "docs/**"),
    ],
)
def test_fnmatch_as_docker_py(path: str, pattern: str) -> None:
    from docker.utils.fnmatch import fnmatch

    assert build_rules.fnmatch(path, pattern) == fnmatch(path, pattern)
