"""``docker.utils.build``: the build context's tar and ``.dockerignore`` rules.

Re-exported from :mod:`ctrproto.engine.build_context`, which holds docker-py's rules and which
``images.build`` uses, so both paths agree on what a context contains.
"""

from __future__ import annotations

from ..engine.build_context import (
    Pattern,
    PatternMatcher,
    build_file_list,
    create_archive,
    exclude_paths,
    match_tag,
    mkbuildcontext,
    normalize_slashes,
    process_dockerfile,
    split_path,
    tar,
    walk,
)

__all__ = [
    "Pattern",
    "PatternMatcher",
    "build_file_list",
    "create_archive",
    "exclude_paths",
    "match_tag",
    "mkbuildcontext",
    "normalize_slashes",
    "process_dockerfile",
    "split_path",
    "tar",
    "walk",
]
