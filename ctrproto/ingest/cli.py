"""The ``ctrproto`` console script: ``ctrproto ingest [options]`` (also ``python -m
ctrproto.ingest [options]``).

Exit status: 0 after a clean stop (SIGTERM/SIGINT: everything read is written and committed),
2 for bad input (one line on stderr naming the problem), 1 when the output or the state fails
(nothing after the last commit counts as delivered; the next run reads it again).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from ..errors import DockerException
from .nats_sink import DEFAULT_STREAM as DEFAULT_NATS_STREAM
from .nats_sink import NatsSink, NatsSinkError
from .nats_state import NatsStateStore
from .runner import client_for, ingest_sync
from .shard import GROUP_NAME
from .sinks import FileSink, Sink, StdoutSink
from .state import StateError, StateStore

PROG = "ctrproto"
DEFAULT_STATE = "ctrproto-ingest.db"
#: The cyclic collector's first-generation threshold in the ingester process (default 700).
GC_THRESHOLD = 50_000


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (``ctrproto ingest: <problem>``) and status 2."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{self.prog}: {message}")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    raise SystemExit(2)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _group(text: str) -> str:
    if not GROUP_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"a group name is made of [A-Za-z0-9_-]: {text!r}")
    return text


def _filter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (label=app=web, name=web): {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog=PROG, description="ctrproto command line tools")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    sub = commands.add_parser(
        "ingest",
        help="follow container logs into JSON lines, each line exactly once",
        description="Follow the logs of every matching container on every host into JSON "
        "lines, resuming after a restart without loss or duplicates.",
    )
    sub.add_argument(
        "--host", action="append", default=[], metavar="URL",
        help="daemon address, repeatable (unix://, tcp://, ssh://; default: DOCKER_HOST or the "
        "current context, as from_env())",
    )
    sub.add_argument(
        "--filter", action="append", default=[], type=_filter, metavar="KEY=VALUE",
        help="container filter, repeatable (label=app=web, label=k, name=web, status=running)",
    )
    sub.add_argument(
        "--state", default=DEFAULT_STATE, metavar="PATH|nats://HOST:PORT/BUCKET",
        help=f"SQLite file holding the cursors (default: {DEFAULT_STATE}), or "
        "nats://HOST:PORT/BUCKET: a JetStream key-value bucket (with a nats:// or - output)",
    )
    sub.add_argument(
        "--output", default="-", metavar="PATH|-|nats://HOST:PORT/PREFIX",
        help="JSONL file, - for stdout (default), or NATS JetStream (pip install ctrproto[nats])",
    )
    sub.add_argument(
        "--nats-stream", default=DEFAULT_NATS_STREAM, metavar="NAME",
        help=f"the JetStream stream of a nats:// output (default: {DEFAULT_NATS_STREAM}; "
        "created with the subjects PREFIX.> when absent)",
    )
    sub.add_argument(
        "--from", dest="from_", choices=("start", "now"), default="start",
        help="where a container never seen before starts (default: start)",
    )
    sub.add_argument(
        "--max-line-bytes", type=_positive_int, default=1 << 20, metavar="N",
        help="longer lines are cut into records marked partial (default: 1 MiB)",
    )
    sub.add_argument(
        "--shard-group", type=_group, default=None, metavar="NAME",
        help="share the --host list with the other ingesters of group NAME (same hosts, same "
        "nats:// --state, a nats:// --output): each host read by one of them at a time",
    )
    sub.add_argument(
        "--lease-ttl", type=_positive_float, default=10.0, metavar="S",
        help="a shard group's lease time: a stopped ingester's hosts are taken over within "
        "about S seconds (default: 10)",
    )
    sub.add_argument("--labels", action="store_true", help="add each container's labels")
    sub.add_argument(
        "--stats-interval", type=_positive_float, default=None, metavar="S",
        help="print a stats line on stderr every S seconds",
    )
    sub.add_argument("--stats-json", action="store_true", help="stats lines as JSON objects")
    sub.add_argument("-v", "--verbose", action="store_true", help="log reconnects on stderr")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="ctrproto ingest: %(asctime)s.%(msecs)03dZ %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    for handler in logging.getLogger().handlers:  # UTC, as the daemons' timestamps
        if handler.formatter is not None:
            handler.formatter.converter = time.gmtime
    filters: dict[str, list[str]] = {}
    for key, value in args.filter:
        filters.setdefault(key, []).append(value)
    hosts: list[str | None] = list(args.host) or [None]
    for host in hosts:  # a bad address is bad input, said before anything is opened
        try:
            client_for(host).close()
        except DockerException as exc:
            _fail(f"ctrproto ingest: --host {host!r}: {exc}")
    if args.shard_group is not None and not (
        args.state.startswith("nats://") and args.output.startswith("nats://")
    ):
        _fail(
            "ctrproto ingest: --shard-group needs a nats:// --state (the group's cursors and "
            "leases) and a nats:// --output (its de-duplication makes a handover exactly once)"
        )
    if args.nats_stream != DEFAULT_NATS_STREAM and not args.output.startswith("nats://"):
        _fail("ctrproto ingest: --nats-stream is for a nats:// --output")
    if args.state.startswith("nats://"):
        if args.output != "-" and not args.output.startswith("nats://"):
            _fail(
                "ctrproto ingest: a nats:// --state cannot keep a file output's length with "
                "its cursors: use a nats:// or - --output, or an SQLite --state"
            )
        try:
            nats_state = NatsStateStore(args.state)
        except StateError as exc:
            _fail(f"ctrproto ingest: --state {args.state!r}: {exc}")
        return _run(args, hosts, filters, nats_state)
    try:
        state = StateStore(args.state)
    except Exception as exc:  # noqa: BLE001 - sqlite3 and StateError: one line either way
        _fail(f"ctrproto ingest: --state {args.state!r}: {exc}")
    return _run(args, hosts, filters, state)


def _run(
    args: argparse.Namespace,
    hosts: list[str | None],
    filters: dict[str, list[str]],
    state: StateStore | NatsStateStore,
) -> int:
    try:
        sink: Sink
        if args.output == "-":
            sink = StdoutSink()
        elif args.output.startswith("nats://"):
            try:
                sink = NatsSink(args.output, stream=args.nats_stream)
            except NatsSinkError as exc:
                _fail(f"ctrproto ingest: --output {args.output!r}: {exc}")
        else:
            assert isinstance(state, StateStore)  # main() refuses a file with a NATS state
            try:
                state.bind_output(args.output)
                sink = FileSink(args.output, state.load().committed_length)
            except (OSError, DockerException) as exc:
                _fail(f"ctrproto ingest: --output {args.output!r}: {exc}")
        # Every line is a few short-lived tuples, all acyclic; at the default threshold (700
        # allocations) the cyclic collector runs thousands of times a second over them (~9% of
        # the CPU, measured with perf).  This process is ours: collect far less often.
        gc.set_threshold(GC_THRESHOLD, 50, 100)
        try:
            ingest_sync(
                hosts, filters, sink, state, from_=args.from_,
                max_line_bytes=args.max_line_bytes, labels=args.labels,
                stats_interval=args.stats_interval, stats_json=args.stats_json,
                shard_group=args.shard_group, lease_ttl=args.lease_ttl,
            )
        except (OSError, DockerException) as exc:
            sys.stderr.write(f"ctrproto ingest: {exc}\n")
            return 1
    finally:
        state.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
