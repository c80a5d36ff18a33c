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
# Each podbrief container and the module it runs (notify runs as two: its worker and its REST API).
SERVICES = {
    "ingest": "podbrief_ingest",
    "transcribe": "podbrief_transcribe",
    "rank": "podbrief_rank",
    "notify": "podbrief_notify",
    "notify-api": "podbrief_notify.api",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as docker-compose itself resolves it (anchors, merges, variables)."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose (Debian package) is missing; `make test` installs it"
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={"POSTGRES_PASSWORD": "test-only", "PODBRIEF_EMBED_TOKEN": "test-only-embed-token", "PATH": "/usr/bin:/bin"},
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


def test_compose_refuses_to_start_without_the_embedding_endpoints_token():
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={"POSTGRES_PASSWORD": "test-only", "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "PODBRIEF_EMBED_TOKEN" in result.stderr


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
    # The API keeps no state of its own (everything is in notify's PostgreSQL database): nothing to lose with it.
    assert not compose["services"]["notify-api"].get("volumes")


def test_every_podbrief_container_is_checked_here(compose):
    built = {name for name, service in compose["services"].items() if "build" in service and not service.get("profiles")}
    assert built == set(SERVICES)


def test_the_api_reaches_the_workers_embedding_endpoint_and_only_the_api_is_published(compose):
    worker, api = compose["services"]["notify"], compose["services"]["notify-api"]
    port = worker["environment"]["PODBRIEF_EMBED_PORT"]
    assert worker["environment"]["PODBRIEF_EMBED_HOST"] == "0.0.0.0"
    assert api["environment"]["PODBRIEF_EMBED_URL"] == f"http://notify:{port}"
    assert api["environment"]["PODBRIEF_EMBED_TOKEN"] == worker["environment"]["PODBRIEF_EMBED_TOKEN"] == "test-only-embed-token"
    assert not worker.get("ports") and api["ports"]
    assert "kafka" not in api["depends_on"], "the API must not wait for the broker: it consumes nothing"


@pytest.mark.parametrize("service", SERVICES)
def test_service_command_and_dockerfile_exist_in_the_code(compose, service):
    spec = compose["services"][service]
    dockerfile = ROOT / spec["build"]["dockerfile"]
    assert dockerfile.is_file()
    module = SERVICES[service]
    assert spec["command"] == ["python", "-m", module]
    package = module.split(".")[0]
    folder = ROOT / "services" / package.removeprefix("podbrief_")
    assert dockerfile.parent == folder
    assert (folder / module.replace(".", "/") / "__main__.py").is_file()
    text = dockerfile.read_text()
    assert re.search(r"^USER\s+(?!root)\S+", text, re.M), f"{service} image runs as root"
    assert "whsec_" not in text and "PASSWORD=" not in text, f"{service} image carries a secret"


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_in_compose_is_a_field_of_the_service_settings(compose, service):
    settings_cls = importlib.import_module(f"{SERVICES[service].split('.')[0]}.settings").Settings
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
