"""``ticketflow flows simulate``: the HTTP simulator's body and answer, on the command line.

The body is ``POST /api/flows/simulate``'s (``ticketflow.flows.simulation``). The CLI tags in
process, with the worker's taxonomy and model, and reads the agents from the database of the
running stack when it answers within a moment; otherwise the outcome says they are unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from ticketflow.assignment.policy import AgentState
from ticketflow.domain import Tagging
from ticketflow.errors import InvalidParams
from ticketflow.flows.config import FlowConfig
from ticketflow.flows.simulate import find_plan
from ticketflow.flows.simulation import FlowSimulate, parse_body, run
from ticketflow.infra.settings import Settings

AUTO = "auto"  # the flow name that means "select as the worker would"
CONNECT_TIMEOUT_SECONDS = 2
AGENTS_TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class Agents:
    """The online agents, or why they are unknown."""

    online: list[AgentState] | None
    unknown_because: str = ""


def body_from(*, body: str | None, ticket: str | None, flow: str | None,
              stdin: TextIO) -> FlowSimulate:
    """The body of ``--body FILE`` (``-``: stdin), or of ``--ticket FILE`` (a ticket, or a
    whole body); a flow name other than ``auto`` sets the body's ``flow``."""
    if (body is None) == (ticket is None):
        raise ValueError("give --body FILE or --ticket FILE")
    source = str(body if body is not None else ticket)
    text = stdin.read() if source == "-" else Path(source).read_text()
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidParams([{"field": "body", "message": "malformed JSON"}]) from None
    if ticket is not None and not (isinstance(data, dict) and "ticket" in data):
        data = {"ticket": data}  # a bare ticket
    if flow not in (None, AUTO) and isinstance(data, dict) and data.setdefault("flow", flow) != flow:
        raise InvalidParams([{"field": "flow",
                              "message": f"the body names {data['flow']!r}, the command {flow!r}"}])
    return parse_body(data)


def tag_in_process(settings: Settings, config: FlowConfig, subject: str, content: str) -> Tagging:
    """What the worker's ``tag`` activity gives: the same taxonomy, model and threshold."""
    from ticketflow.tagging import artefacts, tagger

    model = artefacts.current(settings.intent_model)
    return tagger.tag(subject, content, config.taxonomy, model, settings.intent_min_confidence)


def read_agents(settings: Settings) -> Agents:
    """The online agents in the running stack's database, or why they are unknown."""
    return asyncio.run(_read_agents(settings.with_local_services()))


async def _read_agents(settings: Settings) -> Agents:
    from ticketflow.db import repository
    from ticketflow.db.engine import make_engine, make_session_factory
    from ticketflow.flows.simulation import online_agents

    engine = make_engine(settings.database_url, pool_size=1, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(AGENTS_TIMEOUT_SECONDS), make_session_factory(engine)() as session:
            return Agents(online_agents(await repository.list_agents(session, online_only=True)))
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = next((line for line in str(cause).splitlines() if line.strip()), type(exc).__name__)
        return Agents(None, f"the stack's database could not be read ({first.strip()})")
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                await engine.dispose()


def simulate(settings: Settings, config: FlowConfig, body: FlowSimulate) -> tuple[dict[str, Any], str]:
    """The answer, as the API gives it, and a note for stderr ("" when there is none)."""
    if body.flow:
        find_plan(config.plans, body.flow)  # an unknown name, before any work
    tagged = None if body.nlp else tag_in_process(settings, config, body.ticket.subject,
                                                  body.ticket.content)
    agents = read_agents(settings)
    note = f"agents unknown: {agents.unknown_because}" if agents.online is None else ""
    return run(config.plans, body, tagged=tagged, agents=agents.online,
               calendars=config.calendars).to_dict(), note
