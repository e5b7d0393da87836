"""Networks and volumes: docker-py 7.2's low-level methods and facade, checked against docker-py.

Most tests are differential: one scenario runs through docker-py (``docker.DockerClient``) and
through ctrproto's client of each world (sync, asyncio), and the observable results - return
types and keys, the daemon's attrs, filtered lists, prune answers, the exceptions - must be the
same.  Names, ids and subnets differ between the runs, so a scenario reports them by role
(``Roles``).  A few tests without a daemon compare the requests both libraries build.

Every network and volume gets a unique name and this module's label, and is removed when its
test ends, pass or fail; the last test checks that none is left.  The testbed runs with
``--bridge=none``: containers here sit on internal user-defined bridges, and no traffic is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import random
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import docker.types
import pytest

import ctrproto.errors
import ctrproto.types
from ctrproto import APIClient, DockerClient
from ctrproto.aio import AsyncDockerClient, AsyncNetwork, AsyncVolume
from ctrproto.engine import network_calls, volume_calls
from ctrproto.errors import Conflict, InvalidVersion, NotFound
from ctrproto.models import Container, Network, Volume

IMAGE = "busybox:latest"
RUN = uuid.uuid4().hex[:8]
#: The label every network and volume of this module carries (value: this run).
OWNER = "ctrproto.test.h3"
PREFIX = f"ctrproto-h3-{RUN}"
_serial = itertools.count(1)
#: Private subnets 10.<octet>.<n>.0/24 (the daemon's own pools are 172.17-31 and 192.168).
_OCTET = random.Random(RUN).randrange(200, 250)
_subnets = itertools.count(random.Random(RUN).randrange(1, 100))

#: Every name this module created, for the final check.
CREATED_NETWORKS: set[str] = set()
CREATED_VOLUMES: set[str] = set()


# ---------------------------------------------------------------------- the three clients


class Flavor:
    """docker-py, or ctrproto in one world: the facade client, its error and type modules,
    and a way to get plain values out of calls (awaited under asyncio)."""

    def __init__(self, name: str, host: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop() if name == "asyncio" else None
        self.client: Any
        if name == "docker-py":
            self.client = docker.DockerClient(base_url=host, timeout=60)
            self.errors: Any = docker.errors
            self.types: Any = docker.types
        else:
            cls = AsyncDockerClient if name == "asyncio" else DockerClient
            self.client = cls(base_url=host, timeout=60)
            self.errors = ctrproto.errors
            self.types = ctrproto.types

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None, f"{self.name} returned an awaitable"
            return self.loop.run_until_complete(value)
        return value

    def failure(self, thunk: Callable[[], Any]) -> tuple[str, int | None] | None:
        """What a call raised, in terms both libraries share: ``NotFound``, ``APIError`` (with
        the status) or the exception's class name; ``None`` when it did not fail."""
        try:
            self(thunk())
        except self.errors.NotFound as exc:
            return "NotFound", exc.status_code
        except self.errors.APIError as exc:
            return "APIError", exc.status_code
        except Exception as exc:  # noqa: BLE001 - the class is the observation
            return type(exc).__name__, None
        return None

    def close(self) -> None:
        self(self.client.close())
        if self.loop is not None:
            self.loop.close()


@pytest.fixture
def reference(docker_host: str) -> Iterator[Flavor]:
    flavor = Flavor("docker-py", docker_host)
    yield flavor
    flavor.close()


@pytest.fixture(params=["sync", "asyncio"])
def world(request: pytest.FixtureRequest, docker_host: str) -> Iterator[Flavor]:
    flavor = Flavor(request.param, docker_host)
    yield flavor
    flavor.close()


# ---------------------------------------------------------------------- what a test created


