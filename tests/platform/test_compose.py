"""docker-compose.yml is valid and consistent with the code it deploys (no Docker engine here)."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("ingest", "transcribe", "rank", "notify")


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as docker-compose itself resolves it (anchors, merges, variables)."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose (Debian package) is missing; `make test` installs it"
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={"POSTGRES_PASSWORD": "test-only", "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_refuses_to_start_without_the_database_password():
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_every_container_has_a_healthcheck_and_waits_for_healthy_dependencies(compose):
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dep, condition in (service.get("depends_on") or {}).items():
            assert condition["condition"] == "service_healthy", f"{name} → {dep}"


def test_state_lives_in_named_volumes(compose):
    named = set(compose["volumes"])
    for name in ("kafka", "postgres", "qdrant", "ingest", "transcribe", "rank", "notify"):
        sources = [m["source"] if isinstance(m, dict) else m.split(":")[0] for m in compose["services"][name]["volumes"]]
        assert any(source in named for source in sources), f"{name} keeps its state in no named volume: {sources}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_command_and_dockerfile_exist_in_the_code(compose, service):
    spec = compose["services"][service]
    dockerfile = ROOT / spec["build"]["dockerfile"]
    assert dockerfile.is_file()
    assert spec["command"] == ["python", "-m", f"podbrief_{service}"]
    assert (ROOT / "services" / service / f"podbrief_{service}" / "__main__.py").is_file()
    text = dockerfile.read_text()
    assert re.search(r"^USER\s+(?!root)\S+", text, re.M), f"{service} image runs as root"
    assert "whsec_" not in text and "PASSWORD=" not in text, f"{service} image carries a secret"


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_in_compose_is_a_field_of_the_service_settings(compose, service):
    settings_cls = importlib.import_module(f"podbrief_{service}.settings").Settings
    fields = {f"PODBRIEF_{name.upper()}" for name in settings_cls.model_fields}
    env = compose["services"][service]["environment"]
    unknown = {key for key in env if key.startswith("PODBRIEF_")} - fields
    assert not unknown, f"{service} does not read {sorted(unknown)}"
    settings_cls.model_validate({k.removeprefix("PODBRIEF_").lower(): v for k, v in env.items() if k.startswith("PODBRIEF_")})


def test_kafka_is_the_official_image_in_kraft_mode_and_topics_are_not_auto_created(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
