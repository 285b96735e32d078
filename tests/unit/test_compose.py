"""docker-compose.yml is for users; here it is parsed and checked against the settings."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import yaml

from ticketflow import search_attributes
from ticketflow.settings import ROOT, Settings

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def container_ports(service: str) -> set[int]:
    return {int(str(p).split(":")[-1]) for p in SERVICES[service].get("ports", [])}


def host_port(service: str, container: int) -> int:
    for p in SERVICES[service]["ports"]:
        host, _, inner = str(p).rpartition(":")
        if int(inner) == container:
            return int(host)
    raise AssertionError(f"{service} does not publish {container}")


def test_every_component_is_there() -> None:
    assert {"postgresql", "redis", "temporal", "temporal-setup", "temporal-ui", "migrate",
            "worker", "api"} <= set(SERVICES)


@pytest.mark.parametrize("service", ["api", "worker", "migrate"])
def test_app_services_are_configured_only_with_known_settings(service: str) -> None:
    env = SERVICES[service]["environment"]
    fields = set(Settings.model_fields)
    assert {k.lower() for k in env} <= fields
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})

    db = urlparse(settings.database_url)
    assert db.hostname == "postgresql"
    assert db.port in container_ports("postgresql") | {5432}
    pg_env = SERVICES["postgresql"]["environment"]
    assert (db.username, db.password, db.path.lstrip("/")) == (
        pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"])

    redis = urlparse(settings.redis_url)
    assert redis.hostname == "redis"
    assert redis.port in container_ports("redis")

    host, port = settings.temporal_address.split(":")
    assert host == "temporal"
    assert int(port) in container_ports("temporal")


def test_api_and_ui_ports_match_the_dev_defaults() -> None:
    defaults = Settings(_env_file=None)
    assert host_port("api", 8000) == defaults.api_port
    assert f"--port\", \"{defaults.api_port}" in str(SERVICES["api"]["command"]).replace("'", '"')
    assert host_port("temporal-ui", 8080) == defaults.temporal_ui_port
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_temporal_uses_the_postgres_service() -> None:
    env = SERVICES["temporal"]["environment"]
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_USER"] == SERVICES["postgresql"]["environment"]["POSTGRES_USER"]


def test_search_attributes_created_at_start_match_the_code() -> None:
    script = SERVICES["temporal-setup"]["command"][0]
    created = dict(re.findall(r"\b([A-Z][A-Za-z]+)=(Keyword|Int|KeywordList|Bool|Text)\b", script))
    expected = dict(flag.split("=") for flag in search_attributes.cli_flags()[1::2])
    assert created == expected


def test_app_services_are_built_from_the_dockerfile() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for service in ("api", "worker", "migrate"):
        assert SERVICES[service]["build"] == "."
    for path in ("api", "workflows", "activities", "flows", "models", "ticketflow", "worker.py"):
        assert f"COPY {path}" in dockerfile
    model = Settings().intent_model
    assert model is not None and f"INTENT_MODEL=/app/models/{model.name}" in dockerfile
