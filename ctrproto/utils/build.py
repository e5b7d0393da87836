"""``docker.utils.build``: the build context's tar and ``.dockerignore`` rules.

Re-exported from :mod:`ctrproto.build_context` (the walk and the tar) and
:mod:`ctrproto.engine.build_rules` (the patterns), which ``images.build`` uses, so both paths
agree on what a context contains.
"""

from __future__ import annotations

from ..build_context import (
    build_file_list,
    create_archive,
    exclude_paths,
    mkbuildcontext,
    process_dockerfile,
    tar,
    walk,
)
from ..engine.build_rules import Pattern, PatternMatcher, match_tag, normalize_slashes, split_path

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
