"""testcontainers-python (pinned in the test extras) runs on ctrproto through the docker hook.

``ctrproto.install_as_docker()`` replaces ``docker`` for the whole process, and this suite's
differential tests need the real docker-py, so the checks (tests/tc_checks) run in a pytest of
their own; each of them is reported here as a test of its own.  Ryuk, testcontainers' reaper,
is disabled: its image cannot be pulled here (the checks clean up after themselves instead).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from conftest import SESSION, TEST_LABEL

CHECKS = Path(__file__).resolve().parent / "tc_checks"
SCENARIOS = [
    "test_docker_is_ctrproto",
    "test_env_exec_logs_wait_for_logs",
    "test_volume_mapping",
    "test_network_mode_host",
    "test_health_check",
    "test_archive_copy",
    "test_network_aliases_and_exposed_ports",
    "test_docker_image_build",
]


@pytest.fixture(scope="module")
def outcomes(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run the checks once; map each check's name to "passed" or its failure text."""
    report = tmp_path_factory.mktemp("tc") / "report.xml"
    env = dict(
        os.environ,
        DOCKER_HOST=docker_host,
        TESTCONTAINERS_RYUK_DISABLED="true",
        CTRPROTO_TC_LABEL=TEST_LABEL,
        CTRPROTO_TC_SESSION=SESSION,
    )
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        env.pop(name, None)
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--confcutdir={CHECKS}", f"--rootdir={CHECKS}", "-o", "python_files=check_*.py",
            f"--junitxml={report}", str(CHECKS / "check_testcontainers.py"),
        ],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    if not report.exists():
        pytest.fail(f"the testcontainers checks did not run:\n{done.stdout}\n{done.stderr}")
    found: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
        found[case.get("name", "")] = (
            "passed" if not problems else "\n".join(
                f"{p.tag}: {p.get('message', '')}\n{p.text or ''}" for p in problems
            )
        )
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_testcontainers_on_ctrproto(outcomes: dict[str, str], scenario: str) -> None:
    assert scenario in outcomes, f"{scenario} did not run; ran: {sorted(outcomes)}"
    assert outcomes[scenario] == "passed", outcomes[scenario]


def test_every_check_is_reported(outcomes: dict[str, str]) -> None:
    assert sorted(outcomes) == sorted(SCENARIOS)
