"""The compiled demuxer is optional at build time: no Cython or no working compiler must still
produce an installable (pure-Python) package, and with both the wheel must carry the extension.

Each build runs on a copy of the source tree in ``tmp_path``, so that the in-tree ``build/`` and
``*.egg-info`` of a wheel build never land in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import setuptools

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
FALLBACK_MESSAGE = (
    "the compiled accelerators (demuxer, chunked framing, ingest hot path) could not be built"
)
COPY_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.so", "*.pyd", "*.c", "*.egg-info", "build", "dist", ".*"
)


@pytest.fixture(autouse=True)
def _cleanup(tmp_path: Path) -> Iterator[None]:
    """Builds leave tens of MB (copies, build dirs, wheels): drop them once checked."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def _source_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy2(REPO / name, src / name)
    for name in ("ctrproto", "ext"):
        shutil.copytree(REPO / name, src / name, ignore=COPY_IGNORE)
    readme = REPO / "README.md"
    if readme.exists():
        shutil.copy2(readme, src / "README.md")
    else:  # pyproject.toml names it; a placeholder is enough to build
        (src / "README.md").write_text("ctrproto\n")
    return src


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


def _build_wheel(python: Path | str, src: Path, out: Path, **env: str) -> tuple[Path, str]:
    proc = subprocess.run(
        [
            str(python),
            *("-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation"),
            *("-w", str(out), str(src)),
        ],
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    wheels = list(out.glob("ctrproto-*.whl"))
    assert len(wheels) == 1, (wheels, log[-3000:])
    return wheels[0], log


def _contents(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def _assert_pure(wheel: Path) -> None:
    names = _contents(wheel)
    assert "ctrproto/protocol/demux_py.py" in names
    assert "ctrproto/protocol/demux.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))], names


@pytest.fixture(scope="module")
def cythonless_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with setuptools and wheel only (same setuptools as the test runner)."""
    venv = tmp_path_factory.mktemp("venv-no-cython")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [
            str(python),
            *("-m", "pip", "install", "-q"),
            f"setuptools=={setuptools.__version__}",
            "wheel",
        ],
        env=_clean_env(),
        check=True,
        timeout=600,
    )
    probe = subprocess.run([str(python), "-c", "import Cython"], capture_output=True)
    assert probe.returncode != 0, "the build venv must not have Cython"
    yield python
    shutil.rmtree(venv, ignore_errors=True)


def test_wheel_without_cython_is_pure_python(cythonless_python: Path, tmp_path: Path) -> None:
    wheel, log = _build_wheel(cythonless_python, _source_copy(tmp_path), tmp_path / "out")
    _assert_pure(wheel)
    assert FALLBACK_MESSAGE in log
    assert "Cython is not available" in log
    assert wheel.name.endswith("-py3-none-any.whl")


def test_wheel_with_a_failing_compiler_is_pure_python(tmp_path: Path) -> None:
    pytest.importorskip("Cython")
    wheel, log = _build_wheel(
        sys.executable, _source_copy(tmp_path), tmp_path / "out", CC="/bin/false"
    )
    _assert_pure(wheel)
    assert FALLBACK_MESSAGE in log


def test_wheel_with_cython_carries_the_extension(tmp_path: Path) -> None:
    pytest.importorskip("Cython")
    wheel, _ = _build_wheel(sys.executable, _source_copy(tmp_path), tmp_path / "out")
    for module in ("protocol/_demux", "protocol/_chunked", "ingest/_hotpath"):
        built = [n for n in _contents(wheel) if n.startswith(f"ctrproto/{module}.")]
        assert built and built[0].endswith((".so", ".pyd")), _contents(wheel)
