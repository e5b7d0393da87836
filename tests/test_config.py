"""kwargs_from_env: environment variables and docker CLI contexts, in a fake ~/.docker."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pytest

from ctrproto.config import kwargs_from_env
from ctrproto.errors import ContextNotFound, InvalidConfigFile, TLSParameterError
from ctrproto.transport.tls import InsecureTLSWarning, TLSConfig


def write_pems(directory: Path, names: tuple[str, ...] = ("ca", "cert", "key")) -> Path:
    """Placeholder PEM files: kwargs_from_env checks presence, the handshake reads content."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / f"{name}.pem").write_text(f"-- {name} --\n")
    return directory


def make_context(
    config: Path, name: str, host: str, skip_verify: bool = False, tls: bool = False
) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": skip_verify}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )
    if tls:
        write_pems(config / "contexts" / "tls" / digest / "docker")


@pytest.fixture
def docker_dir(tmp_path: Path) -> Path:
    path = tmp_path / "dotdocker"
    path.mkdir()
    return path


def env(docker_dir: Path, **values: str) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(docker_dir), **values}


def test_nothing_set_means_default(docker_dir: Path) -> None:
    assert kwargs_from_env(env(docker_dir)) == {}


def test_docker_host_alone(docker_dir: Path) -> None:
    assert kwargs_from_env(env(docker_dir, DOCKER_HOST="tcp://127.0.0.1:2375")) == {
        "base_url": "tcp://127.0.0.1:2375"
    }


def test_tls_verify_with_cert_path(docker_dir: Path, tmp_path: Path) -> None:
    certs = write_pems(tmp_path / "certs")
    kwargs = kwargs_from_env(
        env(
            docker_dir,
            DOCKER_HOST="tcp://127.0.0.1:2376",
            DOCKER_TLS_VERIFY="1",
            DOCKER_CERT_PATH=str(certs),
        ),
        assert_hostname="docker.example",
    )
    tls = kwargs["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.verify and tls.ca_cert == str(certs / "ca.pem")
    assert tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert tls.assert_hostname == "docker.example"


def test_tls_verify_defaults_to_config_dir(docker_dir: Path) -> None:
    write_pems(docker_dir)
    kwargs = kwargs_from_env(env(docker_dir, DOCKER_HOST="tcp://h:2376", DOCKER_TLS_VERIFY="1"))
    assert kwargs["tls"].ca_cert == str(docker_dir / "ca.pem")


def test_cert_path_without_verify_still_verifies(docker_dir: Path, tmp_path: Path) -> None:
    certs = write_pems(tmp_path / "certs")
    kwargs = kwargs_from_env(
        env(docker_dir, DOCKER_HOST="tcp://h:2376", DOCKER_CERT_PATH=str(certs))
    )
    assert kwargs["tls"].verify is True


@pytest.mark.parametrize("missing", ["ca", "cert", "key"])
def test_missing_tls_file_is_named(docker_dir: Path, tmp_path: Path, missing: str) -> None:
    names = tuple(n for n in ("ca", "cert", "key") if n != missing)
    certs = write_pems(tmp_path / "certs", names)
    with pytest.raises(TLSParameterError, match=str(certs / f"{missing}.pem")):
        kwargs_from_env(
            env(
                docker_dir,
                DOCKER_HOST="tcp://h:2376",
                DOCKER_TLS_VERIFY="1",
                DOCKER_CERT_PATH=str(certs),
            )
        )


def test_empty_tls_verify_means_off(docker_dir: Path) -> None:
    assert "tls" not in kwargs_from_env(
        env(docker_dir, DOCKER_HOST="tcp://h:2375", DOCKER_TLS_VERIFY="")
    )


def test_current_context_from_config_json(docker_dir: Path) -> None:
    make_context(docker_dir, "remote", "ssh://me@build-host")
    (docker_dir / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert kwargs_from_env(env(docker_dir)) == {"base_url": "ssh://me@build-host"}


def test_docker_context_beats_current_context(docker_dir: Path) -> None:
    make_context(docker_dir, "remote", "ssh://me@build-host")
    make_context(docker_dir, "other", "tcp://10.0.0.9:2375")
    (docker_dir / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    kwargs = kwargs_from_env(env(docker_dir, DOCKER_CONTEXT="other"))
    assert kwargs == {"base_url": "tcp://10.0.0.9:2375"}


def test_docker_host_beats_contexts(docker_dir: Path) -> None:
    make_context(docker_dir, "remote", "ssh://me@build-host")
    (docker_dir / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    kwargs = kwargs_from_env(
        env(docker_dir, DOCKER_HOST="unix:///tmp/d.sock", DOCKER_CONTEXT="remote")
    )
    assert kwargs == {"base_url": "unix:///tmp/d.sock"}


def test_default_context_name(docker_dir: Path) -> None:
    (docker_dir / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert kwargs_from_env(env(docker_dir)) == {}


def test_context_with_tls_material(docker_dir: Path) -> None:
    make_context(docker_dir, "secure", "tcp://10.0.0.9:2376", tls=True)
    kwargs = kwargs_from_env(env(docker_dir, DOCKER_CONTEXT="secure"))
    tls = kwargs["tls"]
    digest = hashlib.sha256(b"secure").hexdigest()
    base = docker_dir / "contexts" / "tls" / digest / "docker"
    assert tls.ca_cert == str(base / "ca.pem") and tls.verify
    assert tls.cert == (str(base / "cert.pem"), str(base / "key.pem"))


def test_context_skip_tls_verify_is_honoured_with_a_warning(docker_dir: Path) -> None:
    make_context(docker_dir, "lab", "tcp://10.0.0.9:2376", skip_verify=True, tls=True)
    tls = kwargs_from_env(env(docker_dir, DOCKER_CONTEXT="lab"))["tls"]
    assert tls.verify is False
    # The placeholder files are no real PEM: the warning comes first, then a clear error.
    with pytest.warns(InsecureTLSWarning), pytest.raises(TLSParameterError, match="cert.pem"):
        tls.context()


def test_context_not_found(docker_dir: Path) -> None:
    with pytest.raises(ContextNotFound, match="nope"):
        kwargs_from_env(env(docker_dir, DOCKER_CONTEXT="nope"))


def test_broken_config_json(docker_dir: Path) -> None:
    (docker_dir / "config.json").write_text("{not json")
    with pytest.raises(InvalidConfigFile, match="config.json"):
        kwargs_from_env(env(docker_dir))


def test_home_locates_dot_docker(tmp_path: Path) -> None:
    make_context(tmp_path / ".docker", "remote", "ssh://me@h")
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kwargs_from_env({"HOME": str(tmp_path)}) == {"base_url": "ssh://me@h"}