class Made:
    """Names for one test's networks and volumes, and the cleanup of all it created."""

    def __init__(self, test_labels: dict[str, str]) -> None:
        self.test_labels = test_labels
        self.networks: list[str] = []
        self.volumes: list[str] = []
        self.containers: list[str] = []

    def network(self, role: str) -> str:
        name = f"{PREFIX}-n{next(_serial)}-{role}"
        self.networks.append(name)
        CREATED_NETWORKS.add(name)
        return name

    def volume(self, role: str) -> str:
        name = f"{PREFIX}-v{next(_serial)}-{role}"
        self.volumes.append(name)
        CREATED_VOLUMES.add(name)
        return name

    def adopt_volume(self, name: str) -> None:
        """A volume the daemon named (create without a name)."""
        self.volumes.append(name)
        CREATED_VOLUMES.add(name)

    def labels(self, **extra: str) -> dict[str, str]:
        return {**self.test_labels, OWNER: RUN, **extra}

    def token(self) -> str:
        """A label value of one scenario run: filters on it never see the other run's objects."""
        return f"{RUN}-{next(_serial)}"

    def container(self, flavor: Flavor, command: str, **kwargs: Any) -> Any:
        """A labelled busybox of this flavor's facade (``run`` detached, or ``create``)."""
        labels = {**self.test_labels, **kwargs.pop("labels", {})}
        if kwargs.pop("create", False):
            made = flavor(flavor.client.containers.create(IMAGE, command, labels=labels, **kwargs))
        else:
            made = flavor(
                flavor.client.containers.run(IMAGE, command, detach=True, labels=labels, **kwargs)
            )
        self.containers.append(made.id)
        return made

    def cleanup(self, api: APIClient) -> None:
        for cid in self.containers:
            with contextlib.suppress(NotFound):
                api.remove_container(cid, force=True, v=True)
        for name in self.networks:
            with contextlib.suppress(NotFound):
                api.remove_network(name)
        for name in self.volumes:
            with contextlib.suppress(NotFound):
                api.remove_volume(name)


@pytest.fixture
def made(api: APIClient, test_labels: dict[str, str]) -> Iterator[Made]:
    record = Made(test_labels)
    try:
        yield record
    finally:
        record.cleanup(api)


