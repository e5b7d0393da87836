"""Container endpoints of the low-level client (named like docker-py's ``APIClient``)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from ..engine.utils import convert_filters, format_timestamp
from .base import BaseClient, check_resource
from .hijack import HijackedSocket


class ContainerApiMixin(BaseClient):
    # ------------------------------------------------------------------ listing and inspecting

    def containers(
        self,
        quiet: bool = False,
        all: bool = False,
        trunc: bool = False,
        latest: bool = False,
        since: str | None = None,
        before: str | None = None,
        limit: int = -1,
        size: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
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
        result: list[dict[str, Any]] = self._json(self._get("/containers/json", params=params))
        if quiet:
            return [{"Id": item["Id"]} for item in result]
        return result

    def inspect_container(self, container: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            self._get(self._url("/containers/{}/json", check_resource(container, "container")))
        )
        return result

    # ------------------------------------------------------------------ lifecycle

    def create_container_from_config(
        self, config: Mapping[str, Any], name: str | None = None, platform: str | None = None
    ) -> dict[str, Any]:
        """POST /containers/create with a ready Engine API body."""
        params: dict[str, Any] = {"name": name}
        if platform is not None:
            self._require_version("1.41", "platform")
            params["platform"] = platform
        result: dict[str, Any] = self._json(
            self._post("/containers/create", params=params, json=dict(config), image_request=True)
        )
        return result

    def create_container(
        self,
        image: str,
        command: str | list[str] | None = None,
        *,
        name: str | None = None,
        platform: str | None = None,
        host_config: Mapping[str, Any] | None = None,
        environment: Mapping[str, Any] | list[str] | None = None,
        labels: Mapping[str, str] | list[str] | None = None,
        entrypoint: str | list[str] | None = None,
        tty: bool = False,
        stdin_open: bool = False,
        detach: bool = False,
        working_dir: str | None = None,
        user: str | int | None = None,
        hostname: str | None = None,
    ) -> dict[str, Any]:
        if isinstance(command, str):
            command = shlex.split(command)
        if isinstance(entrypoint, str):
            entrypoint = shlex.split(entrypoint)
        if isinstance(environment, Mapping):
            environment = [
                f"{k}={v}" if v is not None else str(k) for k, v in environment.items()
            ]
        if isinstance(labels, list):
            labels = {label: "" for label in labels}
        attach = not detach
        config: dict[str, Any] = {
            "Image": image,
            "Cmd": command,
            "Entrypoint": entrypoint,
            "Env": environment,
            "Labels": labels,
            "Tty": tty,
            "OpenStdin": stdin_open,
            "StdinOnce": stdin_open and attach,
            "AttachStdin": stdin_open and attach,
            "AttachStdout": attach,
            "AttachStderr": attach,
            "WorkingDir": working_dir,
            "User": str(user) if user is not None else None,
            "Hostname": hostname,
            "HostConfig": dict(host_config) if host_config else None,
        }
        body = {k: v for k, v in config.items() if v is not None}
        return self.create_container_from_config(body, name=name, platform=platform)

    def start(self, container: Any) -> None:
        self._discard(self._post(self._url("/containers/{}/start", check_resource(container))))

    def stop(self, container: Any, timeout: int | None = None) -> None:
        params = {"t": timeout} if timeout is not None else None
        wait = (self.timeout or 0) + (timeout if timeout is not None else 10)
        self._discard(
            self._post(
                self._url("/containers/{}/stop", check_resource(container)),
                params=params,
                timeout=wait if self.timeout is not None else None,
            )
        )

    def kill(self, container: Any, signal: str | int | None = None) -> None:
        params = {"signal": signal} if signal is not None else None
        self._discard(
            self._post(self._url("/containers/{}/kill", check_resource(container)), params=params)
        )

    def wait(
        self, container: Any, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        """Block until the container stops; ``timeout`` raises :class:`ReadTimeout` past it."""
        params = {"condition": condition} if condition is not None else None
        result: dict[str, Any] = self._json(
            self._post(
                self._url("/containers/{}/wait", check_resource(container)),
                params=params,
                timeout=timeout,
            )
        )
        return result

    def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        self._discard(
            self._delete(
                self._url("/containers/{}", check_resource(container)),
                params={"v": v, "link": link, "force": force},
            )
        )

    # ------------------------------------------------------------------ output

    def _container_tty(self, container: Any) -> bool:
        return bool(self.inspect_container(container)["Config"].get("Tty"))

    def logs(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: str | int = "all",
        since: Any = None,
        follow: bool | None = None,
        until: Any = None,
    ) -> bytes | Iterator[bytes]:
        """The container's output, stdout and stderr interleaved in the order written."""
        cid = check_resource(container)
        if follow is None:
            follow = stream
        params: dict[str, Any] = {
            "stdout": stdout,
            "stderr": stderr,
            "timestamps": timestamps,
            "follow": follow,
            "tail": tail if tail == "all" or (isinstance(tail, int) and tail >= 0) else "all",
        }
        if since is not None:
            params["since"] = format_timestamp(since)
        if until is not None:
            self._require_version("1.35", "logs(until=...)")
            params["until"] = format_timestamp(until)
        tty = self._container_tty(cid)
        response = self._get(
            self._url("/containers/{}/logs", cid),
            params=params,
            stream_timeout=None if follow else self.timeout,
        )
        if tty:
            chunks = self._stream_raw(response)
        else:
            chunks = (payload for _, payload in self._stream_frames(response))
        if stream:
            return chunks
        return b"".join(chunks)

    def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> HijackedSocket:
        cid = check_resource(container)
        query = dict(params or {"stdout": 1, "stderr": 1, "stream": 1})
        tty = self._container_tty(cid)
        return self._hijack("POST", self._url("/containers/{}/attach", cid), params=query, tty=tty)
