"""Build of the optional compiled accelerators; all other metadata is in pyproject.toml.

The extension is an accelerator, never a requirement: when Cython cannot be imported, or the C
compiler is missing or fails, the install still succeeds with the pure-Python twin
(``ctrproto.protocol.demux_py``) and a warning says so.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)
#: Compiled accelerators: (module, source).  Each has a pure-Python twin that serves without it.
EXTENSIONS = [
    ("ctrproto.protocol._demux", os.path.join("ext", "_demux.pyx")),
    ("ctrproto.protocol._chunked", os.path.join("ext", "_chunked.pyx")),
    ("ctrproto.ingest._hotpath", os.path.join("ext", "_hotpath.pyx")),
]


def _warn(reason: object) -> None:
    bar = "*" * 75
    print(
        f"\n{bar}\nWARNING: the compiled accelerators (demuxer, chunked framing, ingest "
        "hot path) could not be "
        "built:\n"
        f"  {reason}\nctrproto is installed with their pure-Python twins instead "
        f"(same behaviour, slower).\n{bar}\n",
        file=sys.stderr,
    )


class OptionalBuildExt(build_ext):
    """A build_ext whose failure downgrades the install to pure Python instead of aborting it."""

    def run(self) -> None:
        try:
            super().run()
        except BUILD_ERRORS as exc:
            _warn(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            _warn(exc)


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        _warn(f"Cython is not available ({exc})")
        return []
    extra = [] if sys.platform == "win32" else ["-O2"]
    # optional=True also makes an editable install skip copying a .so that was not built.
    built = []
    for name, source in EXTENSIONS:
        ext = Extension(name, [source], extra_compile_args=extra, optional=True)
        try:
            # The generated C goes to build/, not next to the .pyx in the source tree.  One
            # module failing to compile must not take the others down with it.
            built.extend(cythonize([ext], build_dir="build", language_level=3, quiet=True))
        except Exception as exc:  # a Cython compile error must not break the install either
            _warn(f"cythonize failed for {name} ({exc})")
    return built


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