class Roles:
    """Replaces the names, ids and subnets of one run by their roles in an observation."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def add(self, actual: str, role: str) -> str:
        self.names[actual] = role
        return actual

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            for actual in sorted(self.names, key=len, reverse=True):
                value = value.replace(actual, self.names[actual])
            return value
        if isinstance(value, dict):
            return {self(key): self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        return value


def plain_type(value: Any) -> str:
    """The class name both worlds share (``AsyncNetwork`` is the asyncio ``Network``)."""
    return type(value).__name__.removeprefix("Async")


def plain_repr(value: Any) -> str:
    return repr(value).replace("<Async", "<", 1)


def create_on_subnet(flavor: Flavor, roles: Roles, name: str, **kwargs: Any) -> tuple[Any, str]:
    """A network on a fresh /24 (``SUB.0/24``, gateway ``SUB.1``); a subnet another test holds
    ("overlaps") is skipped for the next one."""
    for _ in range(20):
        sub = f"10.{_OCTET}.{next(_subnets) % 250}"
        pool = flavor.types.IPAMPool(subnet=f"{sub}.0/24", gateway=f"{sub}.1")
        try:
            network = flavor(
                flavor.client.networks.create(
                    name, ipam=flavor.types.IPAMConfig(pool_configs=[pool]), **kwargs
                )
            )
        except flavor.errors.APIError as exc:
            if "overlap" in str(exc):
                continue
            raise
        roles.add(sub, "SUB")
        return network, sub
    raise AssertionError("no free 10.x.y.0/24 subnet found")


# ---------------------------------------------------------------------- network scenarios


def network_attrs(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    name = roles.add(made.network("attrs"), "NAME")
    net, _ = create_on_subnet(
        f,
        roles,
        name,
        driver="bridge",
        internal=True,
        attachable=True,
        labels=made.labels(role="attrs"),
        options={"com.docker.network.bridge.enable_icc": "false"},
    )
    roles.add(net.id, "ID")
    roles.add(net.short_id, "SHORT")
    attrs = net.attrs
    again = f(f.client.networks.get(name))
    low = f(f.client.api.create_network(roles.add(made.network("low"), "LOW")))
    inspected = f(f.client.api.inspect_network(low["Id"]))
    return roles(
        {
            "type": plain_type(net),
            "repr": plain_repr(net),
            "name": net.name,
            "keys": sorted(attrs),
            "fields": {
                key: attrs[key]
                for key in ("Name", "Driver", "Scope", "Internal", "Attachable", "Ingress",
                            "EnableIPv6", "Labels", "Options", "IPAM", "Containers")
            },
            "get equal": (again == net, hash(again) == hash(net)),
            "low answer": {key: type(value).__name__ for key, value in low.items()},
            "low inspect": (inspected["Id"] == low["Id"], inspected["Internal"],
                            inspected["IPAM"]["Driver"]),
        }
    )


@pytest.mark.daemon
def test_create_network_attrs(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = network_attrs(reference, made)
    assert expected["fields"]["Internal"] is True and expected["fields"]["Attachable"] is True
    assert expected["fields"]["IPAM"]["Config"] == [{"Subnet": "SUB.0/24", "Gateway": "SUB.1"}]
    assert network_attrs(world, made) == expected


def network_ipv6(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    name = roles.add(made.network("v6"), "NAME")
    suffix = f"{_OCTET:x}{next(_subnets) % 250:x}"
    pool = f.types.IPAMPool(subnet=f"fd00:{suffix}::/64")
    roles.add(suffix, "SUFFIX")
    net = f(
        f.client.networks.create(
            name, enable_ipv6=True, internal=True, labels=made.labels(),
            ipam=f.types.IPAMConfig(pool_configs=[pool]),
        )
    )
    # The daemon adds an IPv4 pool of its own choice next to the IPv6 one asked for.
    config = [pool for pool in net.attrs["IPAM"]["Config"] if ":" in pool["Subnet"]]
    return roles({"EnableIPv6": net.attrs["EnableIPv6"], "IPAM": config})


@pytest.mark.daemon
def test_create_network_ipv6(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = network_ipv6(reference, made)
    assert expected["EnableIPv6"] is True
    assert network_ipv6(world, made) == expected


def connect_disconnect(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    home = roles.add(made.network("home"), "HOME")
    f(f.client.networks.create(home, internal=True, labels=made.labels()))
    target_name = roles.add(made.network("target"), "TARGET")
    target, sub = create_on_subnet(f, roles, target_name, internal=True, labels=made.labels())
    roles.add(target.id, "TARGET_ID")
    box = made.container(f, "sleep 300", network_mode=home)
    roles.add(box.id, "CID")
    roles.add(box.short_id, "CSHORT")
    roles.add(box.name, "CNAME")
    seen: dict[str, Any] = {}

    seen["connect"] = f(target.connect(box, aliases=["alias-one"], ipv4_address=f"{sub}.5"))
    f(target.reload())
    entry = target.attrs["Containers"][box.id]
    seen["entry"] = {key: entry[key] for key in ("Name", "IPv4Address", "IPv6Address")}
    seen["entry keys"] = sorted(entry)
    members = f(target.containers)
    seen["containers"] = [(plain_type(c), c.id) for c in members]
    f(box.reload())
    endpoint = box.attrs["NetworkSettings"]["Networks"][target_name]
    seen["endpoint"] = {
        "alias": "alias-one" in endpoint["Aliases"],
        "IPAMConfig": endpoint["IPAMConfig"],
        "IPAddress": endpoint["IPAddress"],
        "NetworkID": endpoint["NetworkID"],
    }
    home_net = f(f.client.networks.get(home))
    seen["busy remove"] = f.failure(lambda: home_net.remove())
    seen["disconnect"] = f(target.disconnect(box.id))
    f(target.reload())
    seen["after disconnect"] = target.attrs["Containers"]
    # Low level, by name and id; then a forced disconnect.
    api = f.client.api
    seen["api connect"] = f(api.connect_container_to_network(box.name, target_name, aliases=["b"]))
    seen["api members"] = list(f(api.inspect_network(target.id))["Containers"])
    seen["api disconnect"] = f(
        api.disconnect_container_from_network(box.id, target.id, force=True)
    )
    seen["not connected"] = f.failure(lambda: target.disconnect(box.id))
    seen["missing network"] = f.failure(
        lambda: api.connect_container_to_network(box.id, f"{PREFIX}-missing")
    )
    seen["remove"] = f(target.remove())
    seen["removed get"] = f.failure(lambda: f.client.networks.get(target_name))
    seen["removed inspect"] = f.failure(lambda: api.inspect_network(target.id))
    seen["removed remove"] = f.failure(lambda: api.remove_network(target.id))
    return roles(seen)


@pytest.mark.daemon
def test_connect_and_disconnect(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = connect_disconnect(reference, made)
    assert expected["entry"]["IPv4Address"] == "SUB.5/24"
    assert expected["endpoint"]["IPAMConfig"] == {"IPv4Address": "SUB.5"}
    assert expected["containers"] == [("Container", "CID")]
    assert expected["busy remove"] == ("APIError", 403)
    assert expected["removed get"] == ("NotFound", 404)
    assert connect_disconnect(world, made) == expected


def network_lists(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    token = roles.add(made.token(), "TOKEN")
    first = roles.add(made.network("first"), "FIRST")
    second = roles.add(made.network("second"), "SECOND")
    n1 = f(f.client.networks.create(first, internal=True, labels=made.labels(**{"h3.list": token,
                                                                               "h3.k": "v1"})))
    n2 = f(f.client.networks.create(second, internal=True, labels=made.labels(**{"h3.list": token,
                                                                                "h3.k": "v2"})))
    roles.add(n1.id, "ID1")
    roles.add(n2.id, "ID2")
    box = made.container(f, "sleep 300", network_mode=first)
    roles.add(box.id, "CID")
    mine = {"label": f"h3.list={token}"}

    def names(found: list[Any]) -> list[str]:
        return sorted(n.name for n in found)

    nets = f.client.networks
    seen: dict[str, Any] = {
        "by names": names(f(nets.list(names=[first]))),
        "by ids": names(f(nets.list(ids=[n2.id]))),
        "by label": names(f(nets.list(filters=mine))),
        "by label value": names(f(nets.list(filters={"label": [f"h3.list={token}", "h3.k=v2"]}))),
        "by driver": names(f(nets.list(filters={**mine, "driver": "bridge"}))),
        "custom": names(f(nets.list(filters={**mine, "type": "custom"}))),
        "builtin": names(f(nets.list(filters={**mine, "type": "builtin"}))),
        "none": f(nets.list(names=[f"{PREFIX}-nothing"])),
    }
    summary = f(nets.list(names=[first]))[0]
    seen["summary"] = (plain_type(summary), summary.attrs.get("Containers"))
    greedy = f(nets.list(names=[first], greedy=True))[0]
    seen["greedy"] = list(greedy.attrs["Containers"])
    seen["greedy containers"] = [c.id for c in f(greedy.containers)]
    raw = f(f.client.api.networks(names=[first, second]))
    seen["api"] = (type(raw).__name__, sorted(item["Name"] for item in raw))
    seen["api keys"] = sorted(raw[0])
    return roles(seen)


@pytest.mark.daemon
def test_list_filters_and_greedy(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = network_lists(reference, made)
    assert expected["by names"] == ["FIRST"]
    assert expected["by label"] == ["FIRST", "SECOND"]
    assert expected["greedy"] == ["CID"] and expected["greedy containers"] == ["CID"]
    assert network_lists(world, made) == expected


def network_prune(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    token = roles.add(made.token(), "TOKEN")
    unused = roles.add(made.network("unused"), "UNUSED")
    used = roles.add(made.network("used"), "USED")
    other = roles.add(made.network("other"), "OTHER")
    for name, value in ((unused, token), (used, token), (other, f"{token}-other")):
        f(f.client.networks.create(name, internal=True, labels=made.labels(**{"h3.prune": value})))
    made.container(f, "sleep 300", network_mode=used)
    answer = f(f.client.networks.prune(filters={"label": f"h3.prune={token}"}))
    return roles(
        {
            "answer": answer,
            "unused": f.failure(lambda: f.client.networks.get(unused)),
            "used": f(f.client.networks.get(used)).name,
            "other": f(f.client.networks.get(other)).name,
            "nothing": f(f.client.api.prune_networks(filters={"label": f"h3.prune={token}-x"})),
        }
    )


@pytest.mark.daemon
def test_prune_networks_removes_only_unused_matches(
    world: Flavor, reference: Flavor, made: Made
) -> None:
    expected = network_prune(reference, made)
    assert expected["answer"] == {"NetworksDeleted": ["UNUSED"]}
    assert expected["unused"] == ("NotFound", 404)
    assert network_prune(world, made) == expected


def argument_errors(f: Flavor, made: Made) -> dict[str, Any]:
    name = made.network("never")
    api = f.client.api
    seen = {}
    for case, thunk in {
        "options": lambda: api.create_network(name, options="x"),
        "labels": lambda: f.client.networks.create(name, labels=["a=b"]),
        "driver_opt": lambda: api.connect_container_to_network("c", name, driver_opt=["x"]),
        "driver_opts": lambda: api.create_volume(name, driver_opts="x"),
        "volume labels": lambda: f.client.volumes.create(name, labels=["a=b"]),
    }.items():
        try:
            f(thunk())
        except Exception as exc:  # noqa: BLE001 - the class and text are the observation
            seen[case] = (type(exc).__name__, str(exc))
        else:
            seen[case] = None
    return seen


@pytest.mark.daemon
def test_argument_type_errors(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = argument_errors(reference, made)
    assert expected["options"] == ("TypeError", "options must be a dictionary")
    assert argument_errors(world, made) == expected


# ---------------------------------------------------------------------- volume scenarios


TMPFS = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}


def volume_attrs(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    name = roles.add(made.volume("attrs"), "NAME")
    vol = f(f.client.volumes.create(name, driver="local", driver_opts=TMPFS,
                                    labels=made.labels(role="attrs")))
    roles.add(name[:12], "SHORT")
    attrs = vol.attrs
    again = f(f.client.volumes.get(name))
    low = f(f.client.api.create_volume(roles.add(made.volume("low"), "LOW")))
    anonymous = f(f.client.volumes.create(labels=made.labels()))
    made.adopt_volume(anonymous.name)
    existing = f(f.client.api.create_volume(name, driver="local", driver_opts=TMPFS))
    return roles(
        {
            "type": plain_type(vol),
            "repr": plain_repr(vol),
            "id is name": (vol.id == name, vol.name == name, vol.short_id == name[:12]),
            "keys": sorted(attrs),
            "fields": {key: attrs[key] for key in ("Name", "Driver", "Labels", "Options", "Scope")},
            "get equal": (again == vol, hash(again) == hash(vol)),
            "low": (type(low).__name__, sorted(low), low["Labels"], low["Options"]),
            "anonymous": bool(re.fullmatch("[0-9a-f]{64}", anonymous.name)),
            "existing": existing["Name"],
            "inspect": f(f.client.api.inspect_volume(name))["Options"],
        }
    )


@pytest.mark.daemon
def test_create_volume_attrs(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = volume_attrs(reference, made)
    assert expected["fields"]["Options"] == TMPFS
    assert expected["anonymous"] is True
    assert volume_attrs(world, made) == expected


def volume_lists(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    token = roles.add(made.token(), "TOKEN")
    used = roles.add(made.volume("used"), "USED")
    free = roles.add(made.volume("free"), "FREE")
    for name in (used, free):
        f(f.client.volumes.create(name, labels=made.labels(**{"h3.vol": token})))
    made.container(f, "true", create=True, network_mode="none", volumes={used: {"bind": "/v"}})
    mine = {"label": f"h3.vol={token}"}

    def names(found: list[Any]) -> list[str]:
        return sorted(v.name for v in found)

    vols = f.client.volumes
    raw = f(f.client.api.volumes(filters=mine))
    return roles(
        {
            "by label": names(f(vols.list(filters=mine))),
            "dangling": names(f(vols.list(filters={**mine, "dangling": True}))),
            "not dangling": names(f(vols.list(filters={**mine, "dangling": False}))),
            "by name": names(f(vols.list(filters={"name": free}))),
            "types": sorted({plain_type(v) for v in f(vols.list(filters=mine))}),
            "none": f(vols.list(filters={"label": f"h3.vol={token}-x"})),
            "api": (sorted(raw), sorted(v["Name"] for v in raw["Volumes"])),
        }
    )


@pytest.mark.daemon
def test_volume_list_filters(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = volume_lists(reference, made)
    assert expected["dangling"] == ["FREE"] and expected["not dangling"] == ["USED"]
    assert volume_lists(world, made) == expected


def volume_persists(f: Flavor, made: Made) -> dict[str, Any]:
    name = made.volume("data")
    vol = f(f.client.volumes.create(name, labels=made.labels()))
    mount = {name: {"bind": "/data", "mode": "rw"}}
    labels = made.test_labels
    run = f.client.containers.run
    wrote = f(run(IMAGE, "sh -c 'echo kept > /data/file'", volumes=mount, labels=labels,
                  network_mode="none", remove=True))
    read = f(run(IMAGE, "cat /data/file", volumes=[f"{name}:/data:ro"], labels=labels,
                 network_mode="none", remove=True))
    return {"wrote": wrote, "read": read, "remove": f(vol.remove())}


@pytest.mark.daemon
def test_volume_data_persists_across_containers(
    world: Flavor, reference: Flavor, made: Made
) -> None:
    expected = volume_persists(reference, made)
    assert expected == {"wrote": b"", "read": b"kept\n", "remove": None}
    assert volume_persists(world, made) == expected


def volume_removal(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    name = roles.add(made.volume("busy"), "NAME")
    vol = f(f.client.volumes.create(name, labels=made.labels()))
    box = made.container(f, "true", create=True, network_mode="none", volumes=[f"{name}:/v"])
    roles.add(box.id, "CID")
    seen = {
        "in use": f.failure(lambda: vol.remove()),
        "in use, force": f.failure(lambda: vol.remove(force=True)),
        "api in use": f.failure(lambda: f.client.api.remove_volume(name)),
    }
    f(box.remove())
    seen["remove"] = f(vol.remove(force=True))
    seen["get"] = f.failure(lambda: f.client.volumes.get(name))
    seen["inspect"] = f.failure(lambda: f.client.api.inspect_volume(name))
    seen["again"] = f.failure(lambda: f.client.api.remove_volume(name))
    return roles(seen)


@pytest.mark.daemon
def test_volume_removal_and_errors(world: Flavor, reference: Flavor, made: Made) -> None:
    expected = volume_removal(reference, made)
    assert expected["in use"] == ("APIError", 409)
    assert expected["get"] == ("NotFound", 404)
    assert volume_removal(world, made) == expected


@pytest.mark.daemon
def test_remove_volume_force_is_sent(
    world: Flavor, reference: Flavor, made: Made
) -> None:
    """A deliberate difference: docker-py 7.2 builds ``force=true`` but never sends it (its
    ``_url`` drops the query), so the daemon's "forget a volume that is already gone" is
    unreachable there; ctrproto sends it, as documented."""
    missing = f"{PREFIX}-never-created"
    assert reference.failure(lambda: reference.client.api.remove_volume(missing, force=True)) == (
        "NotFound", 404
    )
    assert world.failure(lambda: world.client.api.remove_volume(missing, force=True)) is None
    assert world.failure(lambda: world.client.api.remove_volume(missing)) == ("NotFound", 404)


def volume_prune(f: Flavor, made: Made) -> dict[str, Any]:
    roles = Roles()
    token = roles.add(made.token(), "TOKEN")
    unused = roles.add(made.volume("unused"), "UNUSED")
    used = roles.add(made.volume("used"), "USED")
    other = roles.add(made.volume("other"), "OTHER")
    for name, value in ((unused, token), (used, token), (other, f"{token}-other")):
        f(f.client.volumes.create(name, labels=made.labels(**{"h3.prune": value})))
    made.container(f, "true", create=True, network_mode="none", volumes=[f"{used}:/v"])
    answer = f(f.client.volumes.prune(filters={"label": f"h3.prune={token}"}))
    return roles(
        {
            "keys": sorted(answer),
            "deleted": answer["VolumesDeleted"],
            "reclaimed": type(answer["SpaceReclaimed"]).__name__,
            "unused": f.failure(lambda: f.client.volumes.get(unused)),
            "used": f(f.client.volumes.get(used)).name,
            "other": f(f.client.volumes.get(other)).name,
            "nothing": f(f.client.api.prune_volumes(filters={"label": f"h3.prune={token}-x"})),
        }
    )


@pytest.mark.daemon
def test_prune_volumes_removes_only_unused_matches(
    world: Flavor, reference: Flavor, made: Made
) -> None:
    expected = volume_prune(reference, made)
    assert expected["deleted"] == ["UNUSED"]
    assert expected["unused"] == ("NotFound", 404)
    assert volume_prune(world, made) == expected


# ---------------------------------------------------------------------- ctrproto only


@pytest.mark.daemon
def test_conflicts_are_ctrproto_conflict(api: APIClient, made: Made) -> None:
    """docker-py raises a plain APIError for 409; ctrproto its subclass Conflict."""
    name = made.volume("conflict")
    api.create_volume(name, labels=made.labels())
    cid = api.create_container(IMAGE, "true", labels=made.test_labels,
                               host_config=api.create_host_config(network_mode="none",
                                                                  binds=[f"{name}:/v"]))["Id"]
    made.containers.append(cid)
    with pytest.raises(Conflict):
        api.remove_volume(name)


@pytest.mark.daemon
def test_network_models_accept_models_and_names(
    client: DockerClient, made: Made
) -> None:
    """connect/disconnect/remove take a Container, an id or a name; NetworkCollection.get a
    name or an id; the sync Network.containers is docker-py's property (a list)."""
    home = made.network("home")
    client.networks.create(home, internal=True, labels=made.labels())
    target = client.networks.create(made.network("t"), internal=True, labels=made.labels())
    box = client.containers.run(
        IMAGE, "sleep 300", detach=True, labels=made.test_labels, network_mode=home
    )
    made.containers.append(box.id)
    assert isinstance(target, Network) and isinstance(box, Container)
    target.connect(box.name)
    target.reload()
    members = target.containers
    assert isinstance(members, list) and [c.id for c in members] == [box.id]
    client.api.disconnect_container_from_network(box, target)  # models stand for their ids
    assert client.networks.get(target.id).attrs["Containers"] == {}
    assert client.networks.get(target.name) == target


