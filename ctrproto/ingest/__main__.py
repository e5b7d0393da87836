"""``python -m ctrproto.ingest [options]`` (or ``... ingest [options]``): the ``ctrproto``
console script's ``ingest`` subcommand, usable before the script is installed."""

import sys

from .cli import main

argv = sys.argv[1:]
raise SystemExit(main(argv if argv[:1] == ["ingest"] else ["ingest", *argv]))
