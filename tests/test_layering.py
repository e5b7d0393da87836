"""The layering rule, checked on the source: nothing lower imports anything higher.

protocol <- transport <- engine <- _backends <- _async (the one source) -> _sync (generated) <-
the public shells (api, models: the sync world; aio: the asyncio world).  The sans-IO parts
(protocol, engine, types) import no sockets, threads or clocks; the written-once clients take
every world-specific call from their backend module, and never from the other world.
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
    "version": 0,
    "protocol": 1,
    "transport": 2,
    "tls": 2,
    "types": 3,
    "engine": 3,
    "constants": 3,
    "config": 4,
    "auth": 4,
    "build_context": 4,
    "utils": 4,
    "context": 4,
    "_backends": 5,
    "_async": 6,
    "_sync": 6,
    "api": 7,
    "models": 7,
    "aio": 7,
    "client": 7,
    "docker_compat": 8,
    "ingest": 8,
}
SANS_IO = ("protocol", "engine", "types")
IO_MODULES = {
    "socket", "ssl", "select", "selectors", "threading", "asyncio", "time", "paramiko",
    "concurrent",
}
#: What each world's written-once code may take from the other parts of its rank and above.
WORLDS = {"_async": "ctrproto._backends.asyncio", "_sync": "ctrproto._backends.sync"}
#: The public shells and the one package each re-exports.
SHELLS = {"api": "ctrproto._sync", "models": "ctrproto._sync", "aio": "ctrproto._async"}


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
                if not node.module or module == "ctrproto._backends":
                    found.extend(f"{module}.{alias.name}" for alias in node.names)
                    continue
            else:
                module = node.module or ""
            found.append(module)
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def _own(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _in(*parts: str) -> list[Path]:
    return [p for p in MODULES if _own(p) in parts]


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_no_upward_imports(path: Path) -> None:
    own = _own(path)
    rank = RANKS[own]
    for module in _imports(path):
        if not module.startswith("ctrproto."):
            continue
        part = _part(module)
        if part == own or part not in RANKS:
            continue
        assert RANKS[part] <= rank, f"{_id(path)} ({own}) imports {module} ({part})"


@pytest.mark.parametrize("path", _in(*SANS_IO), ids=_id)
def test_sans_io_parts_do_no_io(path: Path) -> None:
    for module in _imports(path):
        assert module.split(".")[0] not in IO_MODULES, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _in("transport"), ids=_id)
def test_transport_imports_only_protocol_and_errors(path: Path) -> None:
    for module in _imports(path):
        if module.startswith("ctrproto."):
            assert _part(module) in ("transport", "protocol", "errors"), f"{_id(path)}: {module}"


@pytest.mark.parametrize("path", _in(*WORLDS), ids=_id)
def test_each_world_uses_only_its_own_backend(path: Path) -> None:
    """The one source stays free of world-specific calls: they are its backend's; and neither
    world reaches into the other."""
    own = _own(path)
    other = next(world for world in WORLDS if world != own)
    for module in _imports(path):
        assert module.split(".")[0] not in IO_MODULES, f"{_id(path)} imports {module} itself"
        assert _part(module) != other, f"{_id(path)} imports the other world's {module}"
        if _part(module) == "_backends":
            assert module == WORLDS[own], f"{_id(path)} imports {module}"


@pytest.mark.parametrize("path", _in(*SHELLS), ids=_id)
def test_public_shells_only_re_export(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = _imports_of(path, node)
            assert module.startswith(SHELLS[_own(path)] + "."), f"{_id(path)} imports {module}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        else:
            assert isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__", (
                f"{_id(path)} line {node.lineno}: a shell holds re-exports only"
            )


def _imports_of(path: Path, node: ast.ImportFrom) -> str:
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if not node.level:
        return node.module or ""
    return ".".join(package[: len(package) - node.level + 1] + [node.module or ""])