# ---------------------------------------------------------------------- without a daemon


class _Recorder:
    """docker-py's APIClient with its HTTP verbs replaced: what it would send."""

    def __init__(self, version: str) -> None:
        self.client = docker.APIClient(base_url="unix:///nonexistent.sock", version=version)
        self.sent: list[tuple[str, str, Any]] = []
        for verb in ("_get", "_post", "_delete"):
            setattr(self.client, verb, self._verb(verb[1:].upper()))
        self.client._post_json = self._post_json
        self.client._result = lambda response, json=False, binary=False: None
        self.client._raise_for_status = lambda response: None

    def _verb(self, method: str) -> Callable[..., None]:
        def record(url: str, **kwargs: Any) -> None:
            url, _, query = url.partition("?")  # remove_volume puts its query in the URL
            params = dict(urllib.parse.parse_qsl(query))
            params.update(kwargs.get("params") or {})
            self.sent.append((method, _endpoint(url), _values(params)))

        return record

    def _post_json(self, url: str, data: Any, **kwargs: Any) -> None:
        body = {key: value for key, value in data.items() if value is not None}
        self.sent.append(("POST", _endpoint(url), body))

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> tuple[str, str, Any]:
        getattr(self.client, method)(*args, **kwargs)
        return self.sent.pop()


