"""``ctrproto.install_as_docker()``: ``import docker`` and docker-py's module paths are ctrproto's.

Each check runs in a fresh interpreter (``sys.executable -c``) so that this process's
``sys.modules`` never holds the hooked ``docker``: other tests use docker-py itself as the
reference implementation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from ctrproto.docker_compat import MODULES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_py(code: str, docker_host: str | None = None, check: bool = True) -> str:
    """Run ``code`` in a new interpreter; the last line it prints is returned."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr


HOOK = "import ctrproto; ctrproto.install_as_docker()\n"


def hooked(code: str, docker_host: str | None = None) -> str:
    """``run_py`` with the hook installed first."""
    return run_py(HOOK + textwrap.dedent(code), docker_host=docker_host)


def test_every_module_path_is_the_ctrproto_module() -> None:
    out = hooked(
        """
        import importlib, json, sys
        from ctrproto.docker_compat import MODULES
        wrong = {}
        for name, ours in MODULES.items():
            got = importlib.import_module(name)
            if got is not sys.modules[ours]:
                wrong[name] = got.__name__
        import docker, ctrproto.docker_compat
        wrong["docker"] = None if docker is ctrproto.docker_compat else docker.__name__
        # attribute access through the parents, as `import docker.x.y; docker.x.y` does
        import docker.models.containers, docker.utils.socket, docker.context.api
        assert docker.models.containers is sys.modules["ctrproto.models.containers"]
        assert docker.utils.socket is sys.modules["ctrproto.utils.socket"]
        assert docker.context.api is sys.modules["ctrproto.context.api"]
        print(json.dumps({k: v for k, v in wrong.items() if v}))
        """
    )
    assert json.loads(out) == {}
    assert len(MODULES) >= 30


def test_names_testcontainers_and_docker_py_tests_import() -> None:
    out = hooked(
        """
        import ctrproto
        from docker.constants import IS_WINDOWS_PLATFORM, DEFAULT_DOCKER_API_VERSION
        from docker.utils.socket import next_frame_header, read_exactly, frames_iter
        from docker.utils.proxy import ProxyConfig
        from docker.context import ContextAPI
        from docker import version
        from docker.types import EndpointConfig, IPAMConfig, IPAMPool
        from docker.types.containers import DeviceRequest, LogConfig, Ulimit
        from docker.types.services import Mount
        from docker.models.containers import Container, ExecResult
        from docker.models.images import Image
        from docker.models.networks import Network
        from docker.models.resource import Model, Collection
        from docker.errors import APIError, NotFound, create_unexpected_kwargs_error
        from docker.api.client import APIClient
        import docker
        assert docker.errors.NotFound is ctrproto.errors.NotFound
        assert docker.APIClient is ctrproto.APIClient is APIClient
        assert docker.version is version and version.__version__ == docker.__version__ == "7.2.0"
        assert ctrproto.__version__ != "7.2.0"
        assert docker.types.IPAMPool is ctrproto.types.IPAMPool
        assert EndpointConfig(version.__version__, aliases=["a"]) == {"Aliases": ["a"]}
        assert IS_WINDOWS_PLATFORM is False and DEFAULT_DOCKER_API_VERSION == "1.45"
        print("ok")
        """
    )
    assert out == "ok"


def test_top_level_has_docker_py_names() -> None:
    docker_py = pytest.importorskip("docker")
    expected = {n for n in dir(docker_py) if not n.startswith("_")}
    out = hooked("import docker, json; print(json.dumps(dir(docker)))")
    missing = expected - set(json.loads(out))
    # docker.transport and docker.credentials are docker-py's requests/credential-helper
    # plumbing; ctrproto has its own transport layer and no credential helpers module.
    assert missing <= {"transport", "credentials"}, missing


def test_unmapped_submodule_is_a_clean_import_error() -> None:
    out = hooked(
        """
        try:
            import docker.transport
        except ModuleNotFoundError as exc:
            print(type(exc).__name__)
        """
    )
    assert out == "ModuleNotFoundError"


def test_docker_imported_first_is_replaced_with_a_warning() -> None:
    pytest.importorskip("docker")
    out = run_py(
        """
        import warnings, sys
        import docker, docker.errors, docker.transport
        real_not_found = docker.errors.NotFound
        import ctrproto
        from ctrproto.docker_compat import DockerAlreadyImportedWarning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ctrproto.install_as_docker()
            ctrproto.install_as_docker()  # idempotent: no second warning
        kinds = [w.category for w in caught]
        assert kinds == [DockerAlreadyImportedWarning], kinds
        import docker as again, docker.errors as errs
        assert again is sys.modules["ctrproto.docker_compat"]
        assert errs.NotFound is ctrproto.errors.NotFound is not real_not_found
        assert "docker.transport" not in sys.modules
        print("ok")
        """
    )
    assert out == "ok"


def test_hook_works_without_docker_py_installed(tmp_path: Any) -> None:
    """docker-py made unimportable (a finder that refuses it): the hook does not need it."""
    out = run_py(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "docker" or name.startswith("docker."):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Block())
        import ctrproto
        ctrproto.install_as_docker()
        sys.meta_path.pop(0)
        import docker, docker.utils.socket
        print(docker.__name__)
        """
    )
    assert out == "ctrproto.docker_compat"


def test_import_ctrproto_stays_cheap() -> None:
    out = run_py(
        """
        import sys, ctrproto, json
        print(json.dumps(sorted(m for m in ("ctrproto.docker_compat", "ctrproto.utils",
                                        "ctrproto.context", "docker") if m in sys.modules)))
        """
    )
    assert json.loads(out) == []


def test_from_env_runs_busybox_and_models_are_ctrproto_classes(docker_host: str) -> None:
    out = hooked(
        """
        import docker, docker.models.containers, docker.models.images, uuid
        client = docker.from_env()
        labels = {"ctrproto-test": "docker-compat"}
        output = client.containers.run(
            "busybox", ["echo", "hello"], remove=True, network_mode="none", labels=labels
        )
        name = "ctrproto-compat-" + uuid.uuid4().hex[:8]
        container = client.containers.create(
            "busybox", ["true"], name=name, network_mode="none", labels=labels
        )
        try:
            got = client.containers.get(name)
            assert isinstance(got, docker.models.containers.Container), type(got)
            assert isinstance(client.images.get("busybox"), docker.models.images.Image)
            try:
                client.containers.get(name + "-missing")
            except docker.errors.NotFound:
                pass
            else:
                raise AssertionError("no NotFound")
        finally:
            container.remove(force=True)
        client.close()
        print(output.decode().strip())
        """,
        docker_host=docker_host,
    )
    assert out == "hello"
