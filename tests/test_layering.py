"""The layering rule, checked on the source: nothing lower imports anything higher.

protocol <- transport <- api <- models <- aio; the sans-IO parts (protocol, engine, types) import no
sockets, threads or clocks, so the asyncio driver can reuse them unchanged.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ctrproto"

#: Rank of each part of the package: a module may import parts of a lower or equal rank only
#: (``types`` and ``engine`` are the sans-IO Engine API knowledge and use each other).
RANKS = {
    "errors": 0,
    "_version": 0,
    "protocol": 1,
    "types": 2,
    "engine": 2,
    "transport": 2,
    "config": 3,
    "api": 4,
    "models": 5,
    "aio": 6,
}
SANS_IO = ("protocol", "engine", "types")
IO_MODULES = {"socket", "ssl", "select", "selectors", "threading", "asyncio", "time", "paramiko"}


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                if not node.module:
                    found.extend(f"{module}.{alias.name}" for alias in node.names)
                    continue
            else:
                module = node.module or ""
            found.append(module)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_imports(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    rank = RANKS[own]
    for module in _imports(path):
        if not module.startswith("ctrproto."):
            continue
        part = _part(module)
        if part == own or part not in RANKS:
            continue
        assert RANKS[part] <= rank, f"{path.relative_to(PACKAGE)} ({own}) imports {module} ({part})"


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if p.relative_to(PACKAGE).parts[0].removesuffix(".py") in SANS_IO],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_sans_io_parts_do_no_io(path: Path) -> None:
    for module in _imports(path):
        assert module.split(".")[0] not in IO_MODULES, f"{path.name} imports {module}"