def _endpoint(url: str) -> str:
    """``http+docker://localhost/v1.41/networks/n`` -> ``/networks/n``."""
    return "/" + url.split("/v1.", 1)[1].split("/", 1)[1]


def _values(params: Any) -> dict[str, Any]:
    """Query parameters to compare: unset ones dropped, filters decoded, "True" a bool."""
    found = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if key == "filters":
            value = json.loads(value)
        elif value in ("True", "False"):
            value = value == "True"
        found[key] = value
    return found


def _ours(call: Any) -> tuple[str, str, Any]:
    payload = call.json if call.json is not None else _values(call.params)
    return call.method, call.endpoint, payload


V = "1.41"
REQUEST_CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = [
    ("networks", (), {}, network_calls.networks),
    ("networks", (["a", "b"], ["i"]), {"filters": {"label": "x=y"}}, network_calls.networks),
    ("create_network", ("n",), {}, lambda *a, **k: network_calls.create_network(V, *a, **k)),
    (
        "create_network",
        ("n", "bridge", {"o": "1"}, {"Driver": "default", "Config": []}, True, True,
         {"l": "v"}, True, False, "local", False),
        {},
        lambda *a, **k: network_calls.create_network(V, *a, **k),
    ),
    ("inspect_network", ("n",), {"verbose": True, "scope": "local"},
     lambda *a, **k: network_calls.inspect_network(V, *a, **k)),
    ("remove_network", ("n",), {}, network_calls.remove_network),
    ("prune_networks", (), {"filters": {"label": "a"}},
     lambda *a, **k: network_calls.prune_networks(V, *a, **k)),
    (
        "connect_container_to_network",
        ("c", "n"),
        {"ipv4_address": "10.0.0.5", "ipv6_address": "fd00::5", "aliases": ["x"],
         "links": {"other": "alias"}, "link_local_ips": ["169.254.1.1"], "driver_opt": {"k": "v"},
         "mac_address": "02:42:ac:11:00:02"},
        lambda *a, **k: network_calls.connect_container_to_network(V, *a, **k),
    ),
    ("connect_container_to_network", ("c", "n"), {},
     lambda *a, **k: network_calls.connect_container_to_network(V, *a, **k)),
    ("disconnect_container_from_network", ("c", "n"), {"force": True},
     lambda *a, **k: network_calls.disconnect_container_from_network(V, *a, **k)),
    ("volumes", (), {"filters": {"dangling": True}}, volume_calls.volumes),
    ("create_volume", (), {}, lambda *a, **k: volume_calls.create_volume(V, *a, **k)),
    ("create_volume", ("v", "local", {"type": "tmpfs"}, {"l": "v"}), {},
     lambda *a, **k: volume_calls.create_volume(V, *a, **k)),
    ("inspect_volume", ("v",), {}, volume_calls.inspect_volume),
    ("prune_volumes", (), {"filters": {"label": "a"}},
     lambda *a, **k: volume_calls.prune_volumes(V, *a, **k)),
    ("remove_volume", ("v",), {"force": True},
     lambda *a, **k: volume_calls.remove_volume(V, *a, **k)),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "build"), REQUEST_CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(REQUEST_CASES)],
)
def test_requests_match_docker_py(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any], build: Callable[..., Any]
) -> None:
    """The request ctrproto builds is the one docker-py sends: endpoint, query and body."""
    theirs = _Recorder(V)(method, *args, **kwargs)
    if method == "remove_volume" and kwargs.get("force"):
        # docker-py loses its force=true (see test_remove_volume_force_is_sent).
        theirs = (*theirs[:2], {"force": True})
    assert _ours(build(*args, **kwargs)) == theirs


