"""What ops read in the Temporal UI without opening a payload: each ticket's summary and
details, the action each update carries, and timers named for what they wait for."""

from __future__ import annotations

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.helpers import eventually
from tests.integration.test_actions import act, ticket_in
from tests.integration.test_http_contract import body
from ticketflow import ids

pytestmark = pytest.mark.usefixtures("worker")


async def timer_summaries(client: Client, ticket_id: str) -> list[str]:
    converter = client.data_converter.payload_converter
    history = await client.get_workflow_handle(ids.workflow_id(ticket_id)).fetch_history()
    return [converter.from_payload(e.user_metadata.summary, str)
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
            and e.user_metadata.HasField("summary")]


async def test_a_ticket_reads_as_its_subject_with_its_customer_and_named_timers(
        http: httpx.AsyncClient, temporal_client: Client, clean: None) -> None:
    made = await http.post("/api/tickets", json=body(
        user_id="ui-`customer`", subject="  Card   declined\nat checkout ", user_level=5))
    tid = made.json()["ticket_id"]
    await ticket_in(http, tid, "queued")  # no agent serves the VIP queue

    described = await temporal_client.get_workflow_handle(ids.workflow_id(tid)).describe()
    assert await described.static_summary() == "Card declined at checkout"
    assert await described.static_details() == (
        f"**customer** `ui-customer` · **channel** web · **level** 5 · **ticket** {tid}")

    # Waiting in line: the timer says so, or names the SLA line that comes first.
    timers = await eventually(lambda: timer_summaries(temporal_client, tid))
    assert timers, "a queued ticket waits on a named timer"
    assert all(t == "queued: look for an agent again" or t.startswith("sla ") for t in timers)

    await http.post("/api/agents", json={"agent_id": "vic", "name": "Vic", "queues": ["vip"],
                                         "capacity": 2})
    await ticket_in(http, tid, "assigned")
    assert (await act(http, tid, "resolve", text="done")).status_code == 200

    async def auto_close_timer() -> bool:
        return "auto_close" in await timer_summaries(temporal_client, tid)

    assert await eventually(auto_close_timer)
    history = await temporal_client.get_workflow_handle(ids.workflow_id(tid)).fetch_history()
    updates = [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
               for e in history.events
               if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert updates == ["resolve"]
    converter = temporal_client.data_converter.payload_converter
    steps = [converter.from_payload(e.user_metadata.summary, str) for e in history.events
             if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
             and e.user_metadata.HasField("summary")]
    assert any(s.startswith("save: version") and s.endswith("resolved") for s in steps), steps
    assert (await temporal_client.get_workflow_handle(ids.workflow_id(tid)).query(
        "__temporal_workflow_metadata")).current_details.startswith("**resolved** · priority")
