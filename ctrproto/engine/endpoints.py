"""Engine API endpoints as data: what a call sends and how its answer is read, without I/O.

The sync :class:`~ctrproto.api.APIClient` and the asyncio
:class:`~ctrproto.aio.AsyncAPIClient` both build their requests here and only *perform* them, so
argument checks, version requirements, query encoding, timeouts and result shaping exist once and
the two clients cannot drift apart.  A builder returns a :class:`Call`; the client sends it with
its own driver and reads the body the way the method documents (JSON, text, a stream ...).
"""

from __future__ import annotations

import base64
import binascii
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from ..errors import DeprecatedMethod, InvalidArgument, InvalidVersion, NullResource, ProtocolError
from ..protocol.request import QueryValue, path
from .pulls import split_repository_tag
from .utils import convert_filters, format_timestamp, parse_bytes
from .versions import version_lt

#: The daemon's own default grace period before it kills a container on stop/restart.
DEFAULT_STOP_GRACE = 10
#: The response header of the archive endpoints carrying the stat of the path (base64 JSON).
STAT_HEADER = "x-docker-container-path-stat"


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: Marks "use the client's timeout" where ``None`` already means "wait forever".
DEFAULT: Any = _Default()


T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to perform, plus the reading rules its client method promises.

    ``timeout`` bounds connecting and the response head (``DEFAULT``: the client's); ``grace``
    instead asks for the client's timeout *plus* this many seconds (stop: the daemon waits that
    long before it kills), or no limit when the client has none.  ``stream_timeout`` bounds each
    body read afterwards (``None`` for streams that follow a live container).  ``shape`` turns the
    decoded JSON answer into what the method returns.  ``streamed_body`` says the caller sends a
    body of its own, piece by piece (chunked); ``ok_status`` is for methods that answer "did it
    work" from the status alone (see :meth:`succeeded`).
    """

    method: str
    endpoint: str
    params: Mapping[str, QueryValue] | None = None
    json: Any = None
    headers: Mapping[str, str] | None = None
    versioned: bool = True
    image_request: bool = False
    timeout: Any = DEFAULT
    grace: float | None = None
    stream_timeout: Any = DEFAULT
    shape: Callable[[Any], T] | None = None
    streamed_body: bool = False
    ok_status: int | None = None

    def request_timeout(self, client_timeout: float | None) -> Any:
        if self.grace is None:
            return self.timeout
        return None if client_timeout is None else client_timeout + self.grace

    def result(self, decoded: Any) -> T:
        """What the client method returns for the decoded JSON answer: ``T`` is the type the
        builder declares (``Call[dict[str, Any]]`` ...), so callers need no annotation of
        their own."""
        return cast(T, decoded) if self.shape is None else self.shape(decoded)

    def succeeded(self, status: int) -> bool:
        """For ``ok_status`` calls: whether the (non-error) status is the one meaning success."""
        return status == self.ok_status


def check_resource(value: Any, what: str = "resource id") -> str:
    """Accept an id/name string or an object with ``.id`` (as docker-py's models)."""
    if isinstance(value, dict):
        value = value.get("Id") or value.get("id")
    elif hasattr(value, "id"):
        value = value.id
    if not value or not isinstance(value, str):
        raise NullResource(f"{what} was not specified")
    return value


def require_version(api_version: str, needed: str, feature: str) -> None:
    if version_lt(api_version, needed):
        raise InvalidVersion(
            f"{feature} needs API {needed} or newer; this client negotiated {api_version}"
        )


# ---------------------------------------------------------------------- system


def ping() -> Call[None]:
    return Call("GET", "/_ping", versioned=False)


def ping_ok(text: str) -> bool:
    return text == "OK"


def version(api_version: bool = True) -> Call[dict[str, Any]]:
    return Call("GET", "/version", versioned=api_version)


def info() -> Call[dict[str, Any]]:
    return Call("GET", "/info")


# ---------------------------------------------------------------------- containers


def _ids_only(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Id": item["Id"]} for item in result]


def _short_ids(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """docker-py's ``trunc=True``: the ids cut to the 12 characters the CLI shows."""
    for item in result:
        item["Id"] = item["Id"][:12]
    return result


def containers(
    quiet: bool = False,
    all: bool = False,
    trunc: bool = False,
    latest: bool = False,
    since: str | None = None,
    before: str | None = None,
    limit: int = -1,
    size: bool = False,
    filters: Mapping[str, Any] | None = None,
) -> Call[list[dict[str, Any]]]:
    params: dict[str, Any] = {"all": all, "size": size, "trunc_cmd": trunc}
    if limit is not None and limit >= 0:
        params["limit"] = limit
    if latest:
        params["limit"] = 1
    merged = dict(filters or {})
    if since:
        merged["since"] = since
    if before:
        merged["before"] = before
    if merged:
        params["filters"] = convert_filters(merged)
    # As docker-py: quiet wins over trunc (full ids); trunc cuts the ids of whole summaries.
    shape = _ids_only if quiet else _short_ids if trunc else None
    return Call("GET", "/containers/json", params=params, shape=shape)


def inspect_container(container: Any) -> Call[dict[str, Any]]:
    return Call("GET", path("/containers/{}/json", check_resource(container, "container")))


def container_tty(inspected: Mapping[str, Any]) -> bool:
    """The daemon frames output unless the container has a TTY; only inspect tells which."""
    return bool(inspected["Config"].get("Tty"))


def host_ports(inspected: Mapping[str, Any], private_port: int | str) -> list[Any] | None:
    """docker-py's ``port()`` answer from an inspect: the ``HostIp``/``HostPort`` bindings of
    ``private_port`` (``"80/udp"`` names the protocol; a bare port tries tcp, udp, sctp), or
    ``None`` (no such binding, or no port table at all, as with ``network_mode="host"``)."""
    table = (inspected.get("NetworkSettings") or {}).get("Ports")
    if table is None:
        return None
    port = str(private_port)
    if "/" in port:
        return cast("list[Any] | None", table.get(port))
    found: list[Any] | None = None
    for protocol in ("tcp", "udp", "sctp"):
        found = table.get(f"{port}/{protocol}")
        if found:
            break
    return found


def create_container_from_config(
    api_version: str,
    config: Mapping[str, Any],
    name: str | None = None,
    platform: str | None = None,
) -> Call[dict[str, Any]]:
    """POST /containers/create; 404 means the image is missing (``ImageNotFound``)."""
    params: dict[str, Any] = {"name": name}
    if platform is not None:
        require_version(api_version, "1.41", "platform")
        params["platform"] = platform
    return Call(
        "POST", "/containers/create", params=params, json=dict(config), image_request=True
    )


def create_container(
    api_version: str, image: str, command: str | list[str] | None = None, **kwargs: Any
) -> Call[dict[str, Any]]:
    """``APIClient.create_container`` keywords (``None`` meaning "not given") to the request.

    ``proxy_config`` is the client's config.json proxy entry (``httpProxy`` ...): its variables
    go first in the environment unless ``use_config_proxy=False``, as docker-py injects them.
    """
    special = {
        key: kwargs.pop(key, None)
        for key in (
            "ports", "volumes", "host_config", "networking_config", "runtime", "proxy_config"
        )
    }
    # Imported on use: the keyword conversion is the package's largest module, and only the
    # create calls need it (it keeps `import ctrproto` quick).
    from .api_config import container_create_request

    request = container_create_request(
        api_version,
        image,
        command,
        **special,
        **{key: value for key, value in kwargs.items() if value is not None},
    )
    return create_container_from_config(
        api_version,
        request.body,
        name=request.params.get("name"),
        platform=request.params.get("platform"),
    )


def start(container: Any, *args: Any, **kwargs: Any) -> Call[None]:
    if args or kwargs:
        raise DeprecatedMethod(
            "start() no longer takes configuration; pass it to create_container() instead"
        )
    return Call("POST", path("/containers/{}/start", check_resource(container)))


def stop(container: Any, timeout: int | None = None) -> Call[None]:
    return Call(
        "POST",
        path("/containers/{}/stop", check_resource(container)),
        params={"t": timeout} if timeout is not None else None,
        grace=timeout if timeout is not None else DEFAULT_STOP_GRACE,
    )


def restart(container: Any, timeout: int | None = DEFAULT_STOP_GRACE) -> Call[None]:
    return Call(
        "POST",
        path("/containers/{}/restart", check_resource(container)),
        params={"t": timeout} if timeout is not None else None,
        grace=timeout if timeout is not None else DEFAULT_STOP_GRACE,
    )


def kill(container: Any, signal: str | int | None = None) -> Call[None]:
    return Call(
        "POST",
        path("/containers/{}/kill", check_resource(container)),
        params={"signal": signal} if signal is not None else None,
    )


def wait(
    api_version: str, container: Any, timeout: float | None = None, condition: str | None = None
) -> Call[dict[str, Any]]:
    """``timeout=None`` waits as long as it takes: the request timeout would cut long waits."""
    params = None
    if condition is not None:
        require_version(api_version, "1.30", "wait(condition=...)")
        params = {"condition": condition}
    return Call(
        "POST",
        path("/containers/{}/wait", check_resource(container)),
        params=params,
        timeout=timeout,
    )


def remove_container(
    container: Any, v: bool = False, link: bool = False, force: bool = False
) -> Call[None]:
    return Call(
        "DELETE",
        path("/containers/{}", check_resource(container)),
        params={"v": v, "link": link, "force": force},
    )


def diff(container: Any) -> Call[list[dict[str, Any]]]:
    """Filesystem changes (``Path``, ``Kind``); the daemon's ``null`` becomes ``[]``."""
    return Call(
        "GET", path("/containers/{}/changes", check_resource(container)), shape=_list_or_empty
    )


def _list_or_empty(result: Any) -> list[Any]:
    return list(result or [])


def top(container: Any, ps_args: str | None = None) -> Call[dict[str, Any]]:
    return Call(
        "GET", path("/containers/{}/top", check_resource(container)), params={"ps_args": ps_args}
    )


def pause(container: Any) -> Call[None]:
    return Call("POST", path("/containers/{}/pause", check_resource(container)))


def unpause(container: Any) -> Call[None]:
    return Call("POST", path("/containers/{}/unpause", check_resource(container)))


def prune_containers(filters: Mapping[str, Any] | None = None) -> Call[dict[str, Any]]:
    """Remove stopped containers; answers ``ContainersDeleted`` and ``SpaceReclaimed``."""
    params = {"filters": convert_filters(filters)} if filters else None
    return Call("POST", "/containers/prune", params=params)


def rename(container: Any, name: str) -> Call[None]:
    return Call(
        "POST", path("/containers/{}/rename", check_resource(container)), params={"name": name}
    )


def resize(container: Any, height: int, width: int) -> Call[None]:
    """Resize the container's TTY (only meaningful for ``tty=True`` containers)."""
    return Call(
        "POST",
        path("/containers/{}/resize", check_resource(container)),
        params={"h": height, "w": width},
    )


def update_container(
    api_version: str,
    container: Any,
    blkio_weight: int | None = None,
    cpu_period: int | None = None,
    cpu_quota: int | None = None,
    cpu_shares: int | None = None,
    cpuset_cpus: str | None = None,
    cpuset_mems: str | None = None,
    mem_limit: str | int | None = None,
    mem_reservation: str | int | None = None,
    memswap_limit: str | int | None = None,
    kernel_memory: str | int | None = None,
    restart_policy: Mapping[str, Any] | None = None,
) -> Call[dict[str, Any]]:
    """Change resource limits of a live container; the answer carries the daemon's warnings."""
    body: dict[str, Any] = {
        "BlkioWeight": blkio_weight,
        "CpuPeriod": cpu_period,
        "CpuQuota": cpu_quota,
        "CpuShares": cpu_shares,
        "CpusetCpus": cpuset_cpus,
        "CpusetMems": cpuset_mems,
    }
    for key, size in (
        ("Memory", mem_limit),
        ("MemoryReservation", mem_reservation),
        ("MemorySwap", memswap_limit),
        ("KernelMemory", kernel_memory),
    ):
        body[key] = parse_bytes(size) if size is not None else None
    if restart_policy is not None:
        require_version(api_version, "1.23", "update_container(restart_policy=...)")
        # The same conversions as create(): {"Name": ..., ...} or a RestartPolicy.
        from .api_config import host_config

        body["RestartPolicy"] = host_config(api_version, restart_policy=restart_policy)[
            "RestartPolicy"
        ]
    return Call(
        "POST",
        path("/containers/{}/update", check_resource(container)),
        json={key: value for key, value in body.items() if value is not None},
    )


def commit(
    container: Any,
    repository: str | None = None,
    tag: str | None = None,
    message: str | None = None,
    author: str | None = None,
    pause: bool = True,
    changes: str | list[str] | None = None,
    conf: Mapping[str, Any] | None = None,
) -> Call[dict[str, Any]]:
    """``conf`` is a container config (``Cmd``, ``Env`` ...) for the new image; ``changes`` are
    Dockerfile instructions applied on top.  Answers ``{"Id": "sha256:..."}``."""
    params: dict[str, Any] = {
        "container": check_resource(container),
        "repo": repository,
        "tag": tag,
        "comment": message,
        "author": author,
        "pause": pause,
        "changes": changes,
    }
    return Call("POST", "/commit", params=params, json=dict(conf or {}))


# ---------------------------------------------------------------------- container output


def logs(
    api_version: str,
    container: Any,
    stdout: bool = True,
    stderr: bool = True,
    stream: bool = False,
    timestamps: bool = False,
    tail: str | int = "all",
    since: Any = None,
    follow: bool | None = None,
    until: Any = None,
) -> Call[None]:
    """A followed log is never cut by the request timeout; a plain read is bounded per read."""
    cid = check_resource(container)
    if follow is None:
        follow = stream
    if isinstance(tail, bool) or not (tail == "all" or isinstance(tail, int)):
        raise InvalidArgument(f"tail must be 'all' or an integer, got {tail!r}")
    params: dict[str, Any] = {
        "stdout": stdout,
        "stderr": stderr,
        "timestamps": timestamps,
        "follow": follow,
        "tail": tail if isinstance(tail, int) and tail >= 0 else "all",
    }
    if since is not None:
        params["since"] = format_timestamp(since)
    if until is not None:
        require_version(api_version, "1.35", "logs(until=...)")
        params["until"] = format_timestamp(until)
    return Call(
        "GET",
        path("/containers/{}/logs", cid),
        params=params,
        stream_timeout=None if follow else DEFAULT,
    )


def attach(container: Any, params: Mapping[str, Any] | None = None, ws: bool = False) -> Call[None]:
    """The hijacked attach request; ``params`` defaults to stdout, stderr and stream."""
    if ws:
        raise InvalidArgument("attach_socket(ws=True): websocket attach is not supported")
    query = dict(params if params is not None else {"stdout": 1, "stderr": 1, "stream": 1})
    return Call("POST", path("/containers/{}/attach", check_resource(container)), params=query)


def stats(
    api_version: str,
    container: Any,
    decode: bool | None = None,
    stream: bool = True,
    one_shot: bool | None = None,
) -> Call[dict[str, Any]]:
    params: dict[str, Any] = {"stream": stream}
    if one_shot is not None:
        require_version(api_version, "1.41", "stats(one_shot=...)")
        if stream and one_shot:
            raise InvalidArgument("one_shot is only available with stream=False")
        params["one-shot"] = one_shot
    if not stream and decode:
        raise InvalidArgument("decode is only available with stream=True")
    return Call(
        "GET",
        path("/containers/{}/stats", check_resource(container)),
        params=params,
        stream_timeout=None if stream else DEFAULT,
    )


# ---------------------------------------------------------------------- container filesystem


def export(container: Any) -> Call[None]:
    """The container's filesystem as a tar stream (raw body pieces; the client re-chunks)."""
    return Call("GET", path("/containers/{}/export", check_resource(container)))


def get_archive(container: Any, path_: str) -> Call[None]:
    """A tar of ``path_``; its stat arrives in the :data:`STAT_HEADER` response header.

    ``identity``: the tar must travel uncompressed, since the HTTP layer does not decode.
    """
    return Call(
        "GET",
        path("/containers/{}/archive", check_resource(container)),
        params={"path": path_},
        headers={"Accept-Encoding": "identity"},
    )


def archive_stat(container: Any, path_: str) -> Call[None]:
    """``HEAD``: only the stat header of ``path_``; a missing path is ``NotFound``."""
    return Call(
        "HEAD", path("/containers/{}/archive", check_resource(container)), params={"path": path_}
    )


def put_archive(container: Any, path_: str) -> Call[None]:
    """Extract a tar into the directory ``path_``; the caller streams the tar as the body."""
    return Call(
        "PUT",
        path("/containers/{}/archive", check_resource(container)),
        params={"path": path_},
        headers={"Content-Type": "application/x-tar"},
        streamed_body=True,
        ok_status=200,
    )


def path_stat(headers: Mapping[str, str], path_: str, required: bool) -> dict[str, Any]:
    """The stat of an archive answer's headers; ``{}`` when absent and not ``required``.

    The daemon always sends it with a 200; a proxy may have dropped it, which only
    ``archive_stat`` (whose whole answer it is) treats as an error.
    """
    encoded = headers.get(STAT_HEADER)
    if not encoded:
        if required:
            raise ProtocolError(f"the daemon's answer for {path_!r} has no {STAT_HEADER} header")
        return {}
    return decode_stat(encoded)


def decode_stat(encoded: str) -> dict[str, Any]:
    """The ``X-Docker-Container-Path-Stat`` header: base64 of a JSON object."""
    try:
        value = json.loads(base64.b64decode(encoded, validate=False))
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"malformed {STAT_HEADER} header {encoded[:60]!r}: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"{STAT_HEADER} header is not a JSON object: {value!r}")
    return value


# ---------------------------------------------------------------------- exec


def exec_environment(environment: Mapping[str, Any] | list[str]) -> list[str]:
    if isinstance(environment, Mapping):
        return [
            f"{key}={value}" if value is not None else str(key)
            for key, value in environment.items()
        ]
    return [str(item) for item in environment]


def exec_create(
    api_version: str,
    container: Any,
    cmd: str | list[str],
    stdout: bool = True,
    stderr: bool = True,
    stdin: bool = False,
    tty: bool = False,
    privileged: bool = False,
    user: str = "",
    environment: Mapping[str, Any] | list[str] | None = None,
    workdir: str | None = None,
    detach_keys: str | None = None,
) -> Call[dict[str, Any]]:
    """409 (``Conflict``) when the container is not running."""
    body: dict[str, Any] = {
        "AttachStdin": stdin,
        "AttachStdout": stdout,
        "AttachStderr": stderr,
        "Tty": tty,
        "Privileged": privileged,
        "User": user,
        "Cmd": shlex.split(cmd) if isinstance(cmd, str) else list(cmd),
    }
    if environment is not None:
        require_version(api_version, "1.25", "exec_create(environment=...)")
        body["Env"] = exec_environment(environment)
    if workdir is not None:
        require_version(api_version, "1.35", "exec_create(workdir=...)")
        body["WorkingDir"] = workdir
    if detach_keys is not None:
        body["DetachKeys"] = detach_keys
    return Call("POST", path("/containers/{}/exec", check_resource(container)), json=body)


def exec_inspect(exec_id: Any) -> Call[dict[str, Any]]:
    return Call("GET", path("/exec/{}/json", check_resource(exec_id, "exec_id")))


def exec_resize(exec_id: Any, height: int | None = None, width: int | None = None) -> Call[None]:
    return Call(
        "POST",
        path("/exec/{}/resize", check_resource(exec_id, "exec_id")),
        params={"h": height, "w": width},
    )


def exec_start(
    exec_id: Any, detach: bool = False, tty: bool = False, stream: bool = False,
    socket: bool = False,
) -> Call[None]:
    """Detached, a plain POST; otherwise the daemon hijacks the connection for the output."""
    if detach and (stream or socket):
        raise InvalidArgument("exec_start(detach=True) returns no output to stream")
    return Call(
        "POST",
        path("/exec/{}/start", check_resource(exec_id, "exec_id")),
        json={"Detach": detach, "Tty": tty},
    )


# ---------------------------------------------------------------------- images


def inspect_image(image: Any) -> Call[dict[str, Any]]:
    return Call("GET", path("/images/{}/json", check_resource(image, "image")), image_request=True)


def images(
    name: str | None = None,
    quiet: bool = False,
    all: bool = False,
    filters: Mapping[str, Any] | None = None,
) -> Call[list[Any]]:
    merged = dict(filters or {})
    if name:
        merged["reference"] = name
    params: dict[str, Any] = {"all": all, "only_ids": quiet}
    if merged:
        params["filters"] = convert_filters(merged)
    return Call("GET", "/images/json", params=params, shape=_image_ids if quiet else None)


def _image_ids(result: list[dict[str, Any]]) -> list[str]:
    return [item["Id"] for item in result]


def pull(
    api_version: str,
    repository: str,
    tag: str | None = None,
    auth_config: Mapping[str, Any] | None = None,
    platform: str | None = None,
    all_tags: bool = False,
) -> Call[None]:
    """A pull may take long before the daemon even answers: no request timeout."""
    repo, image_tag = split_repository_tag(repository)
    params: dict[str, Any] = {"fromImage": repo}
    if not all_tags:
        params["tag"] = tag or image_tag or "latest"
    if platform is not None:
        require_version(api_version, "1.32", "pull(platform=...)")
        params["platform"] = platform
    headers = {"X-Registry-Auth": encode_auth(auth_config)} if auth_config else None
    return Call(
        "POST",
        "/images/create",
        params=params,
        headers=headers,
        image_request=True,
        timeout=None,
        stream_timeout=None,
    )


def remove_image(image: Any, force: bool = False, noprune: bool = False) -> Call[list[Any]]:
    """Untag/delete an image; answers the daemon's ``Untagged``/``Deleted`` entries."""
    return Call(
        "DELETE",
        path("/images/{}", check_resource(image, "image")),
        params={"force": force, "noprune": noprune},
        image_request=True,
    )


def tag(image: Any, repository: str, tag: str | None = None, force: bool = False) -> Call[None]:
    """Add the reference ``repository:tag``; the daemon answers 201 when it did."""
    return Call(
        "POST",
        path("/images/{}/tag", check_resource(image, "image")),
        params={"repo": repository, "tag": tag, "force": force},
        image_request=True,
        ok_status=201,
    )


def encode_auth(auth_config: Mapping[str, Any]) -> str:
    """The ``X-Registry-Auth`` header value: URL-safe base64 of the JSON credentials."""
    return base64.urlsafe_b64encode(json.dumps(dict(auth_config)).encode("utf-8")).decode("ascii")