VERSION_GATES: list[tuple[str, str, dict[str, Any], Callable[[], Any]]] = [
    ("1.22", "create_network", {"name": "n", "labels": {"a": "b"}},
     lambda: network_calls.create_network("1.22", "n", labels={"a": "b"})),
    ("1.21", "create_network", {"name": "n", "internal": True},
     lambda: network_calls.create_network("1.21", "n", internal=True)),
    ("1.29", "create_network", {"name": "n", "scope": "local"},
     lambda: network_calls.create_network("1.29", "n", scope="local")),
    ("1.27", "inspect_network", {"net_id": "n", "verbose": True},
     lambda: network_calls.inspect_network("1.27", "n", verbose=True)),
    ("1.31", "connect_container_to_network",
     {"container": "c", "net_id": "n", "driver_opt": {"a": "b"}},
     lambda: network_calls.connect_container_to_network("1.31", "c", "n", driver_opt={"a": "b"})),
    ("1.22", "create_volume", {"name": "v", "labels": {"a": "b"}},
     lambda: volume_calls.create_volume("1.22", "v", labels={"a": "b"})),
    ("1.24", "remove_volume", {"name": "v", "force": True},
     lambda: volume_calls.remove_volume("1.24", "v", force=True)),
]


@pytest.mark.parametrize(("old", "method", "kwargs", "ours"), VERSION_GATES)
def test_version_gates_match_docker_py(
    old: str, method: str, kwargs: dict[str, Any], ours: Callable[[], Any]
) -> None:
    """An option the negotiated version lacks is refused before anything is sent."""
    with pytest.raises(docker.errors.InvalidVersion):
        _Recorder(old)(method, **kwargs)
    with pytest.raises(InvalidVersion):
        ours()


