"""``docker.utils.ports``: the CLI's ``-p`` syntax, ``[[ip:]host[-host]:]port[-port][/proto]``.

``split_port`` gives (container ports, host side) as docker-py does; ``build_port_bindings``
groups a list of such specs into the ``ports=`` mapping ``create()`` takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

__all__ = ["PORT_SPEC", "add_port", "add_port_mapping", "build_port_bindings", "split_port"]

PORT_SPEC = re.compile(
    r"^((\[?(?P<host>[a-fA-F\d.:]+)\]?:)?(?P<ext>[\d]*)(-(?P<ext_end>[\d]+))?:)?"
    r"(?P<int>[\d]+)(-(?P<int_end>[\d]+))?(?P<proto>/(udp|tcp|sctp))?$"
)


def add_port_mapping(
    port_bindings: dict[str, list[Any]], internal_port: str, external: Any
) -> None:
    port_bindings.setdefault(internal_port, []).append(external)


def add_port(
    port_bindings: dict[str, list[Any]], internal_range: list[str], external_range: Any
) -> None:
    if external_range is None:
        for port in internal_range:
            add_port_mapping(port_bindings, port, None)
        return
    for port, external in zip(internal_range, external_range, strict=False):
        add_port_mapping(port_bindings, port, external)


def build_port_bindings(ports: Iterable[Any]) -> dict[str, list[Any]]:
    bindings: dict[str, list[Any]] = {}
    for port in ports:
        internal, external = split_port(port)
        add_port(bindings, internal, external)
    return bindings


def _invalid(port: str) -> NoReturn:
    raise ValueError(
        f'Invalid port "{port}", should be [[remote_ip:]remote_port[-remote_port]:]port[/protocol]'
    )


def port_range(start: str | None, end: str | None, proto: str, random: bool = False) -> Any:
    if not start:
        return start
    if not end:
        return [start + proto]
    if random:
        return [f"{start}-{end}{proto}"]
    return [f"{port}{proto}" for port in range(int(start), int(end) + 1)]


def split_port(port: Any) -> tuple[list[str], Any]:
    """``"127.0.0.1:8000-8001:80-81/udp"`` -> ``(["80/udp", "81/udp"], [(ip, "8000"), ...])``."""
    if hasattr(port, "legacy_repr"):
        port = port.legacy_repr()
    text = str(port)
    match = PORT_SPEC.match(text)
    if match is None:
        _invalid(text)
    parts = match.groupdict()
    host = parts["host"]
    proto = parts["proto"] or ""
    internal: list[str] = port_range(parts["int"], parts["int_end"], proto)
    external = port_range(parts["ext"], parts["ext_end"], "", len(internal) == 1)
    if host is None:
        if external is not None and len(internal) != len(external):
            raise ValueError("Port ranges don't match in length")
        return internal, external
    if not external:
        external = [None] * len(internal)
    elif len(internal) != len(external):
        raise ValueError("Port ranges don't match in length")
    return internal, [(host, ext) for ext in external]
