"""Each vocabulary is defined once (``ticketflow.domain``); the schema and the docs agree with it."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from api.schemas import ActionCreate, FlowSimulate, StatedEvent, TicketCreate
from ticketflow.domain import ActionKind, Channel, EventKind, Priority, TicketStatus, WaitEvent
from ticketflow.flows.model import ACTIONS as STEP_ACTIONS
from ticketflow.infra.settings import ROOT
from ticketflow.tickets import lifecycle

SCHEMA = json.loads((ROOT / "flows" / "schema.json").read_text())
DOCS = ROOT / "docs"
CONTROL = {"id", "if", "else", "jump_to", "switch", "on_timeout"}  # step keys that are not actions


def values(enum: type) -> list[str]:
    return [member.value for member in enum]


def test_the_flows_schema_lists_the_same_words() -> None:
    step = SCHEMA["$defs"]["step"]["properties"]
    assert step["wait"]["properties"]["event"]["enum"] == values(WaitEvent)
    assert SCHEMA["$defs"]["priority"]["enum"] == values(Priority)
    assert set(step) - CONTROL == set(STEP_ACTIONS)


def test_the_state_machine_covers_every_status_and_only_known_actions() -> None:
    assert set(lifecycle.ALLOWED) == set(TicketStatus)
    assert set(lifecycle.ACTIONS) == set(ActionKind)
    assert set().union(*lifecycle.ALLOWED.values()) == set(ActionKind)
    assert lifecycle.allowed("resolved") == ["close", "comment", "customer_reply", "merge", "reopen"]
    assert all(type(a) is str for a in lifecycle.allowed("assigned"))  # plain text over the wire


def test_http_schemas_take_the_enums_values() -> None:
    for model, enum in ((ActionCreate, ActionKind), (ActionCreate, Priority),
                        (StatedEvent, WaitEvent), (TicketCreate, Channel)):
        assert model.model_json_schema()["$defs"][enum.__name__]["enum"] == values(enum)
    # The parsed JSON body reaches strict models as Python data: values, not enum instances.
    body = ActionCreate.model_validate({"action": "customer_reply", "priority": "high"})
    assert (body.action, body.priority) == (ActionKind.CUSTOMER_REPLY, Priority.HIGH)
    assert body.model_dump(mode="json")["action"] == "customer_reply"
    ticket = TicketCreate.model_validate({"user_id": "u", "subject": "s", "content": "c",
                                          "channel": "chat"})
    assert ticket.model_dump(mode="json")["channel"] == "chat"
    assert FlowSimulate.model_validate({"ticket": {}, "events": [{"event": "assigned"}]}
                                       ).events[0].event is WaitEvent.ASSIGNED


@pytest.mark.parametrize("bad", [{"action": "fly"}, {"action": 1}, {"action": None},
                                 {"action": "reply", "priority": "asap"}])
def test_http_schemas_refuse_other_words(bad: dict) -> None:
    with pytest.raises(ValidationError):
        ActionCreate.model_validate(bad)


def test_the_docs_list_the_same_words() -> None:
    lifecycle_md = (DOCS / "lifecycle.md").read_text()
    for header, enum in (("| state | meaning | allowed actions |", TicketStatus),
                         ("| action | by | effect |", ActionKind),
                         ("| event | recorded when | data |", EventKind)):
        assert sorted(_table_column(lifecycle_md, header)) == sorted(enum), header
    listed = re.search(r"Events a `wait` can name: ((?:`\w+`(?:, )?)+)", (DOCS / "flows.md").read_text())
    assert listed is not None
    assert re.findall(r"`(\w+)`", listed.group(1)) == values(WaitEvent)


def _table_column(markdown: str, header: str) -> list[str]:
    """The first column of the table under ``header``, without its backticks."""
    column = []
    for line in markdown.split(header, 1)[1].splitlines()[2:]:  # past the |---| line
        if not line.startswith("|"):
            break
        column.append(line.split("|")[1].strip().strip("`"))
    return column