def test_prune_needs_api_1_25() -> None:
    with pytest.raises(InvalidVersion):
        network_calls.prune_networks("1.24")
    with pytest.raises(InvalidVersion):
        volume_calls.prune_volumes("1.24")


def test_models_compare_and_print_as_docker_py() -> None:
    import docker.models.networks as theirs_n
    import docker.models.volumes as theirs_v

    nid = "0123456789abcdef" * 4
    for ours_cls, theirs_cls, attrs in (
        (Network, theirs_n.Network, {"Id": nid, "Name": "net"}),
        (Volume, theirs_v.Volume, {"Name": "a-rather-long-volume-name", "Driver": "local"}),
    ):
        ours, theirs = ours_cls(attrs=dict(attrs)), theirs_cls(attrs=dict(attrs))
        assert (repr(ours), ours.id, ours.short_id, ours.name) == (
            repr(theirs), theirs.id, theirs.short_id, theirs.name
        )
        assert ours == ours_cls(attrs=dict(attrs)) and ours != theirs
        assert hash(ours) == hash(theirs)  # docker-py hashes "<class name>:<id>"
    assert AsyncNetwork(attrs={"Id": nid}) != Network(attrs={"Id": nid})
    assert AsyncVolume(attrs={"Name": "v"}).id == "v"
    assert Network(attrs={}).name is None


def test_check_resource_refuses_empty_ids() -> None:
    for build in (
        lambda: network_calls.remove_network(None),
        lambda: network_calls.inspect_network(V, ""),
        lambda: network_calls.connect_container_to_network(V, None, "n"),
        lambda: volume_calls.inspect_volume(None),
    ):
        with pytest.raises(ctrproto.errors.NullResource):
            build()


# ---------------------------------------------------------------------- nothing left


@pytest.mark.daemon
def test_zz_no_network_or_volume_left(api: APIClient) -> None:
    """Runs last: every network and volume of this module was removed by its test."""
    mine = {"label": f"{OWNER}={RUN}"}
    left_networks = [n["Name"] for n in api.networks(filters=mine)]
    left_volumes = [v["Name"] for v in api.volumes(filters=mine)["Volumes"] or []]
    names = {n["Name"] for n in api.networks()} & CREATED_NETWORKS
    volumes = {v["Name"] for v in api.volumes()["Volumes"] or []} & CREATED_VOLUMES
    assert (left_networks, left_volumes, names, volumes) == ([], [], set(), set())
