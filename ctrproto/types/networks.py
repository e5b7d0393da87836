"""Network attachment and IPAM types (docker-py's ``docker.types.networks``).

``EndpointConfig`` (how a container joins one network), ``NetworkingConfig`` (the create body's
``NetworkingConfig``), ``IPAMConfig`` and ``IPAMPool`` (a network's address management, for
``create_network(ipam=...)``).  Each is a ``dict`` already holding the Engine's JSON keys.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any, Mapping, Sequence

from ctrproto.errors import InvalidArgument, InvalidVersion

__all__ = ["EndpointConfig", "IPAMConfig", "IPAMPool", "NetworkingConfig", "normalize_links"]


class EndpointConfig(dict[str, Any]):
    """How the container attaches to one network (a value of ``networking_config``).

    Like docker-py's, it takes the negotiated API version first (a string such as ``"1.41"``)
    and refuses the options that version lacks.  The version is compared as docker-py compares
    it, as a dotted tuple of integers of any length: testcontainers passes docker-py's *package*
    version (``"7.2.0"``), which must keep working.  A version that is not such a string
    (``None``, ``"auto"``, a float) raises :class:`~ctrproto.errors.InvalidVersion`, where
    docker-py fails with an ``AttributeError`` or ``ValueError`` from its parser: refused in both,
    but here with a message saying what is expected.
    """

    def __init__(
        self,
        version: str,
        aliases: list[str] | None = None,
        links: Mapping[str, str | None] | Sequence[Any] | None = None,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        link_local_ips: list[str] | None = None,
        driver_opt: Mapping[str, str] | None = None,
        mac_address: str | None = None,
    ) -> None:
        if not isinstance(version, str):
            # docker-py fails here with an AttributeError; say what is wanted instead.
            raise InvalidVersion(
                f"EndpointConfig needs the negotiated API version as a string such as '1.41', "
                f"got {version!r} (APIClient.create_endpoint_config() passes it)"
            )

        def needs(option: str, minimum: str) -> None:
            if _dotted_lt(version, minimum):
                raise InvalidVersion(
                    f"{option} needs API version {minimum} or later "
                    f"(the negotiated version is {version})"
                )

        needs("EndpointConfig", "1.22")
        if aliases:
            self["Aliases"] = list(aliases)
        if links:
            self["Links"] = normalize_links(links)
        ipam: dict[str, Any] = {}
        if ipv4_address:
            ipam["IPv4Address"] = ipv4_address
        if ipv6_address:
            ipam["IPv6Address"] = ipv6_address
        if mac_address:
            needs("mac_address", "1.25")
            self["MacAddress"] = mac_address
        if link_local_ips is not None:
            needs("link_local_ips", "1.24")
            ipam["LinkLocalIPs"] = list(link_local_ips)
        if ipam:
            self["IPAMConfig"] = ipam
        if driver_opt:
            needs("driver_opt", "1.32")
            if not isinstance(driver_opt, Mapping):
                raise InvalidArgument(
                    f"EndpointConfig.driver_opt must be a dict, got {driver_opt!r}"
                )
            self["DriverOpts"] = dict(driver_opt)


def _dotted(version: str) -> tuple[int, ...]:
    text = version[1:] if version.startswith("v") else version
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        raise InvalidVersion(
            f"invalid API version {version!r}: expected a dotted number such as '1.41'"
        ) from None


def _dotted_lt(version: str, minimum: str) -> bool:
    """docker-py's ``version_lt``: integer parts compared in order, the shorter padded with 0."""
    for mine, theirs in zip_longest(_dotted(version), _dotted(minimum), fillvalue=0):
        if mine != theirs:
            return mine < theirs
    return False


def normalize_links(links: Mapping[str, str | None] | Sequence[Any]) -> list[str]:
    """``{'name': 'alias'}`` or ``[('name', 'alias')]`` → sorted ``["name:alias"]``.

    An empty alias keeps the bare name; a ready-made ``"name:alias"`` string is kept as is.
    """
    pairs: list[tuple[str, str | None]] = []
    items = links.items() if isinstance(links, Mapping) else links
    for item in items:
        if isinstance(item, str):
            name, _, alias = item.partition(":")
            pairs.append((name, alias or None))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append((str(item[0]), None if item[1] is None else str(item[1])))
        else:
            raise InvalidArgument(
                f"links must map container names to aliases, got the entry {item!r}"
            )
    return [f"{name}:{alias}" if alias else name for name, alias in sorted(pairs, key=_link_key)]


def _link_key(pair: tuple[str, str | None]) -> tuple[str, str]:
    return pair[0], pair[1] or ""


class NetworkingConfig(dict[str, Any]):
    """The create body's ``NetworkingConfig``: network name -> :class:`EndpointConfig`.

    As in docker-py, an empty or missing mapping leaves the dict empty (no ``EndpointsConfig``).
    """

    def __init__(self, endpoints_config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        if endpoints_config:
            if not isinstance(endpoints_config, Mapping):
                raise InvalidArgument(
                    f"NetworkingConfig.endpoints_config must be a dict, got {endpoints_config!r}"
                )
            self["EndpointsConfig"] = dict(endpoints_config)


class IPAMConfig(dict[str, Any]):
    """A network's ``IPAM`` section: the IPAM driver, its address pools and options.

    Holds ``Driver`` and ``Config`` (the list of :class:`IPAMPool`, ``[]`` when none are given)
    always, and ``Options`` only when options are given, as docker-py's does.
    """

    def __init__(
        self,
        driver: str = "default",
        pool_configs: Sequence[Mapping[str, Any]] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self["Driver"] = driver
        self["Config"] = list(pool_configs) if pool_configs else []
        if options:
            if not isinstance(options, Mapping):
                raise InvalidArgument(f"IPAMConfig.options must be a dict, got {options!r}")
            self["Options"] = dict(options)

    @property
    def driver(self) -> str:
        return self["Driver"]  # type: ignore[no-any-return]

    @property
    def pool_configs(self) -> list[Mapping[str, Any]]:
        return self["Config"]  # type: ignore[no-any-return]

    @property
    def options(self) -> dict[str, str] | None:
        return self.get("Options")


class IPAMPool(dict[str, Any]):
    """One address pool of an :class:`IPAMConfig`: subnet, range, gateway, reserved addresses.

    All four keys are always present (``None`` when not given), as with docker-py; the daemon
    treats a null field as unset.
    """

    def __init__(
        self,
        subnet: str | None = None,
        iprange: str | None = None,
        gateway: str | None = None,
        aux_addresses: Mapping[str, str] | None = None,
    ) -> None:
        if aux_addresses is not None and not isinstance(aux_addresses, Mapping):
            raise InvalidArgument(f"IPAMPool.aux_addresses must be a dict, got {aux_addresses!r}")
        super().__init__(
            Subnet=subnet,
            IPRange=iprange,
            Gateway=gateway,
            AuxiliaryAddresses=None if aux_addresses is None else dict(aux_addresses),
        )

    @property
    def subnet(self) -> str | None:
        return self["Subnet"]  # type: ignore[no-any-return]

    @property
    def iprange(self) -> str | None:
        return self["IPRange"]  # type: ignore[no-any-return]

    @property
    def gateway(self) -> str | None:
        return self["Gateway"]  # type: ignore[no-any-return]

    @property
    def aux_addresses(self) -> dict[str, str] | None:
        return self["AuxiliaryAddresses"]  # type: ignore[no-any-return]
