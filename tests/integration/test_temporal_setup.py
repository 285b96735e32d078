"""The compose stack's Temporal setup job (deploy/temporal/setup.sh), run with the `temporal`
CLI against a real server of the same version as the stack's: it creates the namespace and
registers exactly the search attributes the code defines, and running it again changes nothing."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from activities.ticket import TicketActivities
from ticketflow.devstack.components import BIN
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import ROOT, Settings
from ticketflow.tickets import search_attributes
from worker import build_worker

pytestmark = pytest.mark.integration


def run_setup(services: Settings, namespace: str) -> subprocess.CompletedProcess[str]:
    pairs = " ".join(search_attributes.cli_flags()[1::2])
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
           "TEMPORAL_ADDRESS": services.temporal_address, "TEMPORAL_NAMESPACE": namespace,
           "SEARCH_ATTRIBUTES": pairs}
    return subprocess.run(["sh", str(ROOT / "deploy" / "temporal" / "setup.sh")], env=env,
                          capture_output=True, text=True, timeout=180)


async def test_setup_makes_the_namespace_and_its_search_attributes_and_can_run_again(
        services: Settings) -> None:
    namespace = f"setup-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        result = run_setup(services, namespace)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"namespace {namespace} ready" in result.stdout

    client = await Client.connect(services.temporal_address, namespace=namespace)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))
    custom = {name: IndexedValueType.Name(kind) for name, kind in listed.custom_attributes.items()}
    expected = {key.name: f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}"
                for key in search_attributes.ALL}
    assert {name: custom.get(name) for name in expected} == expected


async def test_the_worker_keeps_as_many_workflows_as_its_setting_says(
        settings: Settings, temporal_client: Client, redis: Redis,
        sessions: async_sessionmaker) -> None:
    mine = settings.model_copy(update={"workflow_cache_size": 7})
    activities = TicketActivities(settings=mine, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(mine.flows_dir))
    assert build_worker(temporal_client, mine, activities).config()["max_cached_workflows"] == 7
